package io.cohortflow.ingest.functions;

import io.cohortflow.core.event.EventType;
import io.cohortflow.core.event.UnifiedEvent;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.ProcessFunctionTestHarnesses;
import org.junit.jupiter.api.Test;

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
    void forgetsAMessageIdOnceTheWindowHasPassed() throws Exception {
        try (var harness = harness(Duration.ofMinutes(10))) {
            harness.setStateTtlProcessingTime(0);
            harness.processElement(event("m1", "web", HOUR), HOUR);
            harness.setStateTtlProcessingTime(Duration.ofMinutes(11).toMillis());
            harness.processElement(event("m1", "web", HOUR), HOUR);
            assertThat(harness.extractOutputValues()).hasSize(2);
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
        var harness = ProcessFunctionTestHarnesses.forKeyedBroadcastProcessFunction(
                new DedupeFunction(window, Duration.ofHours(1)), IdentityKeys::forEvent, Types.STRING,
                io.cohortflow.ingest.privacy.Suppress.SUPPRESSED);
        harness.processBroadcastWatermark(Long.MAX_VALUE); // as in the job: the requests never hold time back
        return harness;
    }

    static UnifiedEvent event(String messageId, String source, long timestamp) {
        return new UnifiedEvent(messageId, EventType.TRACK, "product_view", "anon", null, "anon", timestamp, null,
                timestamp, source, null, Map.of(), Map.of(), Map.of());
    }
}
