package io.cohortflow.segmentation.functions;

import io.cohortflow.core.event.EventType;
import io.cohortflow.core.event.UnifiedEvent;
import io.cohortflow.core.segment.ChangeType;
import io.cohortflow.core.segment.SegmentChange;
import io.cohortflow.core.segment.WindowedCountRule;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.apache.flink.streaming.util.ProcessFunctionTestHarnesses;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class WindowedRuleFunctionTest {
    private static final long T0 = Instant.parse("2026-03-02T10:00:00Z").toEpochMilli();
    private static final long MIN = 60_000L;
    private static final long HOUR = 60 * MIN;

    private KeyedOneInputStreamOperatorTestHarness<String, UnifiedEvent, SegmentChange> harness;
    private int messageSeq;

    @BeforeEach
    void setUp() throws Exception {
        harness = ProcessFunctionTestHarnesses.forKeyedProcessFunction(
                new WindowedRuleFunction(WindowedCountRule.highIntent()), UnifiedEvent::resolvedId, Types.STRING);
    }

    @AfterEach
    void tearDown() throws Exception {
        harness.close();
    }

    @Test
    void entersOnTheThirdIntentActionWithinAnHourOnceTheWatermarkPassesIt() throws Exception {
        send("u1", "product_search", T0);
        send("u1", "page_view", T0 + MIN);       // does not count
        send("u1", "product_view", T0 + 2 * MIN);
        send("u1", "add_to_cart", T0 + 3 * MIN);
        harness.processWatermark(T0 + 3 * MIN - 1);
        assertThat(changes()).as("not before the watermark passes the third action").isEmpty();

        harness.processWatermark(T0 + 3 * MIN);
        assertThat(changes()).singleElement().satisfies(c -> {
            assertThat(c.userId()).isEqualTo("u1");
            assertThat(c.segmentId()).isEqualTo("high_intent_1h");
            assertThat(c.type()).isEqualTo(ChangeType.ENTER);
            assertThat(c.eventTime()).isEqualTo(T0 + 3 * MIN);
            assertThat(c.cause().kind()).isEqualTo("rule");
            assertThat(c.features()).containsEntry("high_intent_1h_count", 3.0);
            assertThat(c.changeId()).isEqualTo(SegmentChange.idFor("u1", "high_intent_1h", ChangeType.ENTER, T0 + 3 * MIN));
        });
        send("u1", "product_view", T0 + 4 * MIN); // already a member: no repeated ENTER
        harness.processWatermark(T0 + 5 * MIN);
        assertThat(changes()).hasSize(1);
    }

    @Test
    void theOrderOfArrivalDoesNotMatterOnlyEventTimeDoes() throws Exception {
        // Two devices of one user deliver interleaved: the result is the one of event-time order.
        send("u1", "product_view", T0 + 2 * MIN);
        send("u1", "product_view", T0 + 90 * MIN);
        send("u1", "product_view", T0);
        send("u1", "product_view", T0 + MIN);
        harness.processWatermark(T0 + 3 * HOUR);
        assertThat(changes()).extracting(SegmentChange::type, SegmentChange::eventTime)
                .containsExactly(org.assertj.core.groups.Tuple.tuple(ChangeType.ENTER, T0 + 2 * MIN),
                        org.assertj.core.groups.Tuple.tuple(ChangeType.EXIT, T0 + HOUR));
    }

    @Test
    void anEventBehindTheWatermarkCountsAsOfTheWatermarkWithoutRewritingHistory() throws Exception {
        send("u1", "product_view", T0);
        send("u1", "product_view", T0 + MIN);
        harness.processWatermark(T0 + 10 * MIN);
        send("u1", "product_view", T0 + 5 * MIN); // late, but its minute is still in the window
        assertThat(changes()).extracting(SegmentChange::type, SegmentChange::eventTime)
                .containsExactly(org.assertj.core.groups.Tuple.tuple(ChangeType.ENTER, T0 + 10 * MIN));
    }

    @Test
    void exitsWhenTheHourPassesWithoutAnyFurtherEventAndClearsState() throws Exception {
        send("u1", "product_search", T0);
        send("u1", "product_view", T0 + MIN);
        send("u1", "add_to_cart", T0 + 2 * MIN);
        harness.processWatermark(T0 + HOUR - 1);
        assertThat(changes()).extracting(SegmentChange::type).containsExactly(ChangeType.ENTER);

        // The search's minute leaves the window at T0 + 1h: two actions remain, below the threshold.
        harness.processWatermark(T0 + HOUR);
        List<SegmentChange> changes = changes();
        assertThat(changes).extracting(SegmentChange::type).containsExactly(ChangeType.ENTER, ChangeType.EXIT);
        assertThat(changes.get(1).eventTime()).isEqualTo(T0 + HOUR);
        assertThat(changes.get(1).features()).containsEntry("high_intent_1h_count", 2.0);

        harness.processWatermark(T0 + 3 * HOUR);
        assertThat(harness.numKeyedStateEntries()).as("state after the window is empty").isZero();
        assertThat(harness.numEventTimeTimers()).isZero();
    }

    @Test
    void staysInWhileNewActionsKeepTheCountUpAndExitsAtTheRightMoment() throws Exception {
        send("u1", "product_search", T0);
        send("u1", "product_view", T0 + MIN);
        send("u1", "add_to_cart", T0 + 2 * MIN);
        send("u1", "product_view", T0 + 30 * MIN);
        harness.processWatermark(T0 + HOUR + 30 * MIN);
        // At T0+1h the count drops to 3 (still in); at T0+1h+1min to 2 -> EXIT.
        assertThat(changes()).extracting(SegmentChange::type, SegmentChange::eventTime)
                .containsExactly(org.assertj.core.groups.Tuple.tuple(ChangeType.ENTER, T0 + 2 * MIN),
                        org.assertj.core.groups.Tuple.tuple(ChangeType.EXIT, T0 + HOUR + MIN));
    }

    @Test
    void anExitFallingDueBeforeTheNextEventIsEmittedAtItsOwnTime() throws Exception {
        send("u1", "product_search", T0);
        send("u1", "product_view", T0 + MIN);
        send("u1", "add_to_cart", T0 + 2 * MIN);
        send("u1", "product_view", T0 + 2 * HOUR);
        harness.processWatermark(T0 + 2 * HOUR);
        assertThat(changes()).extracting(SegmentChange::type, SegmentChange::eventTime)
                .containsExactly(org.assertj.core.groups.Tuple.tuple(ChangeType.ENTER, T0 + 2 * MIN),
                        org.assertj.core.groups.Tuple.tuple(ChangeType.EXIT, T0 + HOUR));
    }

    @Test
    void usersAreIndependent() throws Exception {
        send("u1", "product_view", T0);
        send("u2", "product_view", T0);
        send("u1", "product_view", T0 + MIN);
        send("u2", "product_view", T0 + MIN);
        send("u1", "product_view", T0 + 2 * MIN);
        harness.processWatermark(T0 + 3 * MIN);
        assertThat(changes()).extracting(SegmentChange::userId).containsExactly("u1");
    }

    private void send(String user, String event, long timestamp) throws Exception {
        UnifiedEvent e = new UnifiedEvent("m" + messageSeq++, EventType.TRACK, event, null, user, user, timestamp, null,
                timestamp, "test", null, Map.of(), Map.of(), Map.of());
        harness.processElement(e, timestamp);
    }

    private List<SegmentChange> changes() {
        return harness.extractOutputValues();
    }
}
