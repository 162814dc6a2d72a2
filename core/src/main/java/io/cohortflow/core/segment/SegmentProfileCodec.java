package io.cohortflow.core.segment;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.util.ByteArrayBuilder;
import io.cohortflow.core.codec.JsonCodec;
import io.cohortflow.core.codec.JsonValues;
import io.cohortflow.core.feature.EventTimeline;

import java.io.IOException;

/**
 * The JSON form of {@link SegmentProfile} on segments.profiles.
 *
 * <p>Encoding writes the fields through Jackson's generator itself, in the record's order, rather than through the
 * object mapper's bean and map serializers: the segmentation job writes a profile at every evaluation that publishes,
 * and JFR put the mapper's encoding of profiles at 37% of the job's keyed task (reflective getters, a serializer
 * looked up for every value of every map, the event timeline built as maps to be written). The bytes are the
 * mapper's: {@code SegmentProfileCodecTest} holds the two to the same output over simulated users' profiles. The values
 * are written by {@link JsonValues}; one of a type it does not know is handed to the mapper, on the same generator.
 */
public final class SegmentProfileCodec extends JsonCodec<SegmentProfile> {
    private static final long serialVersionUID = 1L;

    public SegmentProfileCodec() {
        super(SegmentProfile.class);
    }

    @Override
    public byte[] encode(SegmentProfile profile) {
        // As the mapper's writeValueAsBytes: its recycled buffers, the generator closed, then the bytes taken and the
        // buffer given back (a builder of its own made this slower than the mapper, 13.4 against 12.0 us a profile).
        ByteArrayBuilder bytes = new ByteArrayBuilder(MAPPER.getFactory()._getBufferRecycler());
        try {
            try (JsonGenerator out = MAPPER.createGenerator(bytes)) { // configured as the mapper's own
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
            byte[] encoded = bytes.toByteArray();
            bytes.release();
            return encoded;
        } catch (IOException e) {
            throw new IllegalStateException("cannot encode SegmentProfile", e);
        }
    }

    private static void field(JsonGenerator out, String name, Object value) throws IOException {
        out.writeFieldName(name);
        JsonValues.write(out, value, SegmentProfileCodec::other);
    }

    /** A value {@link JsonValues} does not write: the event timeline itself, anything else as the mapper writes it. */
    private static void other(JsonGenerator out, Object value) throws IOException {
        if (value instanceof EventTimeline timeline) {
            timeline.writeJson(out);
        } else {
            MAPPER.writeValue(out, value);
        }
    }
}
