package io.cohortflow.segmentation.input;

import io.cohortflow.core.event.UnifiedEvent;
import io.cohortflow.core.identity.IdentityMerge;
import io.cohortflow.core.segment.StateHandoff;

/**
 * One input of the per-user function: a unified event, a late event (from events.late: applied as a correction), an
 * identity merge (at the id merged away), or a state handoff (at the id merged into). The sources are unioned into one
 * keyed stream so one function owns a user's state. Exactly one component is set.
 */
public record SegmentationInput(UnifiedEvent event, IdentityMerge merge, StateHandoff handoff, UnifiedEvent late) {

    public static SegmentationInput of(UnifiedEvent event) {
        return new SegmentationInput(event, null, null, null);
    }

    public static SegmentationInput of(IdentityMerge merge) {
        return new SegmentationInput(null, merge, null, null);
    }

    public static SegmentationInput of(StateHandoff handoff) {
        return new SegmentationInput(null, null, handoff, null);
    }

    public static SegmentationInput late(UnifiedEvent event) {
        return new SegmentationInput(null, null, null, event);
    }

    /** The user this input belongs to. */
    public String key() {
        if (event != null) {
            return event.resolvedId();
        }
        if (late != null) {
            return late.resolvedId();
        }
        return merge != null ? merge.fromId() : handoff.toId();
    }

    public long eventTime() {
        if (event != null) {
            return event.timestamp();
        }
        if (late != null) {
            return late.timestamp();
        }
        return merge != null ? merge.eventTime() : handoff.eventTime();
    }
}
