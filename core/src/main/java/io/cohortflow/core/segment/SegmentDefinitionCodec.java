package io.cohortflow.core.segment;

import io.cohortflow.core.codec.JsonCodec;

/** The JSON form of {@link SegmentDefinition} on segments.definitions (keyed by segment id, compacted). */
public final class SegmentDefinitionCodec extends JsonCodec<SegmentDefinition> {
    private static final long serialVersionUID = 1L;

    public SegmentDefinitionCodec() {
        super(SegmentDefinition.class);
    }
}
