package io.cohortflow.core.segment;

import io.cohortflow.core.codec.JsonCodec;

/** The JSON form of {@link SegmentProfile} on segments.profiles. */
public final class SegmentProfileCodec extends JsonCodec<SegmentProfile> {
    private static final long serialVersionUID = 1L;

    public SegmentProfileCodec() {
        super(SegmentProfile.class);
    }
}
