package io.cohortflow.core.feature;

import java.util.Map;

/**
 * The names of one window's counts whose count is not zero, in the counts' order (for a {@link CountMap}: sorted), as
 * a profile's inputs show them. Built from the counts' arrays without hashing a name: a profile's six maps were
 * {@code HashMap}s filled name by name, a third of building a profile (JFR of the engine's pass). A profile holds a
 * few active names per window, so a lookup walks them. Immutable.
 */
final class NonZeroCounts extends IndexedCounts {
    private static final NonZeroCounts EMPTY = new NonZeroCounts(new String[0], new long[0]);

    private final String[] names;
    private final long[] counts;

    private NonZeroCounts(String[] names, long[] counts) {
        this.names = names;
        this.counts = counts;
    }

    /** {@code counts}' entries whose count is not zero, in its order. */
    static Map<String, Long> of(CountMap counts) {
        int n = 0;
        for (int i = 0; i < counts.size(); i++) {
            n += counts.countAt(i) != 0 ? 1 : 0;
        }
        if (n == 0) {
            return EMPTY;
        }
        String[] names = new String[n];
        long[] values = new long[n];
        int at = 0;
        for (int i = 0; i < counts.size(); i++) {
            long count = counts.countAt(i);
            if (count != 0) {
                names[at] = counts.keyAt(i);
                values[at++] = count;
            }
        }
        return new NonZeroCounts(names, values);
    }

    private int indexOf(Object key) {
        for (int i = 0; i < names.length; i++) {
            if (names[i].equals(key)) {
                return i;
            }
        }
        return -1;
    }

    @Override
    public Long get(Object key) {
        int i = indexOf(key);
        return i < 0 ? null : counts[i];
    }

    @Override
    public boolean containsKey(Object key) {
        return indexOf(key) >= 0;
    }

    @Override
    public int size() {
        return names.length;
    }

    @Override
    public String keyAt(int i) {
        return names[i];
    }

    @Override
    public long countAt(int i) {
        return counts[i];
    }
}
