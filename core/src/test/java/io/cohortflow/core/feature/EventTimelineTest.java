package io.cohortflow.core.feature;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeSet;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The behavioural operators' counts, which walk each resolution's buckets back from the newest and stop at the
 * window's start, against a sum over every bucket; and a timeline read back from a profile whose buckets come out of
 * order.
 */
class EventTimelineTest {
    private static final long MINUTE = 60_000L;
    private static final long HOUR = 60 * MINUTE;
    private static final long DAY = 24 * HOUR;
    private static final long T0 = 1_767_225_600_000L; // 2026-01-01

    @Test
    void aCountWalkedBackFromTheNewestBucketIsTheSumOfTheBucketsInItsWindow() {
        Random random = new Random(3);
        int nonZero = 0;
        for (int trial = 0; trial < 300; trial++) {
            // half of the moments on a day's start, and half of the windows whole units: buckets on the window's edge
            long asOf = T0 + (trial % 2 == 0 ? random.nextInt(100) * DAY : (long) (random.nextDouble() * 100 * DAY));
            EventTimeline.Event event = event(random, asOf);
            EventTimeline timeline = new EventTimeline(asOf, Map.of("page_view", event));
            for (int w = 0; w < 20; w++) {
                long[] units = {MINUTE, HOUR, DAY};
                long window = w % 2 == 0 ? (1 + random.nextInt(60)) * units[random.nextInt(3)]
                        : 1 + (long) (random.nextDouble() * random.nextDouble() * 100 * DAY);
                long expected = window <= HOUR ? sum(event.minutes(), event.minuteCounts(), MINUTE, asOf, window)
                        : window <= DAY ? sum(event.hours(), event.hourCounts(), HOUR, asOf, window)
                        : sum(event.days(), event.dayCounts(), DAY, asOf, Math.min(window, 90 * DAY));
                assertThat(timeline.count("page_view", window)).as("trial %d, window %d ms", trial, window)
                        .isEqualTo(expected);
                assertThat(timeline.absentFor("page_view", window)).isEqualTo(expected == 0);
                nonZero += expected > 0 ? 1 : 0;
            }
            assertThat(timeline.count("order_completed", DAY)).isZero();
        }
        assertThat(nonZero).as("windows with something in them").isGreaterThan(1_000);
    }

    @Test
    void bucketsReadBackOutOfOrderCountAsInOrder() {
        Random random = new Random(5);
        for (int trial = 0; trial < 100; trial++) {
            long asOf = T0 + (long) (random.nextDouble() * 100 * DAY);
            EventTimeline written = new EventTimeline(asOf, Map.of("add_to_cart", event(random, asOf)));
            @SuppressWarnings("unchecked")
            Map<String, Map<String, Object>> map = (Map<String, Map<String, Object>>) (Map<?, ?>) written.toMap();
            Map<String, Object> parts = new java.util.LinkedHashMap<>(map.get("add_to_cart"));
            parts.replaceAll((part, value) -> {
                if (!(value instanceof List<?> pairs)) {
                    return value;
                }
                List<Object> shuffled = new ArrayList<>(pairs);
                Collections.shuffle(shuffled, random);
                return shuffled;
            });
            EventTimeline read = EventTimeline.fromMap(asOf, Map.of("add_to_cart", parts));
            assertThat(read).isEqualTo(written);
            for (long window : new long[] {30 * MINUTE, HOUR, 5 * HOUR, DAY, 3 * DAY, 30 * DAY, 90 * DAY}) {
                assertThat(read.count("add_to_cart", window)).isEqualTo(written.count("add_to_cart", window));
            }
        }
    }

    /** Buckets at each resolution up to 100 units before {@code asOf}, now and then one after it (a correction). */
    private static EventTimeline.Event event(Random random, long asOf) {
        long[][] minutes = buckets(random, asOf, MINUTE);
        long[][] hours = buckets(random, asOf, HOUR);
        long[][] days = buckets(random, asOf, DAY);
        return new EventTimeline.Event(minutes[0], ints(minutes[1]), hours[0], ints(hours[1]), days[0],
                ints(days[1]), new long[0]);
    }

    private static long[][] buckets(Random random, long asOf, long unit) {
        TreeSet<Long> indexes = new TreeSet<>();
        int n = random.nextInt(40);
        for (int i = 0; i < n; i++) {
            indexes.add(Math.floorDiv(asOf, unit) - random.nextInt(100) + (random.nextInt(10) == 0 ? 2 : 0));
        }
        long[] index = indexes.stream().mapToLong(Long::longValue).toArray();
        long[] counts = new long[index.length];
        for (int i = 0; i < counts.length; i++) {
            counts[i] = 1 + random.nextInt(5);
        }
        return new long[][] {index, counts};
    }

    private static int[] ints(long[] values) {
        return java.util.Arrays.stream(values).mapToInt(v -> (int) v).toArray();
    }

    private static long sum(long[] index, int[] counts, long unit, long asOf, long window) {
        long total = 0;
        for (int i = 0; i < index.length; i++) {
            long start = index[i] * unit;
            if (start > asOf - window && start <= asOf) {
                total += counts[i];
            }
        }
        return total;
    }
}
