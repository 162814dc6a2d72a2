package io.cohortflow.core.engine;

import io.cohortflow.core.feature.FeatureSnapshot;
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
 *
 * <p>A condition that uses a read only in comparisons with literals ({@link SegmentRules.Threshold}: {@code
 * count_7d['add_to_cart'] >= 3}) depends on their outcomes, not on the value: when the value moves, each of its
 * comparisons is worked out once for all conditions, and only the conditions of the comparisons whose outcome changed
 * run. The outcomes are kept after the reads' values, in the same array.
 */
public final class RuleReads {
    /** A value no read ever has: every condition runs at a user's first evaluation under these rules. */
    private static final Object UNKNOWN = new Object();

    private final List<SegmentRules.Read> reads;
    /** Per read: its variable's slot ({@link SegmentRules.Read#slot}). */
    private final int[] slots;
    /** Per read: a behavioural operator or a map's entry resolved; null for a variable itself. */
    private final SegmentRules.Resolved[] resolved;
    /** The conditions, in the ruleset's order: an evaluation walks them by index, not through the sorted map. */
    private final List<SegmentRules.Compiled> segments;
    /** Their ids' ranks, by which the engine finds a segment among a user's memberships and ordinals. */
    private final SegmentLongs.Order order;
    /**
     * Per read: the conditions that read its value (their places in the ruleset), so that a change marks them at once.
     * A condition that reads it only through comparisons with literals is not among them.
     */
    private final int[][] readers;
    /** The distinct comparisons of reads with literals that conditions depend on instead of the reads' values. */
    private final List<SegmentRules.Threshold> thresholds;
    /** Per read: its comparisons (indexes into {@link #thresholds}). */
    private final int[][] comparisons;
    /** Per comparison: the conditions that depend on its outcome. */
    private final int[][] testers;
    /**
     * Per condition: its {@link SegmentRules.Compiled#decision} over the places of {@link #thresholds} and of
     * {@link #reads} ({@link SegmentRules#read}), or null: the outcomes of its comparisons and the values of its reads
     * of a bool decide it without running it.
     */
    private final int[][] decisions;
    /** Per condition: it runs at every evaluation (it reads the time). */
    private final boolean[] always;
    /** Per condition: a model's output decides it (it reads {@code scores} or {@code persona}). */
    private final boolean[] model;

    /** Per event: the windows the operators on it look back over (ms), and those of operators on any event. */
    private final Map<String, java.util.Set<Long>> windowsByEvent;
    private final java.util.Set<Long> anyEventWindows;

    private final java.util.function.Function<String, java.util.Set<Long>> windows = this::windowsOf;
    /**
     * Per event: the count windows a condition or a model reads of it (bit {@code i}:
     * {@link FeatureSnapshot#COUNT_WINDOWS}{@code [i]}), besides {@link #everyEventCounts}, those read of every event.
     */
    private final Map<String, Integer> countsByEvent;
    private final int everyEventCounts;
    private final java.util.function.ToIntFunction<String> counts = this::countsOf;

    private RuleReads(List<SegmentRules.Read> reads, List<SegmentRules.Compiled> segments, int[][] readers,
                      List<SegmentRules.Threshold> thresholds, int[][] comparisons, int[][] testers,
                      boolean[] always, boolean[] model, Map<String, java.util.Set<Long>> windowsByEvent,
                      java.util.Set<Long> anyEventWindows, Map<String, Integer> countsByEvent, int everyEventCounts,
                      int[][] decisions) {
        this.reads = reads;
        this.slots = reads.stream().mapToInt(SegmentRules.Read::slot).toArray();
        this.resolved = reads.stream().map(RuleReads::resolved).toArray(SegmentRules.Resolved[]::new);
        this.segments = segments;
        this.order = new SegmentLongs.Order(List.copyOf(new java.util.TreeSet<>(
                segments.stream().map(segment -> segment.definition().id()).toList())));
        this.readers = readers;
        this.thresholds = thresholds;
        this.comparisons = comparisons;
        this.testers = testers;
        this.always = always;
        this.model = model;
        this.windowsByEvent = windowsByEvent;
        this.anyEventWindows = anyEventWindows;
        this.countsByEvent = countsByEvent;
        this.everyEventCounts = everyEventCounts;
        this.decisions = decisions;
    }

