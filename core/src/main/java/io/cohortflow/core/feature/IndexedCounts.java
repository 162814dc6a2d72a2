package io.cohortflow.core.feature;

import io.cohortflow.core.codec.IndexedMap;

/**
 * An immutable map of event names to counts held as the {@code i}th name and count, in order: a snapshot's
 * {@link CountMap} and a profile's {@link NonZeroCounts}, walked by index ({@link IndexedMap}).
 */
abstract class IndexedCounts extends IndexedMap<Long> {
    /** The name at {@code i}, in order. */
    abstract String nameAt(int i);

    /** The count at {@code i}, in order. */
    public abstract long countAt(int i);

    @Override
    protected final String keyAt(int i) {
        return nameAt(i);
    }

    @Override
    protected final Long valueAt(int i) {
        return countAt(i);
    }
}
