package io.cohortflow.core.engine;

import io.cohortflow.core.codec.BinaryMaps;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.util.Arrays;
import java.util.List;

/**
 * Segment id → a long (when the user entered it; how many transitions it had), sorted by id in {@link String}'s
 * order, in two arrays. The engine's memberships and ordinals were {@code TreeMap}s: with 1,000 segments a user is in
 * hundreds of them, an event enters and leaves about 17, and every profile lists them all. JFR put the trees at a
 * quarter of the per-event time (walking one to copy the ids for the profile alone 12%, an entry and a rebalance per
 * change most of the rest). Here a change is a binary search and an array shift, the profile's ids one array copy, and
 * an entry takes 12 bytes instead of a tree node and a boxed long.
 *
 * <p>The binary form is {@link BinaryMaps}' map of names to longs, in id order, as the trees wrote it. Not
 * thread-safe.
 */
final class SegmentLongs {
    private static final String[] NO_IDS = {};
    private static final long[] NO_VALUES = {};

    private String[] ids = NO_IDS;
    private long[] values = NO_VALUES;
    private int size;

    /** Where {@code id} is, or {@code -(insertion point) - 1}, as {@link Arrays#binarySearch}. */
    private int indexOf(String id) {
        int low = 0;
        int high = size - 1;
        while (low <= high) {
            int mid = (low + high) >>> 1;
            int c = ids[mid].compareTo(id);
            if (c < 0) {
                low = mid + 1;
            } else if (c > 0) {
                high = mid - 1;
            } else {
                return mid;
            }
        }
        return -(low + 1);
    }

    boolean containsKey(String id) {
        return indexOf(id) >= 0;
    }

    /** The value of {@code id}, or null when it has none. */
    Long get(String id) {
        int at = indexOf(id);
        return at < 0 ? null : values[at];
    }

    void put(String id, long value) {
        int at = indexOf(id);
        if (at >= 0) {
            values[at] = value;
        } else {
            insert(-at - 1, id, value);
        }
    }

    /** Adds one to {@code id}'s value (absent: 0) and returns what it was. */
    long increment(String id) {
        int at = indexOf(id);
        if (at >= 0) {
            return values[at]++;
        }
        insert(-at - 1, id, 1);
        return 0;
    }

    void remove(String id) {
        int at = indexOf(id);
        if (at >= 0) {
            System.arraycopy(ids, at + 1, ids, at, size - at - 1);
            System.arraycopy(values, at + 1, values, at, size - at - 1);
            ids[--size] = null;
        }
    }

    private void insert(int at, String id, long value) {
        if (size == ids.length) {
            int capacity = Math.max(4, size + (size >> 1));
            ids = Arrays.copyOf(ids, capacity);
            values = Arrays.copyOf(values, capacity);
        }
        System.arraycopy(ids, at, ids, at + 1, size - at);
        System.arraycopy(values, at, values, at + 1, size - at);
        ids[at] = id;
        values[at] = value;
        size++;
    }

    boolean isEmpty() {
        return size == 0;
    }

    int size() {
        return size;
    }

    /** The {@code index}th id in order. */
    String id(int index) {
        return ids[index];
    }

    /** The place of the first id at or after {@code from} (or {@link #size}). */
    int ceiling(String from) {
        int at = indexOf(from);
        return at >= 0 ? at : -at - 1;
    }

    /** The ids in order, as an immutable list of their own. */
    List<String> ids() {
        return List.of(Arrays.copyOf(ids, size));
    }

    void clear() {
        ids = NO_IDS;
        values = NO_VALUES;
        size = 0;
    }

    void writeTo(DataOutput out) throws IOException {
        BinaryMaps.writeStringLongs(out, size, i -> ids[i], i -> values[i]);
    }

    /** Reads what {@link #writeTo} (or a {@code TreeMap} through {@link BinaryMaps}) wrote, after what is here. */
    void readFrom(DataInput in) throws IOException {
        BinaryMaps.readStringLongs(in, this::put);
    }
}
