package io.cohortflow.segmentation.functions;

import io.cohortflow.core.event.EventTaxonomy;
import io.cohortflow.core.event.EventType;
import io.cohortflow.core.event.UnifiedEvent;
import io.cohortflow.core.feature.FeatureConfig;
import io.cohortflow.core.identity.IdentityMerge;
import io.cohortflow.core.scoring.Scorer;
import io.cohortflow.core.segment.ChangeType;
import io.cohortflow.core.segment.SegmentChange;
import io.cohortflow.core.segment.SegmentDefinition;
import io.cohortflow.core.segment.SegmentProfile;
import io.cohortflow.core.segment.SegmentRules;
import io.cohortflow.core.segment.StateHandoff;
import io.cohortflow.segmentation.input.SegmentationInput;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedBroadcastOperatorTestHarness;
import org.apache.flink.streaming.util.ProcessFunctionTestHarnesses;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.groups.Tuple.tuple;

class SegmentFunctionTest {
    private static final long T0 = Instant.parse("2026-03-02T10:00:00Z").toEpochMilli();
    private static final long MIN = 60_000L;
    private static final long HOUR = 60 * MIN;
    private static final long DAY = 24 * HOUR;

    private KeyedBroadcastOperatorTestHarness<String, SegmentationInput, SegmentDefinition, SegmentChange> harness;
    private int seq;

    @BeforeEach
    void setUp() throws Exception {
        harness = newHarness();
    }

    private static KeyedBroadcastOperatorTestHarness<String, SegmentationInput, SegmentDefinition, SegmentChange>
            newHarness() throws Exception {
        SegmentFunction fn = new SegmentFunction(FeatureConfig.defaults(),
                EventTaxonomy.defaults().canonicalNames().stream().sorted().toList(), SegmentRules.defaults(),
                Scorer.NONE, Duration.ofDays(90));
        var created = ProcessFunctionTestHarnesses.forKeyedBroadcastProcessFunction(fn, SegmentationInput::key,
                Types.STRING, SegmentFunction.DEFINITIONS);
        // As in the job: the definitions input never holds the event-time clock back.
        created.processBroadcastWatermark(Long.MAX_VALUE);
        return created;
    }

    @AfterEach
    void tearDown() throws Exception {
        harness.close();
    }

    @Test
    void theSeedStoryEntersHighIntentFootwearThenLeavesByTimeAlone() throws Exception {
        send(track("anon_123xyz", "page_view", T0, Map.of()));
        send(track("anon_123xyz", "product_search", T0 + MIN, Map.of("query", "trail running shoes")));
        send(track("anon_123xyz", "product_view", T0 + 2 * MIN, Map.of("category", "Men's Running Shoes")));
        send(track("anon_123xyz", "add_to_cart", T0 + 4 * MIN, Map.of("category", "Men's Running Shoes")));
        harness.processWatermark(T0 + 4 * MIN - 1);
        assertThat(changes()).as("nothing before the watermark passes the third action").isEmpty();

        harness.processWatermark(T0 + 4 * MIN);
        assertThat(changes()).extracting(SegmentChange::segmentId, SegmentChange::type, SegmentChange::eventTime)
                .containsExactlyInAnyOrder(tuple("high_intent_1h", ChangeType.ENTER, T0 + 4 * MIN),
                        tuple("high_intent_footwear", ChangeType.ENTER, T0 + 4 * MIN));

        // She leaves. No more events: only the watermark moves.
        harness.processWatermark(T0 + 3 * HOUR);
        assertThat(changes()).extracting(SegmentChange::segmentId, SegmentChange::type, SegmentChange::eventTime)
                .contains(tuple("cart_abandoner", ChangeType.ENTER, T0 + 34 * MIN),
                        // the search's minute leaves the hour at T0+1h+1min: two actions remain
                        tuple("high_intent_1h", ChangeType.EXIT, T0 + HOUR + MIN),
                        tuple("high_intent_footwear", ChangeType.EXIT, T0 + HOUR + MIN));
        assertThat(profiles()).last().satisfies(p -> {
            assertThat(p.userId()).isEqualTo("anon_123xyz");
            assertThat(p.segments()).containsExactly("cart_abandoner");
            assertThat(p.model()).isEqualTo("none");
        });
        SegmentChange enter = changes().get(0);
        assertThat(enter.cause().kind()).isEqualTo("rule");
        assertThat(enter.features()).containsKeys("recency", "frequency_30d", "monetary_value_90d");
        assertThat(enter.changeId()).isEqualTo(SegmentChange.idFor(enter.userId(), enter.segmentId(), enter.type(),
                enter.eventTime(), 0));
        assertThat(changes()).extracting(SegmentChange::changeId).doesNotHaveDuplicates();
    }

