package io.cohortflow.core.codec;

import java.io.Serializable;
import java.util.AbstractMap;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.function.BiConsumer;

/**
 * An unmodifiable map in its insertion order, which the records of core take as they are: an event's properties,
 * traits and context, a profile's maps, a change's features. Those records copied every map they were given into an
 * unmodifiable {@code LinkedHashMap}, so a map passed from one record to the next (an event keyed anew by identity
 * stitching, a change's features, the maps a profile is built from) was copied at every step; JFR put the profile's
 * copies alone at a third of building it. A {@code FrozenMap} cannot change, so {@link #copyOf} hands it back as it is.
 * Null keys and values are kept, as JSON has them.
 */
public final class FrozenMap<K, V> extends AbstractMap<K, V> implements Serializable {
    private static final long serialVersionUID = 1L;

    /** An unmodifiable view of a map no one else holds. */
    private final Map<K, V> values;

    private FrozenMap(Map<K, V> owned) {
        this.values = Collections.unmodifiableMap(owned);
    }

    /**
     * An unmodifiable copy of {@code map}, in its order; a {@code FrozenMap} or a {@link NamedValues}, which cannot
     * change either, is returned as it is.
     */
    public static <K, V> Map<K, V> copyOf(Map<K, V> map) {
        return cannotChange(map) ? map : new FrozenMap<>(new LinkedHashMap<>(map));
    }

    /**
     * {@code map} itself, frozen, without a copy: for a map its caller has just built and hands over. The caller must
     * neither change it afterwards nor let anyone else hold it. A map that cannot change ({@link #copyOf}) is returned
     * as it is.
     */
    public static <K, V> Map<K, V> owning(Map<K, V> map) {
        return cannotChange(map) ? map : new FrozenMap<>(map);
    }

    private static boolean cannotChange(Map<?, ?> map) {
        return map instanceof FrozenMap<?, ?> || map instanceof NamedValues<?>;
    }

    @Override
    public Set<Entry<K, V>> entrySet() {
        return values.entrySet();
    }

    @Override
    public Set<K> keySet() {
        return values.keySet();
    }

    @Override
    public Collection<V> values() {
        return values.values();
    }

    @Override
    public V get(Object key) {
        return values.get(key);
    }

    @Override
    public V getOrDefault(Object key, V defaultValue) {
        return values.getOrDefault(key, defaultValue);
    }

    @Override
    public boolean containsKey(Object key) {
        return values.containsKey(key);
    }

    @Override
    public boolean containsValue(Object value) {
        return values.containsValue(value);
    }

    @Override
    public int size() {
        return values.size();
    }

    @Override
    public boolean isEmpty() {
        return values.isEmpty();
    }

    @Override
    public void forEach(BiConsumer<? super K, ? super V> action) {
        values.forEach(action);
    }

    @Override
    public boolean equals(Object o) {
        return o == this || values.equals(o);
    }

    @Override
    public int hashCode() {
        return values.hashCode();
    }

    @Override
    public String toString() {
        return values.toString();
    }
}
