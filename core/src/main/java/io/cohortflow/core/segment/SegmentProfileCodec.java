package io.cohortflow.core.segment;

import com.fasterxml.jackson.core.JsonGenerator;
import io.cohortflow.core.codec.JsonCodec;
import io.cohortflow.core.codec.JsonValues;

import java.io.IOException;

/**
 * The JSON form of {@link SegmentProfile} on segments.profiles.
 *
 * <p>Encoding writes the fields through Jackson's generator itself, in the record's order, rather than through the
 * object mapper's bean and map serializers: the segmentation job writes a profile at every evaluation that publishes,
 * and JFR put the mapper's encoding of profiles at 37% of the job's keyed task (reflective getters, a serializer
 * looked up for every value of every map, the event timeline built as maps to be written). The bytes are the
 * mapper's: {@code SegmentProfileCodecTest} holds the two to the same output over simulated users' profiles. A value
 * of a type this writer does not know is handed to the mapper, on the same generator.
 */
public final class SegmentProfileCodec extends JsonCodec<SegmentProfile> {
    private static final long serialVersionUID = 1L;

    public SegmentProfileCodec() {
        super(SegmentProfile.class);
    }

    @Override
    public byte[] encode(SegmentProfile profile) {
        return encodeStreaming(profile, SegmentProfileCodec::write);
    }

    private static void write(JsonGenerator out, SegmentProfile profile) throws IOException {
        out.writeStartObject();
        out.writeStringField("userId", profile.userId());
        out.writeNumberField("asOf", profile.asOf());
        field(out, "segments", profile.segments());
        field(out, "features", profile.features());
        field(out, "scores", profile.scores());
        field(out, "persona", profile.persona());
        field(out, "model", profile.model());
        field(out, "mergedInto", profile.mergedInto());
        field(out, "traits", profile.traits());
        field(out, "inputs", profile.inputs());
        out.writeEndObject();
    }

    private static void field(JsonGenerator out, String name, Object value) throws IOException {
        out.writeFieldName(name);
        JsonValues.write(out, value, MAPPER); // a map keyed otherwise throws NotMine: the mapper writes the profile
    }
}
