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
 * <p>With a thousand segments each change's two searches (a membership's and an ordinal's) compared strings with a
 * long common prefix at every step, a tenth of an event's time; the engine's searches go by rank instead
 * ({@link Order}), an int per id kept beside them for the running rules' order.
 *
 * <p>The binary form is {@link BinaryMaps}' map of names to longs, in id order, as the trees wrote it. Not
 * thread-safe.
 */
final class SegmentLongs {
    private static final String[] NO_IDS = {};
    private static final long[] NO_VALUES = {};
    private static final int[] NO_RANKS = {};

    private String[] ids = NO_IDS;
    private long[] values = NO_VALUES;
    private int size;
    /** Each id's {@link Order#rank} in {@link #rankedBy}; not state, worked out again for another order. */
    private int[] ranks = NO_RANKS;
    /** The order {@link #ranks} are of, or null when they are not kept (after a change by id alone). */
    private Order rankedBy;

    /**
     * The running segments' ids in order, each with a rank that orders ids as {@link String} does: the {@code i}th
     * running id ranks {@code 2i + 1}, and any other id twice the number of running ids before it, so that ranks
     * decide between ids except between two ids that are not running and fall between the same two running ones
     * (a persona's, a deleted segment's), which their strings decide. Immutable.
     */
    static final class Order {
        private final String[] sorted;
        private final java.util.Map<String, Integer> places;

        /** @param sorted the running ids, in {@link String}'s order */
        Order(List<String> sorted) {
            this.sorted = sorted.toArray(String[]::new);
            this.places = new java.util.HashMap<>(sorted.size() * 2);
            for (int i = 0; i < this.sorted.length; i++) {
                if (i > 0 && this.sorted[i - 1].compareTo(this.sorted[i]) >= 0) {
                    throw new IllegalArgumentException("not in order: " + this.sorted[i - 1] + ", " + this.sorted[i]);
                }
                places.put(this.sorted[i], i);
            }
        }

        int rank(String id) {
            Integer place = places.get(id);
            if (place != null) {
                return 2 * place + 1;
            }
            return 2 * (-Arrays.binarySearch(sorted, id) - 1);
        }
    }

    /** Keeps {@link #ranks} for {@code order}. */
    private void rankBy(Order order) {
        if (rankedBy != order) {
            if (ranks.length < ids.length) {
                ranks = new int[ids.length];
            }
            for (int i = 0; i < size; i++) {
                ranks[i] = order.rank(ids[i]);
            }
            rankedBy = order;
        }
    }

    /** The rank of a search by id alone: strings compared at every step. */
    private static final int BY_ID = -1;

    /**
     * Where {@code id} is, or {@code -(insertion point) - 1}, as {@link Arrays#binarySearch}: by {@code rank} in the
     * order the ranks are kept for, or by the id alone ({@link #BY_ID}).
     */
    private int indexOf(String id, int rank) {
        int low = 0;
        int high = size - 1;
        while (low <= high) {
            int mid = (low + high) >>> 1;
            int c = rank == BY_ID || ranks[mid] == rank && (rank & 1) == 0 ? ids[mid].compareTo(id)
                    : Integer.compare(ranks[mid], rank);
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

    /** Where {@code id} is (as {@link #indexOf}), by its {@code rank} in {@code order}, or by id when order is null. */
    private int find(Order order, int rank, String id) {
        if (order == null) {
            return indexOf(id, BY_ID);
        }
        rankBy(order);
        return indexOf(id, rank);
    }

    boolean containsKey(String id) {
        return indexOf(id, BY_ID) >= 0;
    }

    /** {@link #containsKey(String)} of {@code id}, whose rank in {@code order} is {@code rank}. */
    boolean containsKey(Order order, int rank, String id) {
        return find(order, rank, id) >= 0;
    }

    /** The value of {@code id}, or null when it has none. */
    Long get(String id) {
        int at = indexOf(id, BY_ID);
        return at < 0 ? null : values[at];
    }

    void put(String id, long value) {
        put(null, BY_ID, id, value);
    }

    /** {@link #put(String, long)} of {@code id}, whose rank in {@code order} is {@code rank} (order null: by id). */
    void put(Order order, int rank, String id, long value) {
        int at = find(order, rank, id);
        if (at >= 0) {
            values[at] = value;
        } else {
            insert(-at - 1, id, value, rank);
        }
    }

    /** Adds one to {@code id}'s value (absent: 0) and returns what it was. */
    long increment(String id) {
        return increment(null, BY_ID, id);
    }

    /** {@link #increment(String)}, by rank as {@link #put(Order, int, String, long)}. */
    long increment(Order order, int rank, String id) {
        int at = find(order, rank, id);
        if (at >= 0) {
            return values[at]++;
        }
        insert(-at - 1, id, 1, rank);
        return 0;
    }

    void remove(String id) {
        remove(null, BY_ID, id);
    }

    /** {@link #remove(String)}, by rank as {@link #put(Order, int, String, long)}. */
    void remove(Order order, int rank, String id) {
        int at = find(order, rank, id);
        if (at >= 0) {
            System.arraycopy(ids, at + 1, ids, at, size - at - 1);
            System.arraycopy(values, at + 1, values, at, size - at - 1);
            if (rankedBy != null) {
                System.arraycopy(ranks, at + 1, ranks, at, size - at - 1);
            }
            ids[--size] = null;
        }
    }

    /** Inserts at {@code at}, with {@code rank} in the order the ranks are kept for ({@link #BY_ID}: they are not). */
    private void insert(int at, String id, long value, int rank) {
        if (size == ids.length) {
            int capacity = Math.max(4, size + (size >> 1));
            ids = Arrays.copyOf(ids, capacity);
            values = Arrays.copyOf(values, capacity);
        }
        System.arraycopy(ids, at, ids, at + 1, size - at);
        System.arraycopy(values, at, values, at + 1, size - at);
        ids[at] = id;
        values[at] = value;
        if (rank == BY_ID) {
            rankedBy = null; // worked out again at the next search by rank
        } else if (rankedBy != null) {
            if (ranks.length < ids.length) {
                ranks = Arrays.copyOf(ranks, ids.length);
            }
            System.arraycopy(ranks, at, ranks, at + 1, size - at);
            ranks[at] = rank;
        }
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
        int at = indexOf(from, BY_ID);
        return at >= 0 ? at : -at - 1;
    }

    /** The ids in order, as an immutable list of their own. */
    List<String> ids() {
        return List.of(Arrays.copyOf(ids, size));
    }

    void clear() {
        ids = NO_IDS;
        values = NO_VALUES;
        ranks = NO_RANKS;
        rankedBy = null;
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
