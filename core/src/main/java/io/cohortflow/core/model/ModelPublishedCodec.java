package io.cohortflow.core.model;

import io.cohortflow.core.codec.JsonCodec;

/** The JSON form of {@link ModelPublished} on models.published. */
public final class ModelPublishedCodec extends JsonCodec<ModelPublished> {
    private static final long serialVersionUID = 1L;

    public ModelPublishedCodec() {
        super(ModelPublished.class);
    }
}
