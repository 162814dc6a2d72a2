package io.cohortflow.core.segment;

import io.cohortflow.core.codec.JsonCodec;

/** The JSON form of {@link StateHandoff} on segments.handoff. */
public final class StateHandoffCodec extends JsonCodec<StateHandoff> {
    private static final long serialVersionUID = 1L;

    public StateHandoffCodec() {
        super(StateHandoff.class);
    }
}
