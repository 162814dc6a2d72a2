package io.cohortflow.ingest.mapping;

import io.cohortflow.core.event.RejectReason;
import io.cohortflow.core.event.UnifiedEvent;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * What one payload became: the events it held and the parts that were rejected. A single call gives one of either;
 * a Segment batch can give several of both, since each call of a batch stands or falls alone.
 */
public final class MappingOutcome {
    /**
     * A rejected payload or part of one.
     *
     * @param payload the rejected part (one call of a batch), or null when the whole payload is rejected
     */
    public record Rejected(RejectReason reason, String detail, byte[] payload) {
        public Rejected {
            Objects.requireNonNull(reason, "reason");
            Objects.requireNonNull(detail, "detail");
        }
    }

    private final List<UnifiedEvent> events = new ArrayList<>(1);
    private final List<Rejected> rejected = new ArrayList<>(0);

    public static MappingOutcome rejected(RejectReason reason, String detail) {
        return new MappingOutcome().reject(reason, detail, null);
    }

    /** This outcome's whole-payload rejections as rejections of {@code part} (one call of a batch), if given. */
    MappingOutcome withPart(byte[] part) {
        if (part != null) {
            rejected.replaceAll(r -> r.payload() == null ? new Rejected(r.reason(), r.detail(), part) : r);
        }
        return this;
    }

    public MappingOutcome accept(UnifiedEvent event) {
        events.add(event);
        return this;
    }

    public MappingOutcome reject(RejectReason reason, String detail, byte[] part) {
        rejected.add(new Rejected(reason, detail, part));
        return this;
    }

    public MappingOutcome addAll(MappingOutcome other) {
        events.addAll(other.events);
        rejected.addAll(other.rejected);
        return this;
    }

    public List<UnifiedEvent> events() {
        return events;
    }

    public List<Rejected> rejected() {
        return rejected;
    }
}