    @Test
    void anOrderClosesTheCartAndArrivalOrderDoesNotMatter() throws Exception {
        send(track("u1", "order_completed", T0 + 50 * MIN, Map.of("revenue", 99.0)));
        send(track("u1", "add_to_cart", T0, Map.of()));
        harness.processWatermark(T0 + 2 * HOUR);
        assertThat(changes()).extracting(SegmentChange::segmentId, SegmentChange::type, SegmentChange::eventTime)
                .containsExactly(tuple("cart_abandoner", ChangeType.ENTER, T0 + 30 * MIN),
                        tuple("cart_abandoner", ChangeType.EXIT, T0 + 50 * MIN));
    }

    @Test
    void anEventBehindTheWatermarkIsAppliedAtOnce() throws Exception {
        harness.processWatermark(T0 + 10 * MIN);
        send(track("u1", "product_view", T0, Map.of()));
        send(track("u1", "product_view", T0 + MIN, Map.of()));
        send(track("u1", "product_view", T0 + 2 * MIN, Map.of()));
        assertThat(changes()).extracting(SegmentChange::segmentId, SegmentChange::type)
                .contains(tuple("product_viewer_3x_1h", ChangeType.ENTER));
    }

    @Test
    void aMergeExitsTheAnonymousIdAndHandsItsStateToTheKnownUser() throws Exception {
        send(track("anon_123xyz", "product_view", T0, Map.of("category", "Men's Running Shoes")));
        send(track("anon_123xyz", "add_to_cart", T0 + MIN, Map.of("category", "Men's Running Shoes")));
        harness.processWatermark(T0 + HOUR);
        assertThat(changes()).extracting(SegmentChange::userId, SegmentChange::segmentId, SegmentChange::type)
                .containsExactly(tuple("anon_123xyz", "cart_abandoner", ChangeType.ENTER));

        harness.processElement(new StreamRecord<>(SegmentationInput.of(new IdentityMerge("anon_123xyz", "user_jane",
                IdentityMerge.Status.MERGED, "identify", "m-id", T0 + DAY, 1))));
        assertThat(harness.getSideOutput(SegmentFunction.HANDOFFS)).as("the merge waits for the watermark").isNull();
        harness.processWatermark(T0 + DAY);
        assertThat(changes()).extracting(SegmentChange::userId, SegmentChange::segmentId, SegmentChange::type)
                .last().isEqualTo(tuple("anon_123xyz", "cart_abandoner", ChangeType.EXIT));
        List<StateHandoff> handoffs = harness.getSideOutput(SegmentFunction.HANDOFFS).stream().map(StreamRecord::getValue).toList();
        assertThat(handoffs).singleElement().satisfies(h -> assertThat(h.toId()).isEqualTo("user_jane"));

        // The handoff comes back (through Kafka in the job) at the known user: her profile carries the cart.
        harness.processElement(new StreamRecord<>(SegmentationInput.of(handoffs.get(0))));
        SegmentProfile jane = profiles().stream().filter(p -> p.userId().equals("user_jane")).reduce((a, b) -> b).orElseThrow();
        assertThat(jane.segments()).contains("cart_abandoner");
        assertThat(changes()).extracting(SegmentChange::userId, SegmentChange::segmentId, SegmentChange::type)
                .last().isEqualTo(tuple("user_jane", "cart_abandoner", ChangeType.ENTER));

        // A straggler of the merged id follows her.
        send(track("anon_123xyz", "product_view", T0 + DAY + MIN, Map.of()));
        assertThat(harness.getSideOutput(SegmentFunction.HANDOFFS)).hasSize(2);
    }

