package io.cohortflow.segmentation.input;

import io.cohortflow.core.codec.JsonCodec;

/** Wire form of {@link Control} between operators. */
public final class ControlCodec extends JsonCodec<Control> {
    private static final long serialVersionUID = 1L;

    public ControlCodec() {
        super(Control.class);
    }
}
