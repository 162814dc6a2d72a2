package io.cohortflow.core.segment;

import io.cohortflow.core.codec.FrozenMap;

import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A user's current state, as published on the compacted segments.profiles topic (keyed by user id): the latest
 * record per user is their profile.
 *
 * @param userId      resolved user id
 * @param asOf        event time the profile is computed for, epoch ms
 * @param segments    ids of the segments the user is in now
 * @param features    key feature values as of {@code asOf}
 * @param scores      model scores (empty until a model is published)
 * @param persona     persona segment from the clustering model, or null
 * @param model       the model bundle that scored, e.g. {@code none} or {@code bundle@v3}
 * @param mergedInto  set when this id was merged into another user: the profile is final, look there
 * @param traits      computed traits for activation ({@link io.cohortflow.core.feature.ProfileTraits#asMap}): the
 *                    last products viewed, the cart's items, hashed email and phone; empty when none (and in profiles
 *                    written before traits existed)
 * @param inputs      every variable a segment condition reads but {@code scores} and {@code persona}, as of
 *                    {@code asOf} ({@link io.cohortflow.core.feature.FeatureSnapshot#ruleVariables}): what the console
 *                    previews and explains conditions over, with the stream's own rule engine; empty in the last
 *                    profile of a merged id (and in profiles written before inputs existed)
 */
public record SegmentProfile(String userId, long asOf, List<String> segments, Map<String, Double> features,
                             Map<String, Double> scores, String persona, String model, String mergedInto,
                             Map<String, Object> traits, Map<String, Object> inputs) {
    /** The {@code asOf} of a tombstone: no profile can be that old. */
    private static final long DELETED = Long.MIN_VALUE;

    /**
     * The user's profile is deleted (a privacy request): written to segments.profiles as a record with no value,
     * which compaction removes together with every earlier profile of the user.
     */
    public static SegmentProfile tombstone(String userId) {
        return new SegmentProfile(userId, DELETED, List.of(), Map.of(), Map.of(), null, "none", null, Map.of(),
                Map.of());
    }

    /**
     * Whether this profile is the user's state after {@code change}, or later: as of its time or later, scored by the
     * same model, and in the segment after an ENTER, out of it after an EXIT (a rules change re-evaluates a user at an
     * unchanged time, so the time alone would take the profile from before it). What activation's join waits for.
     */
    public boolean covers(SegmentChange change) {
        return userId.equals(change.userId()) && asOf >= change.eventTime()
                && Objects.equals(model, change.model())
                && segments.contains(change.segmentId()) == (change.type() == ChangeType.ENTER);
    }

    /** Whether this stands for a deleted profile ({@link #tombstone}). */
    @com.fasterxml.jackson.annotation.JsonIgnore
    public boolean isTombstone() {
        return asOf == DELETED;
    }

    public SegmentProfile {
        Objects.requireNonNull(userId, "userId");
        segments = List.copyOf(segments);
        features = FrozenMap.copyOf(features);
        scores = FrozenMap.copyOf(scores);
        traits = traits == null ? Map.of() : FrozenMap.copyOf(traits);
        inputs = inputs == null ? Map.of() : FrozenMap.copyOf(inputs);
    }
}