    @Test
    void definitionsReloadWithoutRedeployAndAnInvalidOneLeavesTheRunningSet() throws Exception {
        harness.processBroadcastElement(new SegmentDefinition("vip", "VIP", "monetary_value_90d >= 100.0", null, false), 0);
        harness.processBroadcastElement(new SegmentDefinition("frequent_visitor", "broken", "frequency_30d >>> 2", null, false), 0);
        send(track("u1", "order_completed", T0, Map.of("revenue", 150.0)));
        harness.processWatermark(T0);
        assertThat(changes()).extracting(SegmentChange::segmentId).containsExactly("vip");

        harness.processBroadcastElement(SegmentDefinition.tombstone("vip"), 0);
        send(track("u1", "page_view", T0 + MIN, Map.of()));
        harness.processWatermark(T0 + MIN);
        assertThat(changes()).extracting(SegmentChange::segmentId, SegmentChange::type)
                .containsExactly(tuple("vip", ChangeType.ENTER), tuple("vip", ChangeType.EXIT));
    }

    @Test
    void definitionsFromTheTopicSurviveARestore() throws Exception {
        harness.processBroadcastElement(new SegmentDefinition("vip", "VIP", "monetary_value_90d >= 100.0", null, false), 0);
        var snapshot = harness.snapshot(1L, 1L);
        harness.close();

        SegmentFunction fn = new SegmentFunction(FeatureConfig.defaults(),
                EventTaxonomy.defaults().canonicalNames().stream().sorted().toList(), SegmentRules.defaults(),
                Scorer.NONE, Duration.ofDays(90));
        harness = new KeyedBroadcastOperatorTestHarness<>(
                new org.apache.flink.streaming.api.operators.co.CoBroadcastWithKeyedOperator<>(fn,
                        List.of(SegmentFunction.DEFINITIONS)), SegmentationInput::key, Types.STRING, 1, 1, 0);
        harness.setup();
        harness.initializeState(snapshot);
        harness.open();
        harness.processBroadcastWatermark(Long.MAX_VALUE);
        send(track("u1", "order_completed", T0, Map.of("revenue", 150.0)));
        harness.processWatermark(T0);
        assertThat(changes()).extracting(SegmentChange::segmentId).containsExactly("vip");
    }

    @Test
    void everythingIsClearedAfterTheLongestWindowOnceTheUserIsInNoSegment() throws Exception {
        send(track("u1", "add_to_cart", T0, Map.of()));
        send(track("u1", "product_view", T0, Map.of()));
        harness.processWatermark(T0 + HOUR);
        assertThat(keyedStateEntries()).isPositive();
        harness.processWatermark(T0 + 91 * DAY);
        assertThat(changes()).extracting(SegmentChange::type).last().isEqualTo(ChangeType.EXIT);
        assertThat(keyedStateEntries()).as("state after 90 days of silence").isZero();
        assertThat(harness.numEventTimeTimers()).isZero();
    }

    private int keyedStateEntries() {
        var operator = (org.apache.flink.streaming.api.operators.AbstractStreamOperator<?>) harness.getOperator();
        return ((org.apache.flink.runtime.state.heap.HeapKeyedStateBackend<?>) operator.getKeyedStateBackend())
                .numKeyValueStateEntries();
    }

    private void send(UnifiedEvent event) throws Exception {
        harness.processElement(new StreamRecord<>(SegmentationInput.of(event), event.timestamp()));
    }

    private UnifiedEvent track(String user, String event, long t, Map<String, Object> properties) {
        return new UnifiedEvent("m" + seq++, EventType.TRACK, event, user.startsWith("anon") ? user : null,
                user.startsWith("anon") ? null : user, user, t, null, t, "web", null, properties, Map.of(), Map.of());
    }

    private List<SegmentChange> changes() {
        return harness.extractOutputValues();
    }

    private List<SegmentProfile> profiles() {
        return harness.getSideOutput(SegmentFunction.PROFILES).stream().map(StreamRecord::getValue).toList();
    }
}
