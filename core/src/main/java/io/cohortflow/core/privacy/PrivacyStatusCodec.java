package io.cohortflow.core.privacy;

import io.cohortflow.core.codec.JsonCodec;

/** The JSON form of {@link PrivacyStatus} on privacy.status (keyed by {@link PrivacyStatus#key()}, compacted). */
public final class PrivacyStatusCodec extends JsonCodec<PrivacyStatus> {
    private static final long serialVersionUID = 1L;

    public PrivacyStatusCodec() {
        super(PrivacyStatus.class);
    }
}
