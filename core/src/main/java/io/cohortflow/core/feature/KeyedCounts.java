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
}
