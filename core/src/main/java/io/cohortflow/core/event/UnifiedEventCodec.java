package io.cohortflow.core.event;

import io.cohortflow.core.codec.JsonCodec;

/** The JSON form of {@link UnifiedEvent} on events.unified. Field names follow the Segment spec (camelCase). */
public final class UnifiedEventCodec extends JsonCodec<UnifiedEvent> {
    private static final long serialVersionUID = 1L;

    public UnifiedEventCodec() {
        super(UnifiedEvent.class);
    }
}
