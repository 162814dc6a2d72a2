package io.cohortflow.segmentation.input;

import io.cohortflow.core.codec.JsonCodec;

/** Wire form of {@link SegmentationInput} between operators. */
public final class SegmentationInputCodec extends JsonCodec<SegmentationInput> {
    private static final long serialVersionUID = 1L;

    public SegmentationInputCodec() {
        super(SegmentationInput.class);
    }
}
