package io.cohortflow.activation;

import io.cohortflow.core.codec.JsonCodec;
import io.cohortflow.core.segment.SegmentChange;
import io.cohortflow.core.segment.SegmentProfile;

import java.util.Objects;

/**
 * A change bound for one destination, with what the user's profile held when it was joined (null when no profile
 * came within the join's wait).
 *
 * @param destination the destination's id
 * @param change      the change, as on segments.changes
 * @param profile     the user's profile as of the change, or later; may be null
 */
public record Activation(String destination, SegmentChange change, SegmentProfile profile) {
    public Activation {
        Objects.requireNonNull(destination, "destination");
        Objects.requireNonNull(change, "change");
    }

    /** The JSON form between operators and in the async operator's checkpointed queue. */
    public static final class Codec extends JsonCodec<Activation> {
        private static final long serialVersionUID = 1L;

        public Codec() {
            super(Activation.class);
        }
    }
}
