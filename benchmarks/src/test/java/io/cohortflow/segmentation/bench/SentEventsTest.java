package io.cohortflow.segmentation.bench;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SentEventsTest {
    private static final long T0 = 1_796_433_000_000L;

    @Test
    void aSightingFindsItsEventByUserAndTimeAcrossManyEventsAndTheFirstTimeStays() {
        SentEvents sent = new SentEvents();
        SentEvents.Range first = sent.reserve(3);
        SentEvents.Range many = sent.reserve(300_000); // past a chunk of times and the table's first size
        assertThat(first).isEqualTo(new SentEvents.Range(0, 3));
        assertThat(many.first()).isEqualTo(3);
        for (int i = 0; i < 300_003; i++) {
            sent.add(i, i % 2_000, T0 + i / 2_000);
            sent.record(i, SentEvents.RAW_APPENDED, 1_000 + i);
        }

        int number = 149 * 2_000 + 1_999;
        assertThat(sent.find("u-1999", T0 + 149)).isEqualTo(number);
        sent.record(number, SentEvents.CHANGE_VISIBLE, 42);
        sent.record(number, SentEvents.CHANGE_VISIBLE, 43); // seen again: the first time stays
        sent.record(sent.find("u-7", T0 + 149), SentEvents.UNIFIED_VISIBLE, 44);

        assertThat(sent.time(number, SentEvents.CHANGE_VISIBLE)).isEqualTo(42);
        assertThat(sent.time(number, SentEvents.RAW_APPENDED)).isEqualTo(1_000 + number);
        assertThat(sent.time(149 * 2_000 + 7, SentEvents.UNIFIED_VISIBLE)).isEqualTo(44);
        assertThat(sent.time(number - 1, SentEvents.CHANGE_VISIBLE)).as("not seen").isZero();
    }

    @Test
    void recordsOfOthersAreLeftAlone() {
        SentEvents sent = new SentEvents();
        sent.reserve(1);
        sent.add(0, 5, T0);
        assertThat(sent.find("u-5", T0)).isZero();
        assertThat(sent.find("anon_5", T0)).isEqualTo(-1);
        assertThat(sent.find("u-x", T0)).isEqualTo(-1);
        assertThat(sent.find(null, T0)).isEqualTo(-1);
        assertThat(sent.find("u-5", T0 + 1)).as("another time").isEqualTo(-1);
        assertThat(sent.find("u-99999999", T0)).as("past the users a key holds").isEqualTo(-1);
        assertThatThrownBy(() -> sent.add(0, -1, T0)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void aSightingReadsItsThreeTopLevelFieldsAndSkipsTheRest() {
        byte[] change = """
                {"changeId":"c","userId":"u-3","segmentId":"latency_probe","type":"ENTER","eventTime":1796433000123,
                 "cause":{"kind":"rule","id":"x","eventTime":1},"features":{"userId":"no"},"model":"none"}"""
                .getBytes(StandardCharsets.UTF_8);
        assertThat(Sighting.of(change, "userId", "eventTime", "segmentId"))
                .isEqualTo(new Sighting("u-3", 1_796_433_000_123L, "latency_probe"));
        byte[] unified = """
                {"messageId":"m","userId":null,"resolvedId":"u-4","timestamp":1796433000124,"properties":{}}"""
                .getBytes(StandardCharsets.UTF_8);
        assertThat(Sighting.of(unified, "resolvedId", "timestamp", null))
                .isEqualTo(new Sighting("u-4", 1_796_433_000_124L, null));
        assertThat(Sighting.ofUnified(unified)).as("JSON").isEqualTo(new Sighting("u-4", 1_796_433_000_124L, null));
        byte[] binary = new io.cohortflow.core.event.UnifiedEventCodec.Binary().encode(new io.cohortflow.core.event
                .UnifiedEvent("m", io.cohortflow.core.event.EventType.TRACK, "add_to_cart", "d-1", null, "u-5",
                1_796_433_000_125L, null, 1_796_433_000_126L, "web", null, null, null, null));
        assertThat(Sighting.ofUnified(binary)).as("binary").isEqualTo(new Sighting("u-5", 1_796_433_000_125L, null));
    }
}
