package io.cohortflow.core.segment;

import com.fasterxml.jackson.core.io.SerializedString;
import io.cohortflow.core.codec.JsonCodec;

import java.io.IOException;

/**
 * The JSON form of {@link SegmentProfile} on segments.profiles.
 *
 * <p>Encoding writes the fields through Jackson's generator itself, in the record's order, rather than through the
 * object mapper's bean and map serializers: the segmentation job writes a profile at every evaluation that publishes,
 * and JFR put the mapper's encoding of profiles at 37% of the job's keyed task (reflective getters, a serializer
 * looked up for every value of every map, the event timeline built as maps to be written). The bytes are the
 * mapper's: {@code SegmentProfileCodecTest} holds the two to the same output over simulated users' profiles. A value
 * of a type this writer does not know is handed to the mapper, on the same generator ({@link JsonWriting}).
 */
public final class SegmentProfileCodec extends JsonCodec<SegmentProfile> {
    private static final long serialVersionUID = 1L;
    private static final SerializedString USER_ID = new SerializedString("userId");
    private static final SerializedString AS_OF = new SerializedString("asOf");
    private static final SerializedString SEGMENTS = new SerializedString("segments");
    private static final SerializedString FEATURES = new SerializedString("features");
    private static final SerializedString SCORES = new SerializedString("scores");
    private static final SerializedString PERSONA = new SerializedString("persona");
    private static final SerializedString MODEL = new SerializedString("model");
    private static final SerializedString MERGED_INTO = new SerializedString("mergedInto");
    private static final SerializedString TRAITS = new SerializedString("traits");
    private static final SerializedString INPUTS = new SerializedString("inputs");

    public SegmentProfileCodec() {
        super(SegmentProfile.class);
    }

    @Override
    public byte[] encode(SegmentProfile profile) {
        try {
            return JsonWriting.bytes(MAPPER, out -> {
                out.writeFieldName(USER_ID);
                out.writeString(profile.userId());
                out.writeFieldName(AS_OF);
                out.writeNumber(profile.asOf());
                JsonWriting.field(MAPPER, out, SEGMENTS, profile.segments());
                JsonWriting.field(MAPPER, out, FEATURES, profile.features());
                JsonWriting.field(MAPPER, out, SCORES, profile.scores());
                JsonWriting.field(MAPPER, out, PERSONA, profile.persona());
                JsonWriting.field(MAPPER, out, MODEL, profile.model());
                JsonWriting.field(MAPPER, out, MERGED_INTO, profile.mergedInto());
                JsonWriting.field(MAPPER, out, TRAITS, profile.traits());
                JsonWriting.field(MAPPER, out, INPUTS, profile.inputs());
            });
        } catch (JsonWriting.NotMine e) {
            return super.encode(profile);
        } catch (IOException e) {
            throw new IllegalStateException("cannot encode SegmentProfile", e);
        }
    }
}
