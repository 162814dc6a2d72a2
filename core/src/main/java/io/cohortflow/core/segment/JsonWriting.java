package io.cohortflow.core.segment;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.io.SerializedString;
import com.fasterxml.jackson.core.util.ByteArrayBuilder;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.cohortflow.core.codec.IndexedMap;
import io.cohortflow.core.codec.JsonNames;
import io.cohortflow.core.feature.EventTimeline;

import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

/**
 * Writing a record's JSON through Jackson's generator itself, field by field, as the object mapper would write it
 * (the codecs of {@link SegmentProfile} and {@link SegmentChange}, which the segmentation job writes for nearly every
 * event): no reflective getters, no serializer looked up for every value of every map. A value of a type this does not
 * know is handed to the mapper, on the same generator; a map keyed by other than strings throws {@link NotMine}, and
 * the codec hands the whole record to the mapper.
 */
final class JsonWriting {
    /**
     * The whole numbers from 0 as {@link Double#toString} writes them ("0.0", "1.0", ...), encoded: most of a profile's
     * doubles are counts, sums of whole prices and zeros, and formatting a double was a tenth of the encoding in JFR.
     */
    private static final SerializedString[] WHOLE_DOUBLES = IntStream.range(0, 1024)
            .mapToObj(i -> new SerializedString(Double.toString(i))).toArray(SerializedString[]::new);

    private JsonWriting() {
    }

    /** What writes one record's fields, between its braces. */
    interface Fields {
        void write(JsonGenerator out) throws IOException;
    }

    /**
     * One object's bytes, as the mapper's writeValueAsBytes makes them: its recycled buffers, a generator configured as
     * the mapper's own and closed, then the bytes taken and the buffer given back (a builder of its own made this
     * slower than the mapper, 13.4 against 12.0 us a profile).
     */
    static byte[] bytes(ObjectMapper mapper, Fields fields) throws IOException {
        ByteArrayBuilder bytes = new ByteArrayBuilder(mapper.getFactory()._getBufferRecycler());
        try (JsonGenerator out = mapper.createGenerator(bytes)) {
            out.writeStartObject();
            fields.write(out);
            out.writeEndObject();
        }
        byte[] encoded = bytes.toByteArray();
        bytes.release();
        return encoded;
    }

    static void field(ObjectMapper mapper, JsonGenerator out, SerializedString name, Object value) throws IOException {
        out.writeFieldName(name);
        value(mapper, out, value);
    }

    /** One value as the mapper writes it: the JSON types directly, anything else through the mapper. */
    static void value(ObjectMapper mapper, JsonGenerator out, Object value) throws IOException {
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
                value(mapper, out, map.valueAt(i));
            }
            out.writeEndObject();
        } else if (value instanceof Map<?, ?> map) {
            out.writeStartObject();
            for (Map.Entry<?, ?> entry : map.entrySet()) {
                if (!(entry.getKey() instanceof String key)) {
                    throw new NotMine();
                }
                JsonNames.write(out, key);
                value(mapper, out, entry.getValue());
            }
            out.writeEndObject();
        } else if (value instanceof List<?> list) {
            out.writeStartArray();
            for (Object element : list) {
                value(mapper, out, element);
            }
            out.writeEndArray();
        } else if (value instanceof EventTimeline timeline) {
            timeline.writeJson(out);
        } else {
            mapper.writeValue(out, value); // a Set, a BigDecimal, a map keyed otherwise: as the mapper writes it
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

    /** A map keyed by other than strings: the codec has the mapper write the whole record. */
    static final class NotMine extends RuntimeException {
        NotMine() {
            super(null, null, false, false);
        }
    }
}
