package io.cohortflow.segmentation.input;

import io.cohortflow.core.model.ModelPublished;
import io.cohortflow.core.segment.SegmentDefinition;

/**
 * What every parallel instance must see (the broadcast input): a segment definition from segments.definitions, or a
 * model promotion from models.published.
 */
public record Control(SegmentDefinition definition, ModelPublished model) {
    public static Control of(SegmentDefinition definition) {
        return new Control(definition, null);
    }

    public static Control of(ModelPublished model) {
        return new Control(null, model);
    }
}
