package io.cohortflow.core.engine;

import io.cohortflow.core.segment.SegmentProfile;

import java.util.Objects;
import java.util.function.Supplier;

/**
 * The profile one step of a user's engine publishes, built when first asked for ({@link #get}). A host that may drop
 * it unread (the segmentation job keeps only a user's latest profile until a checkpoint) spares building it: its rule
 * inputs, features and traits as maps, about a sixth of the segmentation task's time (JFR). What it is built from was
 * fixed when the step ended (the evaluation's snapshot and scores, a copy of its traits and of the memberships), so it
 * is the same whenever it is built; {@code UserSegmentsTest} holds a profile built steps later to the one built at
 * once. Not thread-safe: a host builds it on the thread that runs the engine.
 */
public final class StepProfile {
    private final String userId;
    private final boolean ofEvaluation;
    private Supplier<SegmentProfile> source;
    private SegmentProfile built;

    private StepProfile(String userId, boolean ofEvaluation, Supplier<SegmentProfile> source, SegmentProfile built) {
        this.userId = Objects.requireNonNull(userId, "userId");
        this.ofEvaluation = ofEvaluation;
        this.source = source;
        this.built = built;
    }

    /** A profile already built: a tombstone, a merged id's last profile, or one read back from its JSON. */
    public static StepProfile of(SegmentProfile profile) {
        return new StepProfile(profile.userId(), false, null, profile);
    }

    /** An evaluation's profile, built by {@code source} when asked for. */
    static StepProfile evaluated(String userId, Supplier<SegmentProfile> source) {
        return new StepProfile(userId, true, Objects.requireNonNull(source, "source"), null);
    }

    public String userId() {
        return userId;
    }

    /**
     * Whether it is the profile of an evaluation (an event, a window moving, a fold, new rules), rather than one that
     * ends the id (a tombstone, a merge).
     */
    public boolean ofEvaluation() {
        return ofEvaluation;
    }

    public SegmentProfile get() {
        if (built == null) {
            built = source.get();
            source = null;
        }
        return built;
    }

    /** Equal when the profiles are (both are built to compare). */
    @Override
    public boolean equals(Object other) {
        return other instanceof StepProfile that && get().equals(that.get());
    }

    @Override
    public int hashCode() {
        return get().hashCode();
    }

    @Override
    public String toString() {
        return built != null ? built.toString() : "StepProfile[" + userId + ", not built]";
    }
}
