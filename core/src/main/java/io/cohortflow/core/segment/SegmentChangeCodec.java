package io.cohortflow.core.segment;

import io.cohortflow.core.codec.JsonCodec;

/** The JSON form of {@link SegmentChange} on segments.changes. */
public final class SegmentChangeCodec extends JsonCodec<SegmentChange> {
    private static final long serialVersionUID = 1L;

    public SegmentChangeCodec() {
        super(SegmentChange.class);
    }
}
