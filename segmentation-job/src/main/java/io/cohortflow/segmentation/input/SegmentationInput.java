package io.cohortflow.segmentation.input;

import io.cohortflow.core.event.UnifiedEvent;
import io.cohortflow.core.identity.IdentityMerge;
import io.cohortflow.core.segment.StateHandoff;

/**
 * One input of the per-user function: a unified event, a late event (from events.late: applied as a correction), a
 * decision on an identity link (at the device, {@code merge}; a refusal also at the user, {@code refusal}), or a
 * state handoff (at the id merged into), or an erasure (a privacy request's id). The sources are unioned into one
 * keyed stream so one function owns a user's state. Exactly one component is set.
 */
public record SegmentationInput(UnifiedEvent event, IdentityMerge merge, StateHandoff handoff, UnifiedEvent late,
                                IdentityMerge refusal, Erasure erasure) {

    /**
     * One id of a privacy request that deletes: what is known of it is forgotten.
     *
     * @param ids how many ids the request names (its status is done when each is reported); 0 read from an input
     *            recorded before the field existed, taken as 1
     */
    public record Erasure(String requestId, String id, long requestedAt, int ids) {
    }

    public static SegmentationInput of(UnifiedEvent event) {
        return new SegmentationInput(event, null, null, null, null, null);
    }

    public static SegmentationInput of(IdentityMerge merge) {
        return new SegmentationInput(null, merge, null, null, null, null);
    }

    public static SegmentationInput of(StateHandoff handoff) {
        return new SegmentationInput(null, null, handoff, null, null, null);
    }

    public static SegmentationInput late(UnifiedEvent event) {
        return new SegmentationInput(null, null, null, event, null, null);
    }

    /** A refused link, at the user it would have merged into: no state will come for it. */
    public static SegmentationInput refusal(IdentityMerge refused) {
        return new SegmentationInput(null, null, null, null, refused, null);
    }

    public static SegmentationInput erase(String requestId, String id, long requestedAt, int ids) {
        return new SegmentationInput(null, null, null, null, null, new Erasure(requestId, id, requestedAt, ids));
    }

    /** The decision this input carries, at whichever end; null for events and handoffs. */
    public IdentityMerge decision() {
        return merge != null ? merge : refusal;
    }

    /** The user this input belongs to. */
    public String key() {
        if (event != null) {
            return event.resolvedId();
        }
        if (late != null) {
            return late.resolvedId();
        }
        if (refusal != null) {
            return refusal.toId();
        }
        if (erasure != null) {
            return erasure.id();
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
        IdentityMerge decision = decision();
        if (erasure != null) {
            return erasure.requestedAt();
        }
        return decision != null ? decision.eventTime() : handoff.eventTime();
    }
}
