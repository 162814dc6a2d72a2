package io.cohortflow.ingest.functions;

import io.cohortflow.core.event.EventType;
import io.cohortflow.core.event.UnifiedEvent;
import io.cohortflow.core.identity.IdentityLink;
import io.cohortflow.core.identity.IdentityMerge;
import io.cohortflow.core.privacy.PrivacyRequest;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.operators.co.KeyedCoProcessOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedTwoInputStreamOperatorTestHarness;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class IdentityFunctionsTest {
    private KeyedTwoInputStreamOperatorTestHarness<String, UnifiedEvent, IdentityMerge, UnifiedEvent> stitch;
    private long clock = 1_000;

    @BeforeEach
    void setUp() throws Exception {
        stitch = new KeyedTwoInputStreamOperatorTestHarness<>(
                new KeyedCoProcessOperator<>(new IdentityStitchFunction(Duration.ofDays(400))),
                IdentityKeys::forEvent, merge -> IdentityKeys.forDevice(merge.fromId()), Types.STRING);
        stitch.open();
    }

    @AfterEach
    void tearDown() throws Exception {
        stitch.close();
    }

    @Test
    void anonymousHistoryStaysAnonymousAndLaterDeviceEventsResolveToTheKnownUser() throws Exception {
        send(call(EventType.TRACK, "product_view", "anon_123xyz", null));
        send(call(EventType.IDENTIFY, null, "anon_123xyz", "user_jane"));
        send(call(EventType.TRACK, "add_to_cart", "anon_123xyz", null));

        assertThat(resolvedIds()).containsExactly("anon_123xyz", "user_jane", "user_jane");
        assertThat(linkRequests()).singleElement().satisfies(m -> {
            assertThat(m.fromId()).isEqualTo("anon_123xyz");
            assertThat(m.toId()).isEqualTo("user_jane");
            assertThat(m.trigger()).isEqualTo("identify");
        });
        // In-band: the device's marker is its last record, then the linking event, annotated, goes to the user.
        List<UnifiedEvent> out = stitch.extractOutputValues();
        String linkId = linkRequests().get(0).messageId();
        assertThat(out).extracting(UnifiedEvent::resolvedId, e -> IdentityLink.of(e).orElse(null)).containsExactly(
                org.assertj.core.groups.Tuple.tuple("anon_123xyz", null),
                org.assertj.core.groups.Tuple.tuple("anon_123xyz", new IdentityLink("anon_123xyz", "user_jane", linkId, true)),
                org.assertj.core.groups.Tuple.tuple("user_jane", new IdentityLink("anon_123xyz", "user_jane", linkId, false)),
                org.assertj.core.groups.Tuple.tuple("user_jane", null));
    }

    @Test
    void severalDevicesMapToOneUserAndALinkIsRequestedOncePerDevice() throws Exception {
        send(call(EventType.IDENTIFY, null, "laptop", "u1"));
        send(call(EventType.TRACK, "page_view", "laptop", "u1"));
        send(call(EventType.TRACK, "page_view", "phone", "u1"));   // any event with both ids links
        send(call(EventType.TRACK, "page_view", "phone", null));
        send(call(EventType.TRACK, "page_view", "u-only-device", null));

        assertThat(resolvedIds()).containsExactly("u1", "u1", "u1", "u1", "u-only-device");
        assertThat(linkRequests()).extracting(IdentityMerge::fromId, IdentityMerge::trigger)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("laptop", "identify"),
                        org.assertj.core.groups.Tuple.tuple("phone", "event"));
    }

    @Test
    void anAliasOfAnIdToItselfLinksNothing() throws Exception {
        send(new UnifiedEvent("m-self", EventType.ALIAS, null, null, "u1", "u1", clock, null, clock, "server", "u1",
                Map.of(), Map.of(), Map.of()));
        assertThat(resolvedIds()).containsExactly("u1");
        assertThat(stitch.getSideOutput(IdentityStitchFunction.LINK_REQUESTS)).as("no link requested").isNull();
    }

    @Test
    void aliasLinksThePreviousIdAndItsDeviceTrafficFollows() throws Exception {
        UnifiedEvent alias = new UnifiedEvent("m-alias", EventType.ALIAS, null, null, "u_new", "u_new", clock, null,
                clock, "server", "anon_old", Map.of(), Map.of(), Map.of());
        send(alias);
        send(call(EventType.TRACK, "page_view", "anon_old", null));
        assertThat(resolvedIds()).containsExactly("u_new", "u_new");
        assertThat(linkRequests()).singleElement().satisfies(m -> {
            assertThat(m.fromId()).isEqualTo("anon_old");
            assertThat(m.trigger()).isEqualTo("alias");
        });
    }

    @Test
    void aRefusedLinkStopsResolvingAndIsNotRequestedAgain() throws Exception {
        send(call(EventType.IDENTIFY, null, "kiosk", "u1"));
        stitch.processElement2(new StreamRecord<>(new IdentityMerge("kiosk", "u1", IdentityMerge.Status.REJECTED_CAP,
                "identify", "m", clock, 100), clock));
        send(call(EventType.TRACK, "page_view", "kiosk", null));
        send(call(EventType.IDENTIFY, null, "kiosk", "u1"));
        assertThat(resolvedIds()).containsExactly("u1", "kiosk", "u1");
        assertThat(linkRequests()).hasSize(1);
    }

    /** A privacy request naming the device (dedupe's in-band marker): its link and refusal are forgotten. */
    @Test
    void aForgetMarkerClearsTheDevicesLinkAndIsNotEmitted() throws Exception {
        send(call(EventType.IDENTIFY, null, "phone", "u1"));
        send(call(EventType.TRACK, "page_view", "phone", null));
        int before = stitch.extractOutputValues().size();
        List<UnifiedEvent> markers = new java.util.ArrayList<>();
        io.cohortflow.ingest.privacy.ForgetMarker.emit(new PrivacyRequest("req-1", PrivacyRequest.Type.DELETE,
                List.of("phone"), clock, "dpo"), new org.apache.flink.api.common.TaskInfoImpl("stitch", 128, 0, 1, 0),
                new org.apache.flink.api.common.functions.util.ListCollector<>(markers));
        assertThat(markers).singleElement().satisfies(m -> assertThat(IdentityKeys.forEvent(m)).isEqualTo("a:phone"));
        send(markers.get(0));
        assertThat(stitch.extractOutputValues()).as("nothing emitted for the marker").hasSize(before);
        send(call(EventType.TRACK, "page_view", "phone", null));
        assertThat(resolvedIds()).as("after it the device is itself again").containsExactly("u1", "u1", "phone");
    }

    @Test
    void theCapAcceptsUpToItsLimitReportsTheOverflowAndDecidesEveryRequest() throws Exception {
        try (var cap = cap()) {
            for (String device : List.of("d1", "d2", "d1", "d3")) {
                cap.processElement1(new IdentityMerge(device, "u1", IdentityMerge.Status.MERGED, "identify", "m-" + device,
                        1L, 0), 1L);
            }
            assertThat(cap.extractOutputValues()).extracting(IdentityMerge::fromId, IdentityMerge::status,
                    IdentityMerge::linkedIds).containsExactly(
                    org.assertj.core.groups.Tuple.tuple("d1", IdentityMerge.Status.MERGED, 1),
                    org.assertj.core.groups.Tuple.tuple("d2", IdentityMerge.Status.MERGED, 2),
                    org.assertj.core.groups.Tuple.tuple("d1", IdentityMerge.Status.MERGED, 2), // linked before: again
                    org.assertj.core.groups.Tuple.tuple("d3", IdentityMerge.Status.REJECTED_CAP, 2));
        }
    }

    /**
     * A privacy request naming a user with linked devices gets a follow-up naming them (the one place that knows a
     * person's devices); a request that deletes clears the user's list, one that only suppresses keeps it. A
     * follow-up, or a user with no devices, gets nothing more.
     */
    @Test
    void aPrivacyRequestForAUserWithDevicesGetsAFollowUpNamingThem() throws Exception {
        try (var cap = cap()) {
            for (String device : List.of("d2", "d1")) {
                cap.processElement1(new IdentityMerge(device, "u1", IdentityMerge.Status.MERGED, "identify", "m-" + device,
                        1L, 0), 1L);
            }
            PrivacyRequest suppress = new PrivacyRequest("req-1", PrivacyRequest.Type.SUPPRESS, List.of("u1"), 5L, "dpo");
            cap.processElement2(new StreamRecord<>(suppress, 2L));
            PrivacyRequest delete = new PrivacyRequest("req-2", PrivacyRequest.Type.SUPPRESS_WITH_DELETE, List.of("u1"),
                    6L, "dpo");
            cap.processElement2(new StreamRecord<>(delete, 3L));
            cap.processElement2(new StreamRecord<>(delete, 4L)); // again: the list is gone
            cap.processElement2(new StreamRecord<>(new PrivacyRequest("req-3", PrivacyRequest.Type.DELETE,
                    List.of("nobody"), 7L, "dpo"), 5L));

            List<PrivacyRequest> followUps = cap.getSideOutput(IdentityCapFunction.LINKED_DEVICES).stream()
                    .map(StreamRecord::getValue).toList();
            assertThat(followUps).extracting(PrivacyRequest::origin, PrivacyRequest::type, PrivacyRequest::ids,
                    PrivacyRequest::requestedAt).containsExactly(
                    org.assertj.core.groups.Tuple.tuple("req-1", PrivacyRequest.Type.SUPPRESS, List.of("d1", "d2"), 5L),
                    org.assertj.core.groups.Tuple.tuple("req-2", PrivacyRequest.Type.SUPPRESS_WITH_DELETE,
                            List.of("d1", "d2"), 6L));
            assertThat(followUps.get(0).requestId()).startsWith("linked-")
                    .isNotEqualTo(followUps.get(1).requestId())
                    .isEqualTo(PrivacyRequest.forLinkedDevices(suppress, "u1", List.of("d1")).requestId());
            assertThat(followUps.get(0).requester()).doesNotContain("u1", "d1");
            // A follow-up is a request like any other on the topic: it reads back the same.
            var codec = new io.cohortflow.core.privacy.PrivacyRequestCodec();
            assertThat(codec.decode(codec.encode(followUps.get(1)))).isEqualTo(followUps.get(1));
            assertThat(codec.decode(codec.encode(suppress))).isEqualTo(suppress);
        }
    }

    private static KeyedTwoInputStreamOperatorTestHarness<String, IdentityMerge, PrivacyRequest, IdentityMerge> cap()
            throws Exception {
        var cap = new KeyedTwoInputStreamOperatorTestHarness<>(
                new KeyedCoProcessOperator<>(new IdentityCapFunction(2, Duration.ofDays(1))),
                IdentityMerge::toId, (PrivacyRequest r) -> r.ids().get(0), Types.STRING);
        cap.open();
        return cap;
    }

    /**
     * A device's link, and a refused one, leave the heap when their time to live has passed with no new write: a timer
     * set at each write reads them on the hour after, and the read drops what expired (the state has no incremental
     * cleanup, whose walks were a third of this task's time). A link written again in between lives on.
     */
    @Test
    void expiredLinksLeaveTheStateAtTheirTimerAndALinkWrittenAgainStays() throws Exception {
        long hour = Duration.ofHours(1).toMillis();
        var twoHours = new KeyedTwoInputStreamOperatorTestHarness<>(
                new KeyedCoProcessOperator<>(new IdentityStitchFunction(Duration.ofHours(2))),
                IdentityKeys::forEvent, (IdentityMerge merge) -> IdentityKeys.forDevice(merge.fromId()), Types.STRING);
        try (twoHours) {
            twoHours.open();
            twoHours.setProcessingTime(0);
            twoHours.setStateTtlProcessingTime(0);
            twoHours.processElement1(new StreamRecord<>(call(EventType.IDENTIFY, null, "laptop", "u1"), clock));
            twoHours.processElement1(new StreamRecord<>(call(EventType.IDENTIFY, null, "phone", "u2"), clock));
            twoHours.processElement2(new StreamRecord<>(new IdentityMerge("kiosk", "u3",
                    IdentityMerge.Status.REJECTED_CAP, "identify", "m-kiosk", clock, 3), clock));
            assertThat(twoHours.numKeyedStateEntries()).isEqualTo(3);

            twoHours.setProcessingTime(90 * 60_000L); // the phone logs in as someone else: written again
            twoHours.setStateTtlProcessingTime(90 * 60_000L);
            twoHours.processElement1(new StreamRecord<>(call(EventType.IDENTIFY, null, "phone", "u4"), clock));
            assertThat(twoHours.numKeyedStateEntries()).isEqualTo(3);

            twoHours.setStateTtlProcessingTime(3 * hour);
            twoHours.setProcessingTime(3 * hour); // the first writes' timers: laptop and kiosk expired, phone not
            assertThat(twoHours.numKeyedStateEntries()).as("the phone's link, written at 1:30").isEqualTo(1);
            twoHours.setStateTtlProcessingTime(4 * hour);
            twoHours.setProcessingTime(4 * hour);
            assertThat(twoHours.numKeyedStateEntries()).isZero();
        }
    }

    private void send(UnifiedEvent event) throws Exception {
        stitch.processElement1(new StreamRecord<>(event, event.timestamp()));
    }

    private UnifiedEvent call(EventType type, String event, String anonymousId, String userId) {
        clock += 1_000;
        return new UnifiedEvent("m" + clock, type, event, anonymousId, userId, userId != null ? userId : anonymousId,
                clock, null, clock, "web", null, Map.of(), Map.of(), Map.of());
    }

    private List<String> resolvedIds() {
        return stitch.extractOutputValues().stream().filter(e -> !IdentityLink.isMarker(e))
                .map(UnifiedEvent::resolvedId).toList();
    }

    private List<IdentityMerge> linkRequests() {
        return stitch.getSideOutput(IdentityStitchFunction.LINK_REQUESTS).stream().map(StreamRecord::getValue).toList();
    }
}
