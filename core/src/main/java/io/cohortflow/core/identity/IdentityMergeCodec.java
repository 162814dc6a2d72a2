package io.cohortflow.core.identity;

import io.cohortflow.core.codec.JsonCodec;

/** The JSON form of {@link IdentityMerge} on identity.merges. */
public final class IdentityMergeCodec extends JsonCodec<IdentityMerge> {
    private static final long serialVersionUID = 1L;

    public IdentityMergeCodec() {
        super(IdentityMerge.class);
    }
}
