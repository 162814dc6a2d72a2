package io.cohortflow.ingest.functions;

import io.cohortflow.core.event.EventType;
import io.cohortflow.core.event.UnifiedEvent;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.util.Collector;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.time.Duration;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class DedupeFunctionTest {
    private static final long HOUR = 3_600_000L;

    @Test
    void dropsRedeliveriesOfAMessageIdWithinTheWindowButNotTheSameIdFromAnotherSource() throws Exception {
        try (var harness = harness(Duration.ofDays(7))) {
            harness.processElement(event("m1", "web", 10 * HOUR), 10 * HOUR);
            harness.processElement(event("m1", "web", 10 * HOUR), 10 * HOUR);
            harness.processElement(event("m1", "stripe", 10 * HOUR), 10 * HOUR);
            assertThat(harness.extractOutputValues()).extracting(UnifiedEvent::source).containsExactly("web", "stripe");
        }
    }

    @Test
    void forgetsAMessageIdOnceTheWindowHasPassedSinceItWasFirstSeen() throws Exception {
        long minute = 60_000L;
        try (var harness = harness(Duration.ofMinutes(10))) {
            harness.setProcessingTime(0);
            harness.processElement(event("m1", "web", HOUR), HOUR);
            harness.setProcessingTime(5 * minute);
            harness.processElement(event("m2", "web", HOUR), HOUR);
            harness.setProcessingTime(10 * minute - 1);
            harness.processElement(event("m1", "web", HOUR), HOUR); // a redelivery, just within the window
            assertThat(harness.extractOutputValues()).extracting(UnifiedEvent::messageId).containsExactly("m1", "m2");

            harness.setProcessingTime(10 * minute); // m1's window has passed, m2's not
            harness.processElement(event("m1", "web", HOUR), HOUR);
            harness.processElement(event("m2", "web", HOUR), HOUR);
            assertThat(harness.extractOutputValues()).extracting(UnifiedEvent::messageId)
                    .containsExactly("m1", "m2", "m1");
        }
    }

    @Test
    void aKeysMessagesAreSweptOnceTheirWindowHasPassed() throws Exception {
        long minute = 60_000L;
        try (var harness = harness(Duration.ofMinutes(10))) {
            harness.setProcessingTime(0);
            harness.processElement(event("m1", "web", HOUR), HOUR);
            harness.setProcessingTime(4 * minute);
            harness.processElement(event("m2", "web", HOUR), HOUR);
            assertThat(harness.numProcessingTimeTimers()).as("one sweep per key").isEqualTo(1);

            harness.setProcessingTime(10 * minute); // m1 goes; m2 is swept at 14 minutes
            assertThat(stateEntries(harness)).isPositive();
            assertThat(harness.numProcessingTimeTimers()).isEqualTo(1);
            harness.setProcessingTime(14 * minute);
            assertThat(stateEntries(harness)).as("nothing left of the key").isZero();
            assertThat(harness.numProcessingTimeTimers()).isZero();
        }
    }

    /** A savepoint of the versions before (messages-seen, TTL'd): its messages are still duplicates after the upgrade. */
    @Test
    void theMessagesSeenBeforeAnUpgradeAreStillRemembered() throws Exception {
        org.apache.flink.runtime.checkpoint.OperatorSubtaskState before;
        try (var old = started(new EarlierDedupe(), "hashmap", null)) {
            old.processElement(event("m1", "web", HOUR), HOUR);
            before = old.snapshot(1, 1);
        }
        try (var upgraded = restored(before, Duration.ofDays(7))) {
            upgraded.processElement(event("m1", "web", HOUR), HOUR);
            upgraded.processElement(event("m2", "web", HOUR), HOUR);
            assertThat(upgraded.extractOutputValues()).extracting(UnifiedEvent::messageId).containsExactly("m2");
        }
    }

    /**
     * A savepoint of the version before (messages-seen-at, with Flink's string serializer): its messages are still
     * duplicates after the upgrade, and those of a key that does not come back go when their sweep, registered by the
     * version before, is due. On the heap, as locally, and on RocksDB, as on k8s.
     */
    @ParameterizedTest
    @ValueSource(strings = {"hashmap", "rocksdb"})
    void theMessagesSeenAtBeforeAnUpgradeAreStillRememberedAndSwept(String backend) throws Exception {
        long minute = 60_000L;
        Duration window = Duration.ofMinutes(10);
        org.apache.flink.runtime.checkpoint.OperatorSubtaskState before;
        try (var old = started(new SeenAtBefore(window), backend, null)) {
            old.setProcessingTime(0);
            old.processElement(event("m1", "web", HOUR), HOUR);
            old.processElement(event("m9", "web", HOUR, "other-device"), HOUR);
            before = old.snapshot(1, 1);
        }
        try (var upgraded = started(new DedupeFunction(window, Duration.ofHours(1)), backend, before)) {
            upgraded.setProcessingTime(5 * minute);
            upgraded.processElement(event("m1", "web", HOUR), HOUR);
            upgraded.processElement(event("m2", "web", HOUR), HOUR);
            assertThat(upgraded.extractOutputValues()).extracting(UnifiedEvent::messageId).containsExactly("m2");
            upgraded.setProcessingTime(10 * minute); // both keys' sweeps: m1 and m9 go, m2 stays until 15 minutes
            assertThat(keysWithState(upgraded)).isEqualTo(1);
            upgraded.setProcessingTime(15 * minute);
            assertThat(keysWithState(upgraded)).as("nothing left of either key").isZero();
            upgraded.processElement(event("m2", "web", HOUR), HOUR); // its window has passed: an event again
            assertThat(upgraded.extractOutputValues()).extracting(UnifiedEvent::messageId).containsExactly("m2", "m2");
        }
    }

    private static org.apache.flink.streaming.util.KeyedBroadcastOperatorTestHarness<String, UnifiedEvent,
            io.cohortflow.core.privacy.PrivacyRequest, UnifiedEvent> harness(
            org.apache.flink.streaming.api.functions.co.KeyedBroadcastProcessFunction<String, UnifiedEvent,
                    io.cohortflow.core.privacy.PrivacyRequest, UnifiedEvent> function, String backend) throws Exception {
        var harness = new org.apache.flink.streaming.util.KeyedBroadcastOperatorTestHarness<>(
                new org.apache.flink.streaming.api.operators.co.CoBroadcastWithKeyedOperator<>(function,
                        java.util.List.of(io.cohortflow.ingest.privacy.Suppress.SUPPRESSED)),
                IdentityKeys::forEvent, Types.STRING, 1, 1, 0);
        if (backend.equals("rocksdb")) {
            harness.setStateBackend(new org.apache.flink.state.rocksdb.EmbeddedRocksDBStateBackend());
        }
        harness.setup();
        return harness;
    }

    /**
     * The state of the versions before is read at every event and is empty once moved: with Flink's default cleanup in
     * the background, every read on the heap backend walked every key group looking for an entry to expire.
     */
    @Test
    void theStateOfTheVersionsBeforeIsNotCleanedUpAtEveryRead() {
        var cleanup = DedupeFunction.earlier(Duration.ofDays(7)).getTtlConfig().getCleanupStrategies();
        assertThat(cleanup.getIncrementalCleanupStrategy()).isNull();
        assertThat(cleanup.inFullSnapshot()).isTrue();
        assertThat(cleanup.inRocksdbCompactFilter()).isTrue();
    }

    private static org.apache.flink.streaming.util.KeyedBroadcastOperatorTestHarness<String, UnifiedEvent,
            io.cohortflow.core.privacy.PrivacyRequest, UnifiedEvent> restored(
            org.apache.flink.runtime.checkpoint.OperatorSubtaskState state, Duration window) throws Exception {
        return started(new DedupeFunction(window, Duration.ofHours(1)), "hashmap", state);
    }

    /**
     * {@code function} on {@code backend}, restored from {@code state} unless it is null, open, and its broadcast
     * watermark at the end of time, as in the job: the privacy requests never hold time back.
     */
    private static org.apache.flink.streaming.util.KeyedBroadcastOperatorTestHarness<String, UnifiedEvent,
            io.cohortflow.core.privacy.PrivacyRequest, UnifiedEvent> started(
            org.apache.flink.streaming.api.functions.co.KeyedBroadcastProcessFunction<String, UnifiedEvent,
                    io.cohortflow.core.privacy.PrivacyRequest, UnifiedEvent> function, String backend,
            org.apache.flink.runtime.checkpoint.OperatorSubtaskState state) throws Exception {
        var harness = harness(function, backend);
        if (state != null) {
            harness.initializeState(state);
        }
        harness.open();
        harness.processBroadcastWatermark(Long.MAX_VALUE);
        return harness;
    }

    /** What the version before kept: when each message was first seen, and a sweep per key, as this one does. */
    private static final class SeenAtBefore extends org.apache.flink.streaming.api.functions.co
            .KeyedBroadcastProcessFunction<String, UnifiedEvent, io.cohortflow.core.privacy.PrivacyRequest, UnifiedEvent> {
        private final long window;
        private transient org.apache.flink.api.common.state.MapState<String, Long> seenAt;
        private transient org.apache.flink.api.common.state.ValueState<Long> sweepAt;

        SeenAtBefore(Duration window) {
            this.window = window.toMillis();
        }

        @Override
        public void open(org.apache.flink.api.common.functions.OpenContext context) {
            seenAt = getRuntimeContext().getMapState(new org.apache.flink.api.common.state.MapStateDescriptor<>(
                    "messages-seen-at", Types.STRING, Types.LONG));
            sweepAt = getRuntimeContext().getState(new org.apache.flink.api.common.state.ValueStateDescriptor<>(
                    "messages-sweep-at", Types.LONG));
        }

        @Override
        public void processElement(UnifiedEvent event, ReadOnlyContext ctx, Collector<UnifiedEvent> out)
                throws Exception {
            long now = ctx.timerService().currentProcessingTime();
            seenAt.put(DedupeFunction.messageKey(event), now);
            if (sweepAt.value() == null) {
                sweepAt.update(now + window);
                ctx.timerService().registerProcessingTimeTimer(now + window);
            }
        }

        @Override
        public void processBroadcastElement(io.cohortflow.core.privacy.PrivacyRequest request, Context ctx,
                                            Collector<UnifiedEvent> out) {
        }
    }

    /**
     * How many keys have any of the function's states. (RocksDB's count of all entries still held two in the timers'
     * column family once every timer had fired.)
     */
    private static long keysWithState(org.apache.flink.streaming.util.KeyedBroadcastOperatorTestHarness<?, ?, ?, ?> harness) {
        var backend = harness.getOperator().getKeyedStateBackend();
        return java.util.stream.Stream.of("messages-first-seen", "messages-seen-at", "messages-sweep-at", "messages-seen")
                .flatMap(state -> backend.getKeys(state, org.apache.flink.runtime.state.VoidNamespace.INSTANCE))
                .distinct().count();
    }

    private static int stateEntries(org.apache.flink.streaming.util.KeyedBroadcastOperatorTestHarness<?, ?, ?, ?> harness) {
        return ((org.apache.flink.runtime.state.TestableKeyedStateBackend<?>) harness.getOperator()
                .getKeyedStateBackend()).numKeyValueStateEntries();
    }

    /** What the versions before kept: each message seen, in a TTL'd map state named messages-seen. */
    private static final class EarlierDedupe extends org.apache.flink.streaming.api.functions.co
            .KeyedBroadcastProcessFunction<String, UnifiedEvent, io.cohortflow.core.privacy.PrivacyRequest, UnifiedEvent> {
        private transient org.apache.flink.api.common.state.MapState<String, Boolean> seen;

        @Override
        public void open(org.apache.flink.api.common.functions.OpenContext context) {
            var descriptor = new org.apache.flink.api.common.state.MapStateDescriptor<>("messages-seen", Types.STRING,
                    Types.BOOLEAN);
            descriptor.enableTimeToLive(io.cohortflow.jobs.state.StateTtls.afterWrite(Duration.ofDays(7)));
            seen = getRuntimeContext().getMapState(descriptor);
        }

        @Override
        public void processElement(UnifiedEvent event, ReadOnlyContext ctx, Collector<UnifiedEvent> out)
                throws Exception {
            seen.put(DedupeFunction.messageKey(event), true);
        }

        @Override
        public void processBroadcastElement(io.cohortflow.core.privacy.PrivacyRequest request, Context ctx,
                                            Collector<UnifiedEvent> out) {
        }
    }

    @Test
    void routesEventsOlderThanTheAllowedLatenessToTheLateOutput() throws Exception {
        try (var harness = harness(Duration.ofDays(7))) {
            harness.processWatermark(10 * HOUR);
            harness.processElement(event("in-time", "web", 9 * HOUR + 1), 9 * HOUR + 1);   // within 1h behind
            harness.processElement(event("late", "web", 9 * HOUR - 1), 9 * HOUR - 1);      // beyond
            harness.processElement(event("late", "web", 9 * HOUR - 1), 9 * HOUR - 1);      // and its retry
            assertThat(harness.extractOutputValues()).extracting(UnifiedEvent::messageId).containsExactly("in-time");
            assertThat(harness.getSideOutput(DedupeFunction.LATE)).extracting(StreamRecord::getValue)
                    .extracting(e -> ((UnifiedEvent) e).messageId()).containsExactly("late");
        }
    }

    @Test
    void dropsTheEventsOfSuppressedIdsBeforeRememberingThem() throws Exception {
        try (var harness = harness(Duration.ofDays(7))) {
            harness.processBroadcastElement(new io.cohortflow.core.privacy.PrivacyRequest("r1",
                    io.cohortflow.core.privacy.PrivacyRequest.Type.SUPPRESS, java.util.List.of("anon"), 0, "test"), 0);
            harness.processElement(event("m1", "web", HOUR), HOUR);
            harness.processWatermark(10 * HOUR);
            harness.processElement(event("m2", "web", HOUR), HOUR); // late, and suppressed
            assertThat(harness.extractOutputValues()).as("only the marker telling stitching to forget the device")
                    .singleElement().satisfies(marker -> {
                        assertThat(io.cohortflow.ingest.privacy.ForgetMarker.is(marker)).isTrue();
                        assertThat(IdentityKeys.forEvent(marker)).isEqualTo(IdentityKeys.forDevice("anon"));
                    });
            assertThat(harness.getSideOutput(DedupeFunction.LATE)).as("not routed late either").isNull();
        }
    }

    private static org.apache.flink.streaming.util.KeyedBroadcastOperatorTestHarness<String, UnifiedEvent,
            io.cohortflow.core.privacy.PrivacyRequest, UnifiedEvent> harness(Duration window) throws Exception {
        return started(new DedupeFunction(window, Duration.ofHours(1)), "hashmap", null);
    }

    static UnifiedEvent event(String messageId, String source, long timestamp) {
        return event(messageId, source, timestamp, "anon");
    }

    static UnifiedEvent event(String messageId, String source, long timestamp, String device) {
        return new UnifiedEvent(messageId, EventType.TRACK, "product_view", device, null, device, timestamp, null,
                timestamp, source, null, Map.of(), Map.of(), Map.of());
    }
}
