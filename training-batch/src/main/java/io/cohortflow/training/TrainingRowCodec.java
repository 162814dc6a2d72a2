package io.cohortflow.training;

import io.cohortflow.core.codec.JsonCodec;

/** Wire form of {@link TrainingRow} between operators. */
public final class TrainingRowCodec extends JsonCodec<TrainingRow> {
    private static final long serialVersionUID = 1L;

    public TrainingRowCodec() {
        super(TrainingRow.class);
    }
}
