package io.cohortflow.core.feature;

/**
 * A snapshot's counts by event name, read by position: the positions follow a key order that every snapshot of the
 * same event names shares, so a reader of one fixed name (a condition's {@code count_7d['product_view']}) finds its
 * position once per key order instead of looking the name up at every read.
 */
public interface KeyedCounts {
    /** The key order, compared by identity: the same object means the same positions. */
    Object keyOrder();

    /** The position of {@code name} in the key order, or -1 when it has none. */
    int position(Object name);

    /** The count at {@code position} (from {@link #position}). */
    long countAt(int position);

    /**
     * Where one fixed name is in the key order last seen, looked up once per order (in practice once). What it keeps
     * is immutable, so a race between threads only looks the name up twice.
     */
    final class Place {
        private final String name;
        private Known known;

        public Place(String name) {
            this.name = name;
        }

        /** The name's position in {@code counts}' key order, or -1 when it has none. */
        public int in(KeyedCounts counts) {
            Known at = known;
            Object order = counts.keyOrder();
            if (at == null || at.order() != order) {
                at = new Known(order, counts.position(name));
                known = at;
            }
            return at.index();
        }

        private record Known(Object order, int index) {
        }
    }
}
