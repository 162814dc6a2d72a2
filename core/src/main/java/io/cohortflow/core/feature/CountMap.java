package io.cohortflow.core.feature;

import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * One window's counts by event name, as a snapshot hands them to rules and profiles: an immutable map over a key
 * order shared by every snapshot of the same event names (sorted, as a TreeMap would iterate) and a {@code long[]}
 * of counts. A snapshot used to build six TreeMaps of every event name on each evaluation; the keys are the same
 * every time, so only the counts are new.
 */
final class CountMap extends IndexedCounts implements KeyedCounts {
    /** The last key order built, with the names it was built for: the running taxonomy, in practice always the same. */
    private static volatile Keys last;

    private final Keys keys;
    private final long[] counts;

    CountMap(Keys keys, long[] counts) {
        this.keys = keys;
        this.counts = counts;
    }

    /** Sorted names and each one's position. Immutable, shared between threads. */
    static final class Keys {
        final String[] names;
        private final Map<String, Integer> positions;
        /**
         * The collections known to hold these names, the one they were built for first, compared by identity; none for
         * keys of a snapshot's own (names the taxonomy does not have), which no other snapshot shares.
         */
        private volatile Collection<?>[] sources;
        private static final int MAX_SOURCES = 8;

        private Keys(Collection<String> source, Collection<String> names) {
            this.sources = source == null ? new Collection<?>[0] : new Collection<?>[] {source};
            this.names = new TreeSet<>(names).toArray(String[]::new);
            this.positions = new HashMap<>(this.names.length * 2);
            for (int i = 0; i < this.names.length; i++) {
                positions.put(this.names[i], i);
            }
        }

        /**
         * Whether these are the keys of {@code eventNames}: the same collection, or the same names (each parallel
         * instance of a job has its own ruleset's list of the same taxonomy). A collection found to hold the same names
         * is remembered by identity (up to {@link #MAX_SOURCES}), so each ruleset's list is compared name by name once,
         * not at every snapshot: the second subtask's list was (JFR: 2.5% of the segmentation task). A collection's
         * names are taken not to change: the rulesets' lists are immutable.
         */
        boolean of(Collection<String> eventNames) {
            Collection<?>[] known = sources;
            if (known.length == 0) {
                return false; // a snapshot's own key order
            }
            for (Collection<?> c : known) {
                if (c == eventNames) {
                    return true;
                }
            }
            boolean same = eventNames.size() == names.length && positions.keySet().containsAll(eventNames);
            if (same && known.length < MAX_SOURCES) {
                // Copy on write; a race may drop one, which is only compared again.
                Collection<?>[] more = Arrays.copyOf(known, known.length + 1);
                more[known.length] = eventNames;
                sources = more;
            }
            return same;
        }

        /** The position of {@code name}, or -1. */
        int position(Object name) {
            Integer i = positions.get(name);
            return i == null ? -1 : i;
        }

        int size() {
            return names.length;
        }
    }

    /** The key order for {@code eventNames} and the names of {@code seen}: shared while they are the taxonomy's. */
    static Keys keys(Collection<String> eventNames, Set<String> seen) {
        Keys keys = keys(eventNames);
        for (String name : seen) {
            if (keys.position(name) < 0) { // an event the taxonomy does not name: a key order of this snapshot's own
                Set<String> all = new TreeSet<>(eventNames);
                all.addAll(seen);
                return new Keys(null, all);
            }
        }
        return keys;
    }

    /**
     * The shared key order of {@code eventNames} alone; a snapshot whose names all have a place in it uses it (see
     * {@link #keys(Collection, Set)} for one that has others).
     */
    static Keys keys(Collection<String> eventNames) {
        Keys keys = last;
        if (keys == null || !keys.of(eventNames)) {
            keys = new Keys(eventNames, eventNames);
            last = keys;
        }
        return keys;
    }

    @Override
    public Object keyOrder() {
        return keys;
    }

    @Override
    public int position(Object name) {
        return keys.position(name);
    }

    @Override
    public long countAt(int position) {
        return counts[position];
    }

    /** The name at {@code position} (the keys' order). */
    @Override
    public String keyAt(int position) {
        return keys.names[position];
    }

    @Override
    public Long get(Object key) {
        int i = keys.position(key);
        return i < 0 ? null : counts[i];
    }

    @Override
    public boolean containsKey(Object key) {
        return keys.position(key) >= 0;
    }

    @Override
    public int size() {
        return counts.length;
    }

    @Override
    public boolean equals(Object o) {
        if (o instanceof CountMap other && other.keys == keys) {
            return Arrays.equals(other.counts, counts);
        }
        return super.equals(o);
    }

    @Override
    public int hashCode() {
        return super.hashCode();
    }
}
