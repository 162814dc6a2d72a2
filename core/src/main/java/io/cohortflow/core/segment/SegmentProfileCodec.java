package io.cohortflow.core.segment;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.io.SerializedString;
import com.fasterxml.jackson.core.util.ByteArrayBuilder;
import io.cohortflow.core.codec.IndexedMap;
import io.cohortflow.core.codec.JsonCodec;
import io.cohortflow.core.codec.JsonNames;
import io.cohortflow.core.feature.EventTimeline;

import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

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
    /**
     * The whole numbers from 0 as {@link Double#toString} writes them ("0.0", "1.0", ...), encoded: most of a profile's
     * doubles are counts, sums of whole prices and zeros, and formatting a double was a tenth of the encoding in JFR.
     */
    private static final SerializedString[] WHOLE_DOUBLES = IntStream.range(0, 1024)
            .mapToObj(i -> new SerializedString(Double.toString(i))).toArray(SerializedString[]::new);

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
        } catch (NotMine e) {
            return super.encode(profile);
        } catch (IOException e) {
            throw new IllegalStateException("cannot encode SegmentProfile", e);
        }
    }

    private static void field(JsonGenerator out, String name, Object value) throws IOException {
        out.writeFieldName(name);
        writeValue(out, value);
    }

    /** One value as the mapper writes it: the JSON types directly, anything else through the mapper. */
    private static void writeValue(JsonGenerator out, Object value) throws IOException {
        if (value == null) {
            out.writeNull();
        } else if (value instanceof String text) {
            out.writeString(text);
        } else if (value instanceof Double number) {
            writeDouble(out, number);
        } else if (value instanceof Long number) {
            out.writeNumber(number);
        } else if (value instanceof Integer number) {
            out.writeNumber(number);
        } else if (value instanceof Boolean bool) {
            out.writeBoolean(bool);
        } else if (value instanceof IndexedMap<?> map) {
            // By place: no entry objects, and a name list's keys encoded once for all its maps.
            out.writeStartObject();
            for (int i = 0, n = map.size(); i < n; i++) {
                SerializedString quoted = map.quotedKeyAt(i);
                if (quoted != null) {
                    out.writeFieldName(quoted);
                } else {
                    JsonNames.write(out, map.keyAt(i));
                }
                writeValue(out, map.valueAt(i));
            }
            out.writeEndObject();
        } else if (value instanceof Map<?, ?> map) {
            out.writeStartObject();
            for (Map.Entry<?, ?> entry : map.entrySet()) {
                if (!(entry.getKey() instanceof String key)) {
                    throw new NotMine();
                }
                JsonNames.write(out, key);
                writeValue(out, entry.getValue());
            }
            out.writeEndObject();
        } else if (value instanceof List<?> list) {
            out.writeStartArray();
            for (Object element : list) {
                writeValue(out, element);
            }
            out.writeEndArray();
        } else if (value instanceof EventTimeline timeline) {
            timeline.writeJson(out);
        } else {
            MAPPER.writeValue(out, value); // a Set, a BigDecimal, a map keyed otherwise: as the mapper writes it
        }
    }

    /** A double as the mapper writes it ({@link Double#toString}): a small whole one from {@link #WHOLE_DOUBLES}. */
    private static void writeDouble(JsonGenerator out, double value) throws IOException {
        if (value >= 0 && value < WHOLE_DOUBLES.length) {
            int whole = (int) value;
            if (whole == value && (whole != 0 || Double.doubleToRawLongBits(value) == 0L)) { // not -0.0
                out.writeRawValue(WHOLE_DOUBLES[whole]);
                return;
            }
        }
        out.writeNumber(value);
    }

    /** A map keyed by other than strings: the mapper writes the whole profile (no profile of the engine's has one). */
    private static final class NotMine extends RuntimeException {
        NotMine() {
            super(null, null, false, false);
        }
    }
}
