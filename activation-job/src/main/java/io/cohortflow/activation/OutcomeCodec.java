package io.cohortflow.activation;

import io.cohortflow.core.codec.JsonCodec;

/** The JSON form of a delivery's outcome between operators. */
public final class OutcomeCodec extends JsonCodec<DestinationClient.Outcome> {
    private static final long serialVersionUID = 1L;

    public OutcomeCodec() {
        super(DestinationClient.Outcome.class);
    }
}
