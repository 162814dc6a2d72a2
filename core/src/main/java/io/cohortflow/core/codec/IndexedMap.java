package io.cohortflow.core.codec;

import com.fasterxml.jackson.core.io.SerializedString;

import java.util.AbstractMap;
import java.util.AbstractSet;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.Set;
import java.util.function.BiConsumer;

/**
 * An unmodifiable map held as the {@code i}th key and value, in order, walked by index: without an entry object per
 * key when walked with {@link #forEach}. A snapshot's counts and a profile's non-zero counts and inputs: a profile's
 * inputs walk six count maps, and {@link #entrySet}'s entries were an eighth of the segmentation task's allocation
 * (JFR, P2). Equality and hash are {@link java.util.Map}'s.
 *
 * @param <V> the values' type
 */
public abstract class IndexedMap<V> extends AbstractMap<String, V> {
    /** The key at {@code i}, in order. */
    public abstract String keyAt(int i);

    /** The value at {@code i}, in order. */
    public abstract V valueAt(int i);

    /**
     * The key at {@code i} as a JSON field name, quoted and encoded once for every map with the same keys, or null
     * when the map keeps none ({@code SegmentProfileCodec} then looks it up by name, {@link JsonNames}).
     */
    public SerializedString quotedKeyAt(int i) {
        return null;
    }

    @Override
    public abstract int size();

    @Override
    public void forEach(BiConsumer<? super String, ? super V> action) {
        for (int i = 0; i < size(); i++) {
            action.accept(keyAt(i), valueAt(i));
        }
    }

    @Override
    public Set<Entry<String, V>> entrySet() {
        return new AbstractSet<>() {
            @Override
            public Iterator<Entry<String, V>> iterator() {
                return new Iterator<>() {
                    private int next;

                    @Override
                    public boolean hasNext() {
                        return next < IndexedMap.this.size();
                    }

                    @Override
                    public Entry<String, V> next() {
                        if (next >= IndexedMap.this.size()) {
                            throw new NoSuchElementException();
                        }
                        int i = next++;
                        return new SimpleImmutableEntry<>(keyAt(i), valueAt(i));
                    }
                };
            }

            @Override
            public int size() {
                return IndexedMap.this.size();
            }
        };
    }
}
