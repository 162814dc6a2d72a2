package io.cohortflow.core.segment;

import java.io.Serializable;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.Set;

/**
 * "At least {@code threshold} of these events in the last {@code window}", evaluated in event time over
 * per-minute buckets (bucket start, epoch ms -> count). A bucket starting at {@code b} is inside the window as of
 * {@code t} while {@code b > t - window}, so it leaves the window at {@code b + window}: that is when a member can
 * drop out without sending anything, and when the job's timer fires.
 *
 * <p>The caller owns the bucket storage (Flink state in the stream, a map in batch); this class holds only the
 * arithmetic, so stream and batch agree.
 */
public record WindowedCountRule(String id, String name, Set<String> events, Duration window, int threshold)
        implements Serializable {

    public static final long BUCKET_MS = 60_000L;

    public WindowedCountRule {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(name, "name");
        events = Set.copyOf(events);
        Objects.requireNonNull(window, "window");
        if (window.toMillis() < BUCKET_MS || window.toMillis() % BUCKET_MS != 0) {
            throw new IllegalArgumentException("window of " + id + " must be whole minutes: " + window);
        }
        if (threshold < 1) {
            throw new IllegalArgumentException("threshold of " + id + " must be positive: " + threshold);
        }
    }

    /** The seed's "New Prospect – High Intent": three or more shopping-intent actions within an hour. */
    public static WindowedCountRule highIntent() {
        return new WindowedCountRule("high_intent_1h", "New Prospect – High Intent",
                Set.of("product_search", "product_view", "add_to_cart"), Duration.ofHours(1), 3);
    }

    public boolean counts(String eventName) {
        return eventName != null && events.contains(eventName);
    }

    public static long bucketStart(long timestamp) {
        return Math.floorDiv(timestamp, BUCKET_MS) * BUCKET_MS;
    }

    public boolean inWindow(long bucketStart, long asOf) {
        return bucketStart > asOf - window.toMillis() && bucketStart <= asOf;
    }

    /** The time at which a bucket leaves the window. */
    public long expiry(long bucketStart) {
        return bucketStart + window.toMillis();
    }

    public int count(Iterable<Map.Entry<Long, Integer>> buckets, long asOf) {
        int total = 0;
        for (Map.Entry<Long, Integer> bucket : buckets) {
            if (inWindow(bucket.getKey(), asOf)) {
                total += bucket.getValue();
            }
        }
        return total;
    }

    public boolean satisfiedBy(int count) {
        return count >= threshold;
    }

    /** When the oldest bucket still in the window as of {@code asOf} expires; empty when none is. */
    public OptionalLong nextExpiry(Iterable<Long> bucketStarts, long asOf) {
        long oldest = Long.MAX_VALUE;
        for (long start : bucketStarts) {
            if (inWindow(start, asOf) && start < oldest) {
                oldest = start;
            }
        }
        return oldest == Long.MAX_VALUE ? OptionalLong.empty() : OptionalLong.of(expiry(oldest));
    }
}
