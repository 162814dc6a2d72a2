package io.cohortflow.core.feature;

import io.cohortflow.core.codec.IndexedMap;

/**
 * An immutable map of event names to counts held as the {@code i}th name and count, in order: a snapshot's
 * {@link CountMap} and a profile's {@link NonZeroCounts}, walked by index ({@link IndexedMap}).
 */
abstract class IndexedCounts extends IndexedMap<Long> {
    /** The count at {@code i}, in order. */
    public abstract long countAt(int i);

    @Override
    public final Long valueAt(int i) {
        return countAt(i);
    }
}
