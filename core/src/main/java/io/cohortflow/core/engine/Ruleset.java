package io.cohortflow.core.engine;

import io.cohortflow.core.feature.FeatureConfig;
import io.cohortflow.core.scoring.Scorer;
import io.cohortflow.core.segment.SegmentDefinition;
import io.cohortflow.core.segment.SegmentRules;

import java.time.Duration;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * What every user's engine is evaluated against at one moment: how features are computed, the running segment
 * definitions (compiled) and the scorer. Immutable: a new definition or a model swap makes a new one, against which
 * the host evaluates every user again at once ({@link UserSegments#reevaluate}).
 *
 * @param features     feature settings (conf/features.yaml)
 * @param eventNames   the canonical event names every count map carries (zero when unseen)
 * @param mergeMemory  how long a merged-away id remembers where it went, so its stragglers follow
 * @param segments     segment id -> compiled definition, in id order (the order changes are emitted in)
 * @param scorer       the model bundle scoring now, or {@link Scorer#NONE}
 * @param operatorWindows the windows the running conditions' behavioural operators take (ms), which the engine's
 *                     timers move with too: derived from {@code segments} once (whatever is passed is replaced), not
 *                     on every event
 */
public record Ruleset(FeatureConfig features, List<String> eventNames, Duration mergeMemory,
                      SortedMap<String, SegmentRules.Compiled> segments, Scorer scorer,
                      java.util.Set<Long> operatorWindows) {

    public Ruleset {
        Objects.requireNonNull(features, "features");
        eventNames = List.copyOf(eventNames);
        Objects.requireNonNull(mergeMemory, "mergeMemory");
        segments = Collections.unmodifiableSortedMap(new TreeMap<>(segments));
        Objects.requireNonNull(scorer, "scorer");
        java.util.Set<Long> windows = new java.util.TreeSet<>();
        segments.values().forEach(segment -> windows.addAll(segment.windows()));
        operatorWindows = java.util.Collections.unmodifiableSet(windows);
    }

    public Ruleset(FeatureConfig features, List<String> eventNames, Duration mergeMemory,
                   SortedMap<String, SegmentRules.Compiled> segments, Scorer scorer) {
        this(features, eventNames, mergeMemory, segments, scorer, java.util.Set.of());
    }

    /** Compiles {@code definitions}; throws {@link IllegalArgumentException} on the first invalid one. */
    public static Ruleset of(FeatureConfig features, List<String> eventNames, Duration mergeMemory,
                             Collection<SegmentDefinition> definitions, Scorer scorer) {
        SortedMap<String, SegmentRules.Compiled> compiled = new TreeMap<>();
        for (SegmentDefinition definition : definitions) {
            compiled.put(definition.id(), SegmentRules.compile(definition));
        }
        return new Ruleset(features, eventNames, mergeMemory, compiled, scorer);
    }
}
