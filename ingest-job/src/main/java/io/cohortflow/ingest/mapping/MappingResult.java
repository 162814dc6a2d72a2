package io.cohortflow.ingest.mapping;

import io.cohortflow.core.event.RejectReason;
import io.cohortflow.core.event.UnifiedEvent;

import java.util.List;
import java.util.Objects;

/** The outcome of mapping one payload: the events it held, or why it was rejected. */
public sealed interface MappingResult {

    record Accepted(List<UnifiedEvent> events) implements MappingResult {
        public Accepted {
            events = List.copyOf(events);
        }
    }

    record Rejected(RejectReason reason, String detail) implements MappingResult {
        public Rejected {
            Objects.requireNonNull(reason, "reason");
            Objects.requireNonNull(detail, "detail");
        }
    }

    static MappingResult accepted(UnifiedEvent event) {
        return new Accepted(List.of(event));
    }

    static MappingResult rejected(RejectReason reason, String detail) {
        return new Rejected(reason, detail);
    }
}
