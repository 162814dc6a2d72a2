package io.cohortflow.core.feature;

import com.fasterxml.jackson.core.io.SerializedString;
import io.cohortflow.core.codec.JsonNames;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A user's behaviour over time as the feature engine keeps it, as of one moment: what the rule language's
 * behavioural operators read ({@code events.count(...)}, {@code events.absent_for(...)},
 * {@code events.first_within(...)}, {@code events.then_within(...)}). Per canonical event: its counts per minute
 * (last hour), per hour (last 24 hours) and per day (last 90 days), and the exact times of its last
 * {@value #RECENT} occurrences. The stream builds it from the engine's state; the console rebuilds it from a
 * profile's {@code inputs.events}: both evaluate the same values with the same code.
 *
 * <p>Windows are exact to the minute up to an hour, to the hour up to a day, to the day (UTC) beyond, at most 90
 * days: the resolution of the count windows. A sequence compares exact times, among each event's last
 * {@value #RECENT} occurrences within the 90 days.
 */
public final class EventTimeline {
    /** How many of each event's latest occurrences keep their exact time (for sequences). */
    public static final int RECENT = 3;
    /** The longest window an operator takes. */
    public static final long MAX_WINDOW = UserFeatures.MAX_DAYS * UserFeatures.DAY;
    private static final long MINUTE = UserFeatures.MINUTE;
    private static final long HOUR = UserFeatures.HOUR;
    private static final long DAY = UserFeatures.DAY;

    /**
     * One event's history: bucket indexes (ascending) and counts at three resolutions, and its latest exact times,
     * oldest first.
     */
    public record Event(long[] minutes, int[] minuteCounts, long[] hours, int[] hourCounts, long[] days,
                        int[] dayCounts, long[] recent) {
    }

    private final long asOf;
    private final Map<String, Event> events;

    /** @param events taken as they are: the caller hands them over and keeps no reference */
    public EventTimeline(long asOf, Map<String, Event> events) {
        this.asOf = asOf;
        this.events = java.util.Collections.unmodifiableMap(events);
    }

    public long asOf() {
        return asOf;
    }

    /** Each event's history, by canonical name. */
    public Map<String, Event> events() {
        return events;
    }

    /** How many times {@code event} happened in the last {@code window} ms (at the window's resolution). */
    public long count(String event, long window) {
        Event e = events.get(event);
        if (e == null) {
            return 0;
        }
        if (window <= HOUR) {
            return sum(e.minutes(), e.minuteCounts(), MINUTE, window);
        }
        if (window <= DAY) {
            return sum(e.hours(), e.hourCounts(), HOUR, window);
        }
        return sum(e.days(), e.dayCounts(), DAY, Math.min(window, MAX_WINDOW));
    }

    /** "Has not done {@code event} for {@code window}": no occurrence in it. */
    public boolean absentFor(String event, long window) {
        return count(event, window) == 0;
    }

    /**
     * "First did {@code event} within {@code window}": it happened in the window and not before it, as far back as
     * the engine remembers (90 days).
     */
    public boolean firstWithin(String event, long window) {
        long inWindow = count(event, window);
        return inWindow > 0 && inWindow == count(event, MAX_WINDOW);
    }

    /**
     * "Did {@code first} then {@code then} within {@code window}": among each event's latest occurrences in the last
     * 90 days (whole days, as the engine forgets them), a {@code first} at x and a {@code then} at y with x ≤ y ≤ x + window.
     */
    public boolean thenWithin(String first, String then, long window) {
        Event a = events.get(first);
        Event b = events.get(then);
        if (a == null || b == null) {
            return false;
        }
        for (long y : b.recent()) {
            if (y > asOf || !remembered(y)) {
                continue;
            }
            for (long x : a.recent()) {
                if (x <= y && y - x <= window && remembered(x) && (x != y || !first.equals(then))) {
                    return true;
                }
            }
        }
        return false;
    }

    /** Whether the engine still remembers a time: its day is one of the last 90, as the day buckets are pruned. */
    private boolean remembered(long t) {
        return Math.floorDiv(t, DAY) > Math.floorDiv(asOf, DAY) - UserFeatures.MAX_DAYS;
    }

    /**
     * The counts of the buckets that start in {@code (asOf - window, asOf]}. The indexes ascend, so the walk goes back
     * from the newest and stops at the first bucket before the window: a rule's {@code events.count('x', '2d')} reads
     * two days' buckets, not the 90 the engine remembers (with a thousand segments, ninety such reads at every
     * evaluation walked every bucket).
     */
    private long sum(long[] index, int[] counts, long unit, long window) {
        long total = 0;
        for (int i = index.length - 1; i >= 0; i--) {
            long start = index[i] * unit;
            if (start <= asOf - window) {
                break;
            }
            if (start <= asOf) {
                total += counts[i];
            }
        }
        return total;
    }

    // ---- the profile's form ---------------------------------------------------------------------------------------

    /**
     * As a profile carries it: {@code {event: {"m": [[minute, n], ...], "h": [...], "d": [...], "t": [ms, ...]}}},
     * buckets by their index (epoch ms / unit), parts with nothing in them left out.
     */
    @com.fasterxml.jackson.annotation.JsonValue
    public Map<String, Object> toMap() {
        Map<String, Object> out = new TreeMap<>();
        events.forEach((name, e) -> {
            Map<String, Object> m = new LinkedHashMap<>();
            put(m, "m", e.minutes(), e.minuteCounts());
            put(m, "h", e.hours(), e.hourCounts());
            put(m, "d", e.days(), e.dayCounts());
            if (e.recent().length > 0) {
                m.put("t", Arrays.stream(e.recent()).boxed().toList());
            }
            out.put(name, m);
        });
        return out;
    }

    /**
     * Writes {@link #toMap}'s JSON straight from the buckets, without building the map: a profile carries its
     * timeline, and a profile is written at every evaluation that publishes. {@code EventTimelineTest} holds the two
     * to the same bytes.
     */
    public void writeJson(com.fasterxml.jackson.core.JsonGenerator out) throws java.io.IOException {
        out.writeStartObject();
        String[] names = events.keySet().toArray(new String[0]);
        Arrays.sort(names); // toMap's order
        for (String name : names) {
            Event e = events.get(name);
            JsonNames.write(out, name);
            out.writeStartObject();
            writePairs(out, MINUTES_KEY, e.minutes(), e.minuteCounts());
            writePairs(out, HOURS_KEY, e.hours(), e.hourCounts());
            writePairs(out, DAYS_KEY, e.days(), e.dayCounts());
            if (e.recent().length > 0) {
                out.writeFieldName(RECENT_KEY);
                out.writeArray(e.recent(), 0, e.recent().length);
            }
            out.writeEndObject();
        }
        out.writeEndObject();
    }

    private static final SerializedString MINUTES_KEY = new SerializedString("m");
    private static final SerializedString HOURS_KEY = new SerializedString("h");
    private static final SerializedString DAYS_KEY = new SerializedString("d");
    private static final SerializedString RECENT_KEY = new SerializedString("t");

    private static void writePairs(com.fasterxml.jackson.core.JsonGenerator out, SerializedString key, long[] index,
                                   int[] counts) throws java.io.IOException {
        if (index.length == 0) {
            return;
        }
        out.writeFieldName(key);
        out.writeStartArray();
        for (int i = 0; i < index.length; i++) {
            out.writeStartArray();
            out.writeNumber(index[i]);
            out.writeNumber((long) counts[i]);
            out.writeEndArray();
        }
        out.writeEndArray();
    }

    private static void put(Map<String, Object> m, String key, long[] index, int[] counts) {
        if (index.length == 0) {
            return;
        }
        List<List<Long>> pairs = new ArrayList<>(index.length);
        for (int i = 0; i < index.length; i++) {
            pairs.add(List.of(index[i], (long) counts[i]));
        }
        m.put(key, pairs);
    }

    /**
     * Reads what {@link #toMap} wrote (numbers as JSON brings them back), or takes a timeline as it is (a profile
     * not yet through JSON); anything else reads as no history.
     */
    public static EventTimeline fromMap(long asOf, Object value) {
        if (value instanceof EventTimeline timeline) {
            return timeline;
        }
        Map<String, Event> events = new TreeMap<>();
        if (value instanceof Map<?, ?> map) {
            map.forEach((name, v) -> {
                if (v instanceof Map<?, ?> parts) {
                    long[][] m = pairs(parts.get("m"));
                    long[][] h = pairs(parts.get("h"));
                    long[][] d = pairs(parts.get("d"));
                    long[] recent = parts.get("t") instanceof List<?> t
                            ? t.stream().mapToLong(x -> ((Number) x).longValue()).toArray() : new long[0];
                    events.put(String.valueOf(name), new Event(m[0], ints(m[1]), h[0], ints(h[1]), d[0], ints(d[1]),
                            recent));
                }
            });
        }
        return new EventTimeline(asOf, events);
    }

    private static long[][] pairs(Object value) {
        if (!(value instanceof List<?> list)) {
            return new long[][] {new long[0], new long[0]};
        }
        long[] index = new long[list.size()];
        long[] counts = new long[list.size()];
        boolean ascending = true;
        for (int i = 0; i < list.size(); i++) {
            List<?> pair = (List<?>) list.get(i);
            index[i] = ((Number) pair.get(0)).longValue();
            counts[i] = ((Number) pair.get(1)).longValue();
            ascending &= i == 0 || index[i - 1] <= index[i];
        }
        if (!ascending) { // toMap writes them in order; a profile from elsewhere is put in order, as sum reads them
            Integer[] order = new Integer[index.length];
            Arrays.setAll(order, i -> i);
            Arrays.sort(order, java.util.Comparator.comparingLong(i -> index[i]));
            return new long[][] {Arrays.stream(order).mapToLong(i -> index[i]).toArray(),
                    Arrays.stream(order).mapToLong(i -> counts[i]).toArray()};
        }
        return new long[][] {index, counts};
    }

    private static int[] ints(long[] values) {
        return Arrays.stream(values).mapToInt(v -> (int) v).toArray();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof EventTimeline other && asOf == other.asOf && toMap().equals(other.toMap());
    }

    @Override
    public int hashCode() {
        return Long.hashCode(asOf) * 31 + toMap().hashCode();
    }

    @Override
    public String toString() {
        return "EventTimeline" + toMap();
    }
}
