package io.cohortflow.segmentation.input;

import io.cohortflow.core.event.UnifiedEvent;
import io.cohortflow.core.identity.IdentityMerge;
import io.cohortflow.core.segment.StateHandoff;

/**
 * One input of the per-user function: a unified event, an identity merge (at the id merged away), or a state handoff
 * (at the id merged into). The three sources are unioned into one keyed stream so one function owns a user's state.
 */
public record SegmentationInput(UnifiedEvent event, IdentityMerge merge, StateHandoff handoff) {

    public static SegmentationInput of(UnifiedEvent event) {
        return new SegmentationInput(event, null, null);
    }

    public static SegmentationInput of(IdentityMerge merge) {
        return new SegmentationInput(null, merge, null);
    }

    public static SegmentationInput of(StateHandoff handoff) {
        return new SegmentationInput(null, null, handoff);
    }

    /** The user this input belongs to. */
    public String key() {
        if (event != null) {
            return event.resolvedId();
        }
        return merge != null ? merge.fromId() : handoff.toId();
    }

    public long eventTime() {
        if (event != null) {
            return event.timestamp();
        }
        return merge != null ? merge.eventTime() : handoff.eventTime();
    }
}
