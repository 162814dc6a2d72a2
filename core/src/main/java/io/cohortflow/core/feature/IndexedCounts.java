package io.cohortflow.core.feature;

import java.util.AbstractMap;
import java.util.AbstractSet;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.Set;
import java.util.function.BiConsumer;

/**
 * An immutable map of event names to counts held as the {@code i}th name and count, in order: a snapshot's
 * {@link CountMap} and a profile's {@link NonZeroCounts}. Walked by index, without an entry object per name when
 * walked with {@link #forEach}: a profile's inputs walk six of these maps, and {@link #entrySet}'s entries were an
 * eighth of the segmentation task's allocation (JFR, P2).
 */
abstract class IndexedCounts extends AbstractMap<String, Long> {
    /** The name at {@code i}, in order. */
    abstract String nameAt(int i);

    /** The count at {@code i}, in order. */
    public abstract long countAt(int i);

    @Override
    public abstract int size();

    @Override
    public void forEach(BiConsumer<? super String, ? super Long> action) {
        for (int i = 0; i < size(); i++) {
            action.accept(nameAt(i), countAt(i));
        }
    }

    @Override
    public Set<Entry<String, Long>> entrySet() {
        return new AbstractSet<>() {
            @Override
            public Iterator<Entry<String, Long>> iterator() {
                return new Iterator<>() {
                    private int next;

                    @Override
                    public boolean hasNext() {
                        return next < IndexedCounts.this.size();
                    }

                    @Override
                    public Entry<String, Long> next() {
                        if (next >= IndexedCounts.this.size()) {
                            throw new NoSuchElementException();
                        }
                        int i = next++;
                        return new SimpleImmutableEntry<>(nameAt(i), countAt(i));
                    }
                };
            }

            @Override
            public int size() {
                return IndexedCounts.this.size();
            }
        };
    }
}
