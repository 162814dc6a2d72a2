package io.cohortflow.core.engine;

import io.cohortflow.core.segment.SegmentRules;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What the running conditions read, once for all of them: each distinct read ({@link SegmentRules.Read}: a variable,
 * or one entry of a map such as {@code count_1h['product_view']}) and which conditions read it. An evaluation reads
 * each value once, compares it with the value of the user's previous evaluation, and runs only the conditions one of
 * whose reads changed (and those that read {@code events}, which look back from the moment of evaluation). With a
 * thousand segments, an event moves a few counts: a few conditions run, not a thousand.
 */
public final class RuleReads {
    /** A value no read ever has: every condition runs at a user's first evaluation under these rules. */
    private static final Object UNKNOWN = new Object();

    private final List<SegmentRules.Read> reads;
    /** The conditions, in the ruleset's order: an evaluation walks them by index, not through the sorted map. */
    private final List<SegmentRules.Compiled> segments;
    /** Per read: the conditions that read it (their places in the ruleset), so that a change marks them at once. */
    private final int[][] readers;
    /** Per condition: it runs at every evaluation (it reads the time). */
    private final boolean[] always;
    /** Per condition: a model's output decides it (it reads {@code scores} or {@code persona}). */
    private final boolean[] model;

    /** Per event: the windows the operators on it look back over (ms), and those of operators on any event. */
    private final Map<String, java.util.Set<Long>> windowsByEvent;
    private final java.util.Set<Long> anyEventWindows;

    private final java.util.function.Function<String, java.util.Set<Long>> windows = this::windowsOf;

    private RuleReads(List<SegmentRules.Read> reads, List<SegmentRules.Compiled> segments, int[][] readers,
                      boolean[] always, boolean[] model, Map<String, java.util.Set<Long>> windowsByEvent,
                      java.util.Set<Long> anyEventWindows) {
        this.reads = reads;
        this.segments = segments;
        this.readers = readers;
        this.always = always;
        this.model = model;
        this.windowsByEvent = windowsByEvent;
        this.anyEventWindows = anyEventWindows;
    }

    /** The reads of {@code segments}, in that order. */
    static RuleReads of(Collection<SegmentRules.Compiled> segments) {
        Map<SegmentRules.Read, Integer> index = new LinkedHashMap<>();
        int[][] readsOf = new int[segments.size()][];
        boolean[] always = new boolean[segments.size()];
        boolean[] model = new boolean[segments.size()];
        java.util.Set<Long> anyEvent = new java.util.TreeSet<>();
        int i = 0;
        for (SegmentRules.Compiled segment : segments) {
            readsOf[i] = segment.reads().stream().mapToInt(read -> index.computeIfAbsent(read, r -> index.size()))
                    .toArray();
            always[i] = segment.readsTime();
            model[i] = segment.readsModel();
            if (always[i]) { // an operator on an event named at run time: its windows hold for every event
                anyEvent.addAll(segment.windows());
            }
            i++;
        }
        Map<String, java.util.Set<Long>> byEvent = new java.util.HashMap<>();
        for (SegmentRules.Read read : index.keySet()) {
            if (read.operator() != null && read.window() > 0) {
                byEvent.computeIfAbsent(read.event(), e -> new java.util.TreeSet<>(anyEvent)).add(read.window());
            }
        }
        byEvent.replaceAll((event, windows) -> java.util.Set.copyOf(windows));
        List<List<Integer>> readersOf = new ArrayList<>();
        index.keySet().forEach(read -> readersOf.add(new ArrayList<>()));
        for (int segment = 0; segment < readsOf.length; segment++) {
            for (int r : readsOf[segment]) {
                readersOf.get(r).add(segment);
            }
        }
        int[][] readers = readersOf.stream().map(l -> l.stream().mapToInt(Integer::intValue).toArray())
                .toArray(int[][]::new);
        return new RuleReads(List.copyOf(new ArrayList<>(index.keySet())), List.copyOf(segments), readers, always,
                model, Map.copyOf(byEvent), java.util.Set.copyOf(anyEvent));
    }

    /**
     * The windows (ms) after which the running conditions' operators on {@code event} can change as time passes: the
     * engine's timers follow them for that event's buckets alone.
     */
    public java.util.Set<Long> windowsOf(String event) {
        return windowsByEvent.getOrDefault(event, anyEventWindows);
    }

    /**
     * {@link #windowsOf} as one function object for these rules:
     * {@link io.cohortflow.core.feature.UserFeatures#nextChange} keeps its last answer for the same function, so the
     * engine asks with this one every time.
     */
    public java.util.function.Function<String, java.util.Set<Long>> windows() {
        return windows;
    }

    /** The conditions, in the ruleset's order (the indexes of {@link #due} and {@link #readsModel}). */
    List<SegmentRules.Compiled> segments() {
        return segments;
    }

    /** Whether condition {@code segment} (its place in the ruleset) reads a model's output. */
    boolean readsModel(int segment) {
        return model[segment];
    }

    /** The distinct reads of all conditions. */
    public List<SegmentRules.Read> reads() {
        return reads;
    }

    /** Values for {@link #update} before a user's first evaluation under these rules: every condition runs. */
    Object[] unknown() {
        Object[] values = new Object[reads.size()];
        java.util.Arrays.fill(values, UNKNOWN);
        return values;
    }

    /**
     * Reads every value from {@code variables} into {@code values} (the previous evaluation's) and marks in
     * {@code changed} those that differ.
     */
    void update(Map<String, Object> variables, Object[] values, boolean[] changed) {
        for (int r = 0; r < values.length; r++) {
            Object value = reads.get(r).valueIn(variables);
            changed[r] = !Objects.equals(value, values[r]);
            values[r] = value;
        }
    }

    /**
     * Which conditions (by their place in the ruleset) must run, given the reads that changed: those that read the
     * time, and the readers of each read that changed. The work is the changed reads' readers, not every condition's
     * reads (with 1,000 segments an event moves a few reads).
     */
    boolean[] due(boolean[] changed) {
        boolean[] due = always.clone();
        for (int r = 0; r < changed.length; r++) {
            if (changed[r]) {
                for (int segment : readers[r]) {
                    due[segment] = true;
                }
            }
        }
        return due;
    }
}
