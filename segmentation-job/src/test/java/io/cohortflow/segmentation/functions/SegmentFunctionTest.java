package io.cohortflow.segmentation.functions;

import io.cohortflow.core.engine.UserSegments;
import io.cohortflow.core.event.EventTaxonomy;
import io.cohortflow.core.event.EventType;
import io.cohortflow.core.event.UnifiedEvent;
import io.cohortflow.core.feature.FeatureConfig;
import io.cohortflow.core.identity.IdentityLink;
import io.cohortflow.core.identity.IdentityMerge;
import io.cohortflow.core.segment.ChangeType;
import io.cohortflow.core.segment.SegmentChange;
import io.cohortflow.core.segment.SegmentDefinition;
import io.cohortflow.core.segment.SegmentProfile;
import io.cohortflow.core.segment.SegmentRules;
import io.cohortflow.core.segment.StateHandoff;
import io.cohortflow.core.feature.FeatureSnapshot;
import io.cohortflow.core.model.ModelManifest;
import io.cohortflow.core.model.ModelPublished;
import io.cohortflow.core.segment.Cause;
import io.cohortflow.registry.ModelRegistry;
import io.cohortflow.segmentation.input.Control;
import io.cohortflow.testkit.KafkaTestSupport;
import io.cohortflow.testkit.Repository;
import org.junit.jupiter.api.io.TempDir;
import java.nio.file.Path;
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

    private KeyedBroadcastOperatorTestHarness<String, SegmentationInput, Control, SegmentChange> harness;
    private int seq;

    @BeforeEach
    void setUp() throws Exception {
        harness = newHarness();
    }

    private static KeyedBroadcastOperatorTestHarness<String, SegmentationInput, Control, SegmentChange>
            newHarness() throws Exception {
        SegmentFunction fn = new SegmentFunction(FeatureConfig.defaults(),
                EventTaxonomy.defaults().canonicalNames().stream().sorted().toList(), SegmentRules.defaults(),
                Scoring.none(), Duration.ofDays(90));
        var created = ProcessFunctionTestHarnesses.forKeyedBroadcastProcessFunction(fn, SegmentationInput::key,
                Types.STRING, SegmentFunction.DEFINITIONS, SegmentFunction.MODELS);
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
        assertThat(changes()).as("on arrival: the watermark has not moved")
                .extracting(SegmentChange::segmentId, SegmentChange::type, SegmentChange::eventTime)
                .containsExactlyInAnyOrder(tuple("high_intent_1h", ChangeType.ENTER, T0 + 4 * MIN),
                        tuple("high_intent_footwear", ChangeType.ENTER, T0 + 4 * MIN));
        assertThat(harness.numEventTimeTimers()).as("one timer per user, at the next wake-up").isEqualTo(1);

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
    void anOrderClosesTheCartBeforeTheWatermarkMoves() throws Exception {
        send(track("u1", "add_to_cart", T0, Map.of()));
        send(track("u1", "order_completed", T0 + 50 * MIN, Map.of("revenue", 99.0)));
        assertThat(changes()).extracting(SegmentChange::segmentId, SegmentChange::type, SegmentChange::eventTime)
                .containsExactly(tuple("cart_abandoner", ChangeType.ENTER, T0 + 30 * MIN),
                        tuple("cart_abandoner", ChangeType.EXIT, T0 + 50 * MIN));
        harness.processWatermark(T0 + 2 * HOUR);
        assertThat(changes()).as("the watermark finds nothing left to do up to there").hasSize(2);
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

        // Her login, as ingest writes it: the device's marker, the linking event on her key, and the decision.
        UnifiedEvent login = new UnifiedEvent("m-id", EventType.IDENTIFY, null, "anon_123xyz", "user_jane",
                "user_jane", T0 + DAY, null, T0 + DAY, "web", null, Map.of(), Map.of(), Map.of());
        send(IdentityLink.marker(login, "anon_123xyz"));
        send(IdentityLink.annotate(login, "anon_123xyz"));
        send(track("user_jane", "page_view", T0 + DAY + MIN, Map.of()));
        assertThat(harness.getSideOutput(SegmentFunction.HANDOFFS)).as("the decision is not known yet").isNull();
        harness.processElement(new StreamRecord<>(SegmentationInput.of(new IdentityMerge("anon_123xyz", "user_jane",
                IdentityMerge.Status.MERGED, "identify", "m-id", T0 + DAY, 1))));
        assertThat(changes()).extracting(SegmentChange::userId, SegmentChange::segmentId, SegmentChange::type)
                .last().isEqualTo(tuple("anon_123xyz", "cart_abandoner", ChangeType.EXIT));
        List<StateHandoff> handoffs = harness.getSideOutput(SegmentFunction.HANDOFFS).stream().map(StreamRecord::getValue).toList();
        assertThat(handoffs).singleElement().satisfies(h -> assertThat(h.toId()).isEqualTo("user_jane"));

        // The handoff comes back (through Kafka in the job) at the known user: folded in right after her login, then
        // the page view she made meanwhile, which waited for it. Her profile carries the cart.
        harness.processElement(new StreamRecord<>(SegmentationInput.of(handoffs.get(0))));
        SegmentProfile jane = profiles().stream().filter(p -> p.userId().equals("user_jane")).reduce((a, b) -> b).orElseThrow();
        assertThat(jane.segments()).contains("cart_abandoner");
        assertThat(changes()).extracting(SegmentChange::userId, SegmentChange::segmentId, SegmentChange::type,
                SegmentChange::eventTime).last().isEqualTo(tuple("user_jane", "cart_abandoner", ChangeType.ENTER, T0 + DAY));

        // A straggler of the merged id follows her.
        send(track("anon_123xyz", "product_view", T0 + DAY + 2 * MIN, Map.of()));
        assertThat(harness.getSideOutput(SegmentFunction.HANDOFFS)).hasSize(2);
    }

    @Test
    void definitionsReloadWithoutRedeployAndAnInvalidOneLeavesTheRunningSet() throws Exception {
        harness.processBroadcastElement(Control.of(new SegmentDefinition("vip", "VIP", "monetary_value_90d >= 100.0", null, false)), 0);
        harness.processBroadcastElement(Control.of(new SegmentDefinition("frequent_visitor", "broken", "frequency_30d >>> 2", null, false)), 0);
        send(track("u1", "order_completed", T0, Map.of("revenue", 150.0)));
        harness.processWatermark(T0);
        assertThat(changes()).extracting(SegmentChange::segmentId).containsExactly("vip");

        harness.processBroadcastElement(Control.of(SegmentDefinition.tombstone("vip")), 0);
        send(track("u1", "page_view", T0 + MIN, Map.of()));
        harness.processWatermark(T0 + MIN);
        assertThat(changes()).extracting(SegmentChange::segmentId, SegmentChange::type)
                .containsExactly(tuple("vip", ChangeType.ENTER), tuple("vip", ChangeType.EXIT));
    }

    @Test
    void aPublishedSegmentTakesItsMembersAtOnceAndADeletedOneLetsThemGo() throws Exception {
        send(track("u1", "order_completed", T0, Map.of("revenue", 150.0)));
        send(track("u2", "order_completed", T0 + MIN, Map.of("revenue", 40.0)));
        send(track("u3", "page_view", T0 + 2 * MIN, Map.of()));
        harness.processWatermark(T0 + 2 * MIN);
        int before = changes().size();

        SegmentDefinition vip = new SegmentDefinition("vip", "VIP", "monetary_value_90d >= 100.0", null, false);
        harness.processBroadcastElement(Control.of(vip), 0);
        List<SegmentChange> published = changes().subList(before, changes().size());
        assertThat(published).as("no event of theirs was needed")
                .extracting(SegmentChange::userId, SegmentChange::segmentId, SegmentChange::type, SegmentChange::eventTime)
                .containsExactly(tuple("u1", "vip", ChangeType.ENTER, T0));
        assertThat(published.get(0).cause()).isEqualTo(Cause.rule("vip", SegmentRules.compile(vip).version()));

        // Edited: 40 now qualifies, so u2 enters; u1 stays (no change for her), and the cause is the new version.
        SegmentDefinition edited = new SegmentDefinition("vip", "VIP", "monetary_value_90d >= 30.0", null, false);
        harness.processBroadcastElement(Control.of(edited), 0);
        assertThat(changes().subList(before + 1, changes().size()))
                .extracting(SegmentChange::userId, SegmentChange::type, c -> c.cause().version())
                .containsExactly(tuple("u2", ChangeType.ENTER, SegmentRules.compile(edited).version()));
        harness.processBroadcastElement(Control.of(edited), 0);
        assertThat(changes()).as("the same definition again changes nothing").hasSize(before + 2);

        harness.processBroadcastElement(Control.of(SegmentDefinition.tombstone("vip")), 0);
        assertThat(changes().subList(before + 2, changes().size()))
                .extracting(SegmentChange::userId, SegmentChange::segmentId, SegmentChange::type, c -> c.cause().kind())
                .containsExactlyInAnyOrder(tuple("u1", "vip", ChangeType.EXIT, "rule"),
                        tuple("u2", "vip", ChangeType.EXIT, "rule"));
        assertThat(harness.numEventTimeTimers()).as("time still drives each user by its one timer").isEqualTo(3);
    }

    @Test
    void definitionsFromTheTopicSurviveARestore() throws Exception {
        harness.processBroadcastElement(Control.of(new SegmentDefinition("vip", "VIP", "monetary_value_90d >= 100.0", null, false)), 0);
        var snapshot = harness.snapshot(1L, 1L);
        harness.close();

        harness = restoredHarness(snapshot);
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
        assertThat(keyedStateEntries()).as("recency and tenure still count after 90 days").isPositive();
        harness.processWatermark(T0 + 366 * DAY);
        assertThat(keyedStateEntries()).as("state after a year of silence").isZero();
        assertThat(harness.numEventTimeTimers()).isZero();
    }

    private int keyedStateEntries() {
        var operator = (org.apache.flink.streaming.api.operators.AbstractStreamOperator<?>) harness.getOperator();
        return ((org.apache.flink.runtime.state.heap.HeapKeyedStateBackend<?>) operator.getKeyedStateBackend())
                .numKeyValueStateEntries();
    }

    @Test
    void aPublishedBundleIsSwappedInAndItsScoresMakePersonaAndChurnSegments(@TempDir Path dir) throws Exception {
        Path registryDir = savedRegistry(dir);
        send(track("u1", "order_completed", T0, Map.of("revenue", 420.0, "items", 3)));
        harness.processWatermark(T0);
        assertThat(changes()).as("no model yet: nothing model-made").noneMatch(c -> c.segmentId().startsWith("persona_")
                || c.segmentId().startsWith("churn_risk")).allMatch(c -> c.model().equals("none"));
        int before = changes().size();

        int profilesBefore = profiles().size();
        harness.processBroadcastElement(Control.of(announce(registryDir, 1)), 0);
        List<SegmentChange> after = changes().subList(before, changes().size());
        assertThat(after).as("the swap rescores u1 at once, as of her own clock").isNotEmpty()
                .allMatch(c -> c.model().equals("bundle@v1") && c.eventTime() == T0);
        assertThat(profiles()).hasSize(profilesBefore + 1);
        // Rescored in the same way as an evaluation at an event: a user with the same inputs, sent after the swap.
        send(track("u1_twin", "order_completed", T0, Map.of("revenue", 420.0, "items", 3)));
        assertThat(profiles().get(profiles().size() - 1).scores())
                .isEqualTo(profiles().get(profilesBefore).scores());
        assertThat(profiles().get(profiles().size() - 1).persona()).isEqualTo(profiles().get(profilesBefore).persona());
        send(track("u1", "page_view", T0 + MIN, Map.of()));
        harness.processWatermark(T0 + MIN);
        assertThat(after).filteredOn(c -> c.segmentId().startsWith("persona_")).singleElement()
                .satisfies(c -> {
                    assertThat(c.type()).isEqualTo(ChangeType.ENTER);
                    assertThat(c.cause()).isEqualTo(new Cause("model", "persona", "bundle@v1"));
                    assertThat(c.segmentId()).isEqualTo(UserSegments.personaSegment(c.segmentName()));
                });
        assertThat(after).filteredOn(c -> c.segmentId().startsWith("churn_risk_")).singleElement()
                .satisfies(c -> assertThat(c.cause().version()).isEqualTo("bundle@v1"));
        assertThat(profiles().get(profiles().size() - 1)).satisfies(p -> {
            assertThat(p.model()).isEqualTo("bundle@v1");
            assertThat(p.scores()).containsKeys("churn", "bundle_propensity");
            assertThat(p.persona()).isNotBlank();
        });

        // Six silent weeks: the timers rescore u1, who drifts into another persona and leaves the first by its name.
        int entered = changes().size();
        harness.processWatermark(T0 + 42 * DAY);
        List<SegmentChange> later = changes().subList(entered, changes().size());
        assertThat(later).filteredOn(c -> c.userId().equals("u1") && c.segmentId().startsWith("persona_")
                        && c.type() == ChangeType.EXIT)
                .singleElement().satisfies(c -> {
                    assertThat(c.segmentName()).isNotEqualTo(c.segmentId());
                    assertThat(UserSegments.personaSegment(c.segmentName())).isEqualTo(c.segmentId());
                });
    }

    @Test
    void aCorruptOrIncompatibleBundleIsRefusedAndThePreviousOneKeepsScoring(@TempDir Path dir) throws Exception {
        Path registryDir = savedRegistry(dir);
        harness.processBroadcastElement(Control.of(announce(registryDir, 1)), 0);
        // v2: the same bundle, then damaged on disk after publication.
        ModelRegistry registry = new ModelRegistry(registryDir.toUri());
        ModelManifest v2 = registry.publish(registry.manifest("bundle", 1), registry.artifacts("bundle", 1));
        Path churn = registryDir.resolve("bundle/versions/" + v2.version() + "/churn.tribuo");
        byte[] bytes = java.nio.file.Files.readAllBytes(churn);
        bytes[100] ^= 0x7f;
        java.nio.file.Files.write(churn, bytes);
        harness.processBroadcastElement(Control.of(announce(registryDir, v2.version())), 0);
        // v3: an announcement whose bundle was trained on other features.
        harness.processBroadcastElement(Control.of(new ModelPublished("bundle", 3, registryDir.toUri().toString(),
                ModelManifest.schemaHash(List.of("recency")), "2026-03-02T10:00:00Z", "test")), 0);

        send(track("u1", "order_completed", T0, Map.of("revenue", 420.0, "items", 3)));
        harness.processWatermark(T0);
        assertThat(changes()).isNotEmpty().allMatch(c -> c.model().equals("bundle@v1"));
    }

    @Test
    void theAcceptedModelSurvivesARestore(@TempDir Path dir) throws Exception {
        harness.processBroadcastElement(Control.of(announce(savedRegistry(dir), 1)), 0);
        var snapshot = harness.snapshot(1L, 1L);
        harness.close();
        harness = restoredHarness(snapshot);
        send(track("u1", "order_completed", T0, Map.of("revenue", 420.0, "items", 3)));
        harness.processWatermark(T0);
        assertThat(changes()).isNotEmpty().allMatch(c -> c.model().equals("bundle@v1"));
    }

    private static KeyedBroadcastOperatorTestHarness<String, SegmentationInput, Control, SegmentChange> restoredHarness(
            org.apache.flink.runtime.checkpoint.OperatorSubtaskState snapshot) throws Exception {
        SegmentFunction fn = new SegmentFunction(FeatureConfig.defaults(),
                EventTaxonomy.defaults().canonicalNames().stream().sorted().toList(), SegmentRules.defaults(),
                Scoring.none(), Duration.ofDays(90));
        var restored = new KeyedBroadcastOperatorTestHarness<>(
                new org.apache.flink.streaming.api.operators.co.CoBroadcastWithKeyedOperator<>(fn,
                        List.of(SegmentFunction.DEFINITIONS, SegmentFunction.MODELS)), SegmentationInput::key,
                Types.STRING, 1, 1, 0);
        restored.setup();
        restored.initializeState(snapshot);
        restored.open();
        restored.processBroadcastWatermark(Long.MAX_VALUE);
        return restored;
    }

    private static ModelPublished announce(Path registry, int version) {
        return new ModelPublished("bundle", version, registry.toUri().toString(),
                ModelManifest.schemaHash(FeatureSnapshot.MODEL_FEATURES), "2026-03-02T10:00:00Z", "test");
    }

    /** A copy of a bundle of the current feature schema (model-registry's fixture). */
    private static Path savedRegistry(Path dir) throws Exception {
        return KafkaTestSupport.copyTree(
                Repository.root().resolve("model-registry/src/test/resources/current-registry"), dir.resolve("registry"));
    }

    @Test
    void anErasureExitsEverySegmentWritesATombstoneAndDropsTheStateAndTimer() throws Exception {
        send(track("anon_123xyz", "product_search", T0 + MIN, Map.of("query", "trail running shoes")));
        send(track("anon_123xyz", "product_view", T0 + 2 * MIN, Map.of("category", "Men's Running Shoes")));
        send(track("anon_123xyz", "add_to_cart", T0 + 4 * MIN, Map.of("category", "Men's Running Shoes")));
        send(track("u_other", "add_to_cart", T0 + 4 * MIN, Map.of()));
        assertThat(harness.numEventTimeTimers()).isEqualTo(2);
        int before = changes().size();

        harness.processElement(new StreamRecord<>(SegmentationInput.erase("req-7", "anon_123xyz", T0 + 2 * HOUR, 2), T0 + HOUR));
        harness.processElement(new StreamRecord<>(SegmentationInput.erase("req-7", "never_seen", T0 + HOUR, 2), T0 + HOUR));

        assertThat(changes().subList(before, changes().size()))
                .extracting(SegmentChange::userId, SegmentChange::segmentId, SegmentChange::type, SegmentChange::cause)
                .containsExactlyInAnyOrder(
                        tuple("anon_123xyz", "high_intent_1h", ChangeType.EXIT, new Cause("privacy", "req-7", null)),
                        tuple("anon_123xyz", "high_intent_footwear", ChangeType.EXIT, new Cause("privacy", "req-7", null)));
        assertThat(profiles()).filteredOn(p -> p.userId().equals("anon_123xyz")).last()
                .satisfies(p -> assertThat(p.isTombstone()).isTrue());
        assertThat(profiles()).last().as("an id with no state here gets a tombstone too: its last profile may be on the "
                + "topic").satisfies(p -> {
                    assertThat(p.userId()).isEqualTo("never_seen");
                    assertThat(p.isTombstone()).isTrue();
                });
        assertThat(harness.numEventTimeTimers()).as("only the other user's timer").isEqualTo(1);
        assertThat(harness.getSideOutput(SegmentFunction.PRIVACY_STATUS)).extracting(StreamRecord::getValue)
                .as("each id reported done, named by its hash only, of the request's two")
                .extracting(r -> r.requestId() + " " + r.stage() + " " + r.part() + " of " + r.parts() + " " + r.state())
                .containsExactly("req-7 SEGMENTATION " + io.cohortflow.core.privacy.PrivacyStatus.idHash("req-7", "anon_123xyz")
                                + " of 2 DONE",
                        "req-7 SEGMENTATION " + io.cohortflow.core.privacy.PrivacyStatus.idHash("req-7", "never_seen") + " of 2 DONE");
        int changesBefore = changes().size();
        harness.processElement(new StreamRecord<>(SegmentationInput.erase("req-8", "anon_123xyz", T0 + HOUR, 1), T0 + HOUR));
        assertThat(changes()).as("erased again: no state is left, no EXIT").hasSize(changesBefore);

        // A handoff of before the erasure (requested at T0+2h), still on its way (a device's two searches), does not
        // bring state back:
        // after it, one search and one view in the hour are two shopping actions, not the three of high intent.
        var device = new io.cohortflow.core.feature.UserFeatures(FeatureConfig.defaults());
        device.add(track("anon_123xyz", "product_search", T0 + 90 * MIN, Map.of()));
        device.add(track("anon_123xyz", "product_search", T0 + 91 * MIN, Map.of()));
        harness.processElement(new StreamRecord<>(SegmentationInput.of(new StateHandoff("anon_old", "anon_123xyz",
                java.util.Base64.getEncoder().encodeToString(device.toBytes()), T0 + 91 * MIN, null)), T0 + HOUR));
        send(track("anon_123xyz", "product_search", T0 + 92 * MIN, Map.of()));
        send(track("anon_123xyz", "product_view", T0 + 93 * MIN, Map.of()));
        assertThat(changes()).as("nothing of the erased handoff counts").hasSize(changesBefore);
        harness.processWatermark(T0 + 3 * HOUR);
        assertThat(changes()).as("time passing finds nothing of her").noneMatch(c -> c.userId().equals("anon_123xyz")
                && c.eventTime() > T0 + 4 * MIN);
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
        var side = harness.getSideOutput(SegmentFunction.PROFILES);
        return side == null ? List.of() : side.stream().map(record -> record.getValue().profile().get()).toList();
    }
}
