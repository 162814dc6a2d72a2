package io.cohortflow.segmentation.functions;

import io.cohortflow.core.codec.JsonCodec;
import io.cohortflow.core.engine.StepProfile;
import io.cohortflow.core.segment.SegmentProfile;

import java.util.Objects;

/**
 * A profile as the segmentation function publishes it, on its way to {@link LatestProfiles}: whether a later profile
 * of the same user may take its place before it is written. The profile is built only if it is written
 * ({@link StepProfile}).
 *
 * @param profile      the user's profile after a step
 * @param supersedable the step moved no membership (an event, a window moving with time, a fold): nothing but the
 *                     profile topic's latest value depends on it, so a later profile of the user can stand for it. A
 *                     profile of a step that ENTERed or EXITed is what the changes' readers join them with
 *                     (activation-job's {@code ProfileJoin}: a profile as of the change's time or later, with the
 *                     membership the change left), and tombstones and merges end an id: those are written as they
 *                     come.
 */
public record ProfileUpdate(StepProfile profile, boolean supersedable) {

    public ProfileUpdate {
        Objects.requireNonNull(profile, "profile");
    }

    /** The update of a step's outcome: supersedable when the step changed no membership and evaluated the user. */
    static ProfileUpdate of(StepProfile profile, boolean changedMemberships) {
        return new ProfileUpdate(profile, !changedMemberships && profile.ofEvaluation());
    }

    /**
     * The update's wire form between operators when they are not chained (they are in the job): the profile's JSON,
     * built, and the flag.
     */
    public static final class Codec extends JsonCodec<ProfileUpdate> {
        private static final long serialVersionUID = 1L;

        public Codec() {
            super(ProfileUpdate.class);
        }

        private record Wire(SegmentProfile profile, boolean supersedable) {
        }

        @Override
        public byte[] encode(ProfileUpdate update) {
            try {
                return MAPPER.writeValueAsBytes(new Wire(update.profile().get(), update.supersedable()));
            } catch (java.io.IOException e) {
                throw new IllegalStateException("cannot encode ProfileUpdate", e);
            }
        }

        @Override
        public ProfileUpdate decode(byte[] bytes) {
            try {
                Wire wire = MAPPER.readValue(bytes, Wire.class);
                return new ProfileUpdate(StepProfile.of(wire.profile()), wire.supersedable());
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException("cannot decode ProfileUpdate", e);
            }
        }
    }
}