    /** The reads of {@code segments}, in that order. */
    static RuleReads of(Collection<SegmentRules.Compiled> segments) {
        Map<SegmentRules.Read, Integer> index = new LinkedHashMap<>();
        Map<SegmentRules.Threshold, Integer> thresholdIndex = new LinkedHashMap<>();
        int[][] readsOf = new int[segments.size()][];
        int[][] thresholdsOf = new int[segments.size()][];
        int[][] decisions = new int[segments.size()][];
        boolean[] always = new boolean[segments.size()];
        boolean[] model = new boolean[segments.size()];
        java.util.Set<Long> anyEvent = new java.util.TreeSet<>();
        int i = 0;
        for (SegmentRules.Compiled segment : segments) {
            java.util.Set<SegmentRules.Read> compared = new java.util.HashSet<>();
            segment.thresholds().forEach(threshold -> compared.add(threshold.read()));
            segment.reads().forEach(read -> index.computeIfAbsent(read, r -> index.size())); // thresholds' among them
            readsOf[i] = segment.reads().stream().filter(read -> !compared.contains(read))
                    .mapToInt(index::get).toArray();
            thresholdsOf[i] = segment.thresholds().stream()
                    .mapToInt(threshold -> thresholdIndex.computeIfAbsent(threshold, t -> thresholdIndex.size()))
                    .toArray();
            if (!segment.decision().isEmpty()) { // its places mapped to these rules' reads and comparisons
                int[] own = thresholdsOf[i];
                decisions[i] = segment.decision().stream().mapToInt(op -> op >= 0 ? own[op] : op < SegmentRules.NOT
                        ? SegmentRules.read(index.get(segment.reads().get(SegmentRules.readPlace(op)))) : op)
                        .toArray();
            }
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
        List<SegmentRules.Threshold> thresholds = List.copyOf(thresholdIndex.keySet());
        List<List<Integer>> comparisonsOf = new ArrayList<>();
        index.keySet().forEach(read -> comparisonsOf.add(new ArrayList<>()));
        for (int t = 0; t < thresholds.size(); t++) {
            comparisonsOf.get(index.get(thresholds.get(t).read())).add(t);
        }
        List<List<Integer>> testersOf = new ArrayList<>();
        thresholds.forEach(threshold -> testersOf.add(new ArrayList<>()));
        for (int segment = 0; segment < thresholdsOf.length; segment++) {
            for (int t : thresholdsOf[segment]) {
                testersOf.get(t).add(segment);
            }
        }
        // The count windows read: a condition's count_7d['add_to_cart'] that event's, a count_7d read whole (or a
        // condition that reads the time, whose reads are not all known) every event's; and what the models read. A
        // behavioural operator reads its events' buckets beyond its own window (first_within looks back 90 days,
        // then_within's times are forgotten with their day): all of their windows count.
        boolean anyTime = false;
        for (boolean readsTime : always) {
            anyTime |= readsTime;
        }
        int everyEvent = anyTime ? -1 : 0;
        Map<String, Integer> countsByEvent = new java.util.HashMap<>();
        for (SegmentRules.Read read : index.keySet()) {
            if (read.operator() != null) {
                int events = read.operator().equals("then_within") ? 2 : 1;
                read.arguments().stream().limit(events).forEach(event -> countsByEvent.put(event, -1));
                continue;
            }
            int window = read.variable().startsWith("count_")
                    ? FeatureSnapshot.COUNT_WINDOWS.indexOf(read.variable().substring("count_".length())) : -1;
            if (window >= 0 && read.key() == null) {
                everyEvent |= 1 << window;
            } else if (window >= 0) {
                countsByEvent.merge(read.key(), 1 << window, (a, b) -> a | b);
            }
        }
        FeatureSnapshot.COUNTS_IN_FEATURES.forEach((window, events) -> events.forEach(event ->
                countsByEvent.merge(event, 1 << FeatureSnapshot.COUNT_WINDOWS.indexOf(window), (a, b) -> a | b)));
        return new RuleReads(List.copyOf(new ArrayList<>(index.keySet())), List.copyOf(segments), arrays(readersOf),
                thresholds, arrays(comparisonsOf), arrays(testersOf), always, model, Map.copyOf(byEvent),
                java.util.Set.copyOf(anyEvent), Map.copyOf(countsByEvent), everyEvent, decisions);
    }

    /** The read resolved, or null (also for a window CEL's checker let through that is none: CEL reports it). */
    private static SegmentRules.Resolved resolved(SegmentRules.Read read) {
        try {
            return read.resolved();
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    private static int[][] arrays(List<List<Integer>> lists) {
        return lists.stream().map(l -> l.stream().mapToInt(Integer::intValue).toArray()).toArray(int[][]::new);
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

    /**
     * The count windows ({@link FeatureSnapshot#COUNT_WINDOWS}, bit {@code i} for window {@code i}) of
     * {@code event} that a running condition or a model reads: a moment another of its windows moves changes only the
     * profile.
     */
    public int countsOf(String event) {
        return everyEventCounts | countsByEvent.getOrDefault(event, 0);
    }

    /**
     * {@link #countsOf} as one function object for these rules (as {@link #windows}):
     * {@link io.cohortflow.core.feature.UserFeatures#nextDecision}.
     */
    public java.util.function.ToIntFunction<String> counts() {
        return counts;
    }

    /** The conditions, in the ruleset's order (the indexes of {@link #due} and {@link #readsModel}). */
    List<SegmentRules.Compiled> segments() {
        return segments;
    }

    /** The running segments' ids ranked ({@link SegmentLongs.Order}). */
    SegmentLongs.Order order() {
        return order;
    }

    /**
     * Condition {@code segment}'s value from the outcomes of its comparisons and the values of its reads of a bool in
     * {@code values} (as {@link #update} and {@link #due} left them): 1 or 0, or -1 when they do not decide it (it has
     * other parts, or one of them is no truth value) and it must run.
     */
    int decided(int segment, Object[] values) {
        int[] decision = decisions[segment];
        return decision == null ? -1 : SegmentRules.decide(decision, values, reads.size(), 0);
    }

    /** Whether condition {@code segment} (its place in the ruleset) reads a model's output. */
    boolean readsModel(int segment) {
        return model[segment];
    }

    /** The distinct reads of all conditions. */
    public List<SegmentRules.Read> reads() {
        return reads;
    }

    /**
     * Values for {@link #update} before a user's first evaluation under these rules (every condition runs): the reads'
     * values, then the comparisons' outcomes.
     */
    Object[] unknown() {
        Object[] values = new Object[reads.size() + thresholds.size()];
        java.util.Arrays.fill(values, UNKNOWN);
        return values;
    }

    /**
     * Where a user without memberships starts its first evaluation under these rules: the reads' values and
     * comparisons' outcomes of a user never seen, and which conditions match it. The user's own values are compared
     * with these, so only the conditions whose reads differ from a new user's run, and those that match a new user
     * (a user without memberships is in none of them). With a thousand segments, a new user's first evaluation ran
     * every condition: a third of all the conditions run over a week's replay (HotPathBenchmark's pass).
     */
    record Start(Object[] values, boolean[] matching) {
    }

    private volatile Start empty;

    /**
     * {@link Start} for these rules, worked out from {@code newUser} (the variables of a user never seen) the first
     * time it is asked for. Immutable once built: a race between threads only builds it twice.
     */
    Start empty(java.util.function.Supplier<Map<String, Object>> newUser) {
        Start start = empty;
        if (start == null) {
            Map<String, Object> variables = newUser.get();
            Object[] values = unknown();
            update(variables, values, new boolean[reads.size()]);
            boolean[] all = new boolean[reads.size()];
            java.util.Arrays.fill(all, true);
            due(all, values); // the comparisons' outcomes, after the values
            boolean[] matching = new boolean[segments.size()];
            for (int i = 0; i < matching.length; i++) {
                matching[i] = SegmentRules.matches(segments.get(i), variables);
            }
            start = new Start(values, matching);
            empty = start;
        }
        return start;
    }

    /** The {@link Start} built for these rules, or null while no user has asked for it (for tests). */
    Start emptyStart() {
        return empty;
    }

    /** The comparisons of reads with literals whose outcomes conditions depend on (see the class comment). */
    List<SegmentRules.Threshold> thresholds() {
        return thresholds;
    }

    /**
     * Reads every value from {@code variables} into {@code values} (the previous evaluation's, as {@link #unknown}
     * lays them out) and marks in {@code changed} (one per read) those that differ.
     */
    void update(Map<String, Object> variables, Object[] values, boolean[] changed) {
        for (int r = 0; r < changed.length; r++) {
            SegmentRules.Resolved read = resolved[r];
            Object value = read != null ? read.valueIn(variables, slots[r]) : reads.get(r).valueIn(variables, slots[r]);
            changed[r] = !Objects.equals(value, values[r]);
            values[r] = value;
        }
    }

    /**
     * Which conditions (by their place in the ruleset) must run, given the reads that changed and their new
     * {@code values} (from {@link #update}): those that read the time, the readers of each read that changed, and the
     * conditions of each comparison of those reads whose outcome changed, which is kept in {@code values}. The work is
     * the changed reads', not every condition's (with 1,000 segments an event moves a few reads).
     */
    boolean[] due(boolean[] changed, Object[] values) {
        boolean[] due = always.clone();
        int outcomes = reads.size();
        for (int r = 0; r < changed.length; r++) {
            if (changed[r]) {
                for (int segment : readers[r]) {
                    due[segment] = true;
                }
                for (int t : comparisons[r]) {
                    Object outcome = thresholds.get(t).outcome(values[r]);
                    if (!Objects.equals(outcome, values[outcomes + t])) {
                        values[outcomes + t] = outcome;
                        for (int segment : testers[t]) {
                            due[segment] = true;
                        }
                    }
                }
            }
        }
        return due;
    }
}
