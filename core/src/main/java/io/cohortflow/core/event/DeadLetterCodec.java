package io.cohortflow.core.event;

import io.cohortflow.core.codec.JsonCodec;

/** The JSON form of {@link DeadLetter} on events.dlq. */
public final class DeadLetterCodec extends JsonCodec<DeadLetter> {
    private static final long serialVersionUID = 1L;

    public DeadLetterCodec() {
        super(DeadLetter.class);
    }
}
