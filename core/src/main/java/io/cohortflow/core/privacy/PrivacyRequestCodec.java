package io.cohortflow.core.privacy;

import io.cohortflow.core.codec.JsonCodec;

/** The JSON form of {@link PrivacyRequest} on privacy.requests (keyed by request id, compacted). */
public final class PrivacyRequestCodec extends JsonCodec<PrivacyRequest> {
    private static final long serialVersionUID = 1L;

    public PrivacyRequestCodec() {
        super(PrivacyRequest.class);
    }
}
