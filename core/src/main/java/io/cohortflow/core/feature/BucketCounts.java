package io.cohortflow.core.feature;

import java.util.Arrays;

/**
 * Counts by bucket (a minute, an hour or a day, as its index since the epoch), in index order, in two arrays. The
 * buckets of one event name were {@code TreeMap<Long, Integer>}s: every event walked them from their first entry (the
 * snapshot's sums, the next moment a window moves, the prune), through a tree node, a boxed key and a boxed count per
 * bucket. A user has at most 60 minute, 24 hour and 90 day buckets per name, and time mostly adds at the end and drops
 * from the front: here that is an increment or an append, and a shift. Not thread-safe.
 */
final class BucketCounts {
    private static final long[] NO_INDEXES = {};
    private static final int[] NO_COUNTS = {};

    private long[] indexes = NO_INDEXES;
    private int[] counts = NO_COUNTS;
    private int size;

    /** Adds {@code n} to the bucket {@code index} (absent: 0), as {@code TreeMap.merge(index, n, Integer::sum)}. */
    void add(long index, int n) {
        if (size > 0 && indexes[size - 1] == index) { // the common case: the latest bucket again
            counts[size - 1] += n;
            return;
        }
        int at = size == 0 || indexes[size - 1] < index ? -(size + 1) : Arrays.binarySearch(indexes, 0, size, index);
        if (at >= 0) {
            counts[at] += n;
            return;
        }
        at = -at - 1;
        if (size == indexes.length) {
            int capacity = Math.max(4, size + (size >> 1));
            indexes = Arrays.copyOf(indexes, capacity);
            counts = Arrays.copyOf(counts, capacity);
        }
        System.arraycopy(indexes, at, indexes, at + 1, size - at);
        System.arraycopy(counts, at, counts, at + 1, size - at);
        indexes[at] = index;
        counts[at] = n;
        size++;
    }

    int size() {
        return size;
    }

    boolean isEmpty() {
        return size == 0;
    }

    /** The {@code i}th bucket's index, in order. */
    long index(int i) {
        return indexes[i];
    }

    /** The {@code i}th bucket's count, in order. */
    int count(int i) {
        return counts[i];
    }

    /** Drops the buckets up to {@code index}, itself included; whether any was. */
    boolean dropUpTo(long index) {
        if (size == 0 || indexes[0] > index) {
            return false; // on most events: nothing leaves
        }
        int keep = firstAbove(index);
        System.arraycopy(indexes, keep, indexes, 0, size - keep);
        System.arraycopy(counts, keep, counts, 0, size - keep);
        size -= keep;
        return true;
    }

    /** The sum of the buckets whose start ({@code index * unit}) lies in {@code (t - window, t]}. */
    long sum(long unit, long window, long t) {
        long total = 0;
        // start > t - window  <=>  index > floor((t - window) / unit); start <= t  <=>  index <= floor(t / unit)
        long last = Math.floorDiv(t, unit);
        for (int i = firstAbove(Math.floorDiv(t - window, unit)); i < size && indexes[i] <= last; i++) {
            total += counts[i];
        }
        return total;
    }

    /**
     * When the oldest bucket still inside a window of {@code window} as of {@code t} leaves it ({@code index * unit +
     * window}), or {@link Long#MAX_VALUE} when none is inside.
     */
    long firstAfter(long unit, long window, long t) {
        int i = firstAbove(Math.floorDiv(t - window, unit));
        return i == size ? Long.MAX_VALUE : indexes[i] * unit + window;
    }

    /** The indexes, in order, as an array of their own. */
    long[] indexes() {
        return Arrays.copyOf(indexes, size);
    }

    /** The counts, in the order of {@link #indexes()}, as an array of their own. */
    int[] counts() {
        return Arrays.copyOf(counts, size);
    }

    /** The place of the first bucket whose index is above {@code index} (or {@link #size}). */
    private int firstAbove(long index) {
        int low = 0;
        int high = size - 1;
        while (low <= high) {
            int mid = (low + high) >>> 1;
            if (indexes[mid] <= index) {
                low = mid + 1;
            } else {
                high = mid - 1;
            }
        }
        return low;
    }
}
