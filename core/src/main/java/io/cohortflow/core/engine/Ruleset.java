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
 * @param reads        what the running conditions read, so that an evaluation runs only those whose reads changed,
 *                     and the windows of their behavioural operators on each event, which the engine's timers move
 *                     with too: derived from {@code segments} once (whatever is passed is replaced), not on every event
 */
public record Ruleset(FeatureConfig features, List<String> eventNames, Duration mergeMemory,
                      SortedMap<String, SegmentRules.Compiled> segments, Scorer scorer, RuleReads reads) {

    public Ruleset {
        Objects.requireNonNull(features, "features");
        eventNames = List.copyOf(eventNames);
        Objects.requireNonNull(mergeMemory, "mergeMemory");
        segments = Collections.unmodifiableSortedMap(new TreeMap<>(segments));
        Objects.requireNonNull(scorer, "scorer");
        reads = RuleReads.of(segments.values());
    }

    public Ruleset(FeatureConfig features, List<String> eventNames, Duration mergeMemory,
                   SortedMap<String, SegmentRules.Compiled> segments, Scorer scorer) {
        this(features, eventNames, mergeMemory, segments, scorer, null);
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
