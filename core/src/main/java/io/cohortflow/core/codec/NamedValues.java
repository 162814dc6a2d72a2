package io.cohortflow.core.codec;

import com.fasterxml.jackson.core.io.SerializedString;

import java.io.Serializable;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * An unmodifiable map from a fixed list of names, shared by every map built over it, to one value each, in the names'
 * order: a snapshot's numeric features and a profile's rule inputs, built for every profile and change. They were
 * {@code LinkedHashMap}s, filled name by name: a node per entry, each name hashed again, the table resized (JFR: the
 * profile's inputs alone were a tenth of the engine's pass). Here building one is filling an array. Every name has an
 * entry (a null value is an entry too, as in the maps before); equality and hash are {@link Map}'s, so it equals a
 * {@code LinkedHashMap} of the same entries. {@link FrozenMap#copyOf} takes it without a copy.
 *
 * @param <V> the values' type
 */
public final class NamedValues<V> extends IndexedMap<V> implements Serializable {
    private static final long serialVersionUID = 1L;

    /** The names, in order, and each one's place: made once, for every map over them. */
    public static final class Names implements Serializable {
        private static final long serialVersionUID = 1L;
        private final String[] names;
        private final Map<String, Integer> places = new HashMap<>();
        /** The names as JSON field names, quoted and encoded: a profile writes the same ones every time. */
        private final transient SerializedString[] quoted;

        public Names(List<String> names) {
            this.names = names.toArray(String[]::new);
            this.quoted = Arrays.stream(this.names).map(SerializedString::new).toArray(SerializedString[]::new);
            for (int i = 0; i < this.names.length; i++) {
                if (places.put(this.names[i], i) != null) {
                    throw new IllegalArgumentException("the name " + this.names[i] + " comes twice");
                }
            }
        }

        /** The place of {@code name}, or -1. */
        public int placeOf(Object name) {
            Integer place = places.get(name);
            return place == null ? -1 : place;
        }

        public int size() {
            return names.length;
        }
    }

    private final Names names;
    private final Object[] values;

    /**
     * The map of {@code names} to {@code values}, by place: it takes the array, which its caller must neither change
     * afterwards nor let anyone else hold.
     */
    public NamedValues(Names names, Object[] values) {
        if (values.length != names.size()) {
            throw new IllegalArgumentException(values.length + " values for " + names.size() + " names");
        }
        this.names = names;
        this.values = values;
    }

    @Override
    @SuppressWarnings("unchecked")
    public V get(Object key) {
        int place = names.placeOf(key);
        return place < 0 ? null : (V) values[place];
    }

    @Override
    public boolean containsKey(Object key) {
        return names.placeOf(key) >= 0;
    }

    @Override
    public int size() {
        return values.length;
    }

    @Override
    public boolean isEmpty() {
        return values.length == 0;
    }

    @Override
    public String keyAt(int i) {
        return names.names[i];
    }

    @Override
    @SuppressWarnings("unchecked")
    public V valueAt(int i) {
        return (V) values[i];
    }

    @Override
    public SerializedString quotedKeyAt(int i) {
        SerializedString[] quoted = names.quoted;
        return quoted == null ? null : quoted[i]; // null in Names read back by Java serialization
    }
}
