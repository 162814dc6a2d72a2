package io.cohortflow.core.codec;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.io.SerializedString;

import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Writes JSON values (maps of strings to values, lists, strings, numbers, booleans, null) through a Jackson generator
 * itself, with the bytes an {@code ObjectMapper} writes for them, rather than through the mapper's serializers: those
 * look a serializer up for every value of every map. The segmentation job writes a profile at every evaluation that
 * publishes (JFR: the mapper's encoding was 37% of its keyed task), and ingest writes three maps of every event as
 * JSON into its history (the mapper 18% of the history writer's samples in P5). A value of another kind, and a map
 * keyed by other than strings, is handed to {@code other}, on the same generator.
 */
public final class JsonValues {
    /** The most map keys {@link #writeName} keeps encoded. */
    private static final int MAX_NAMES = 10_000;
    /** Map keys written before, as their quoted UTF-8. */
    private static final ConcurrentHashMap<String, SerializedString> NAMES = new ConcurrentHashMap<>();

    /** Writes a value this class does not write itself: {@code ObjectMapper::writeValue}, or more. */
    @FunctionalInterface
    public interface Other {
        void write(JsonGenerator out, Object value) throws IOException;
    }

    private JsonValues() {
    }

    /** {@code value} as the mapper writes it: the JSON types directly, anything else through {@code other}. */
    public static void write(JsonGenerator out, Object value, Other other) throws IOException {
        if (value == null) {
            out.writeNull();
        } else if (value instanceof String text) {
            out.writeString(text);
        } else if (value instanceof Double number) {
            out.writeNumber(number);
        } else if (value instanceof Long number) {
            out.writeNumber(number);
        } else if (value instanceof Integer number) {
            out.writeNumber(number);
        } else if (value instanceof Boolean bool) {
            out.writeBoolean(bool);
        } else if (value instanceof Map<?, ?> map && stringKeys(map)) {
            out.writeStartObject();
            for (Map.Entry<?, ?> entry : map.entrySet()) {
                writeName(out, (String) entry.getKey());
                write(out, entry.getValue(), other);
            }
            out.writeEndObject();
        } else if (value instanceof List<?> list) {
            out.writeStartArray();
            for (Object element : list) {
                write(out, element, other);
            }
            out.writeEndArray();
        } else {
            other.write(out, value); // a Set, a BigDecimal, a map keyed otherwise: as the mapper writes it
        }
    }

    private static boolean stringKeys(Map<?, ?> map) {
        for (Object key : map.keySet()) {
            if (!(key instanceof String)) {
                return false;
            }
        }
        return true;
    }

    /**
     * A map's key, from its quoted UTF-8 kept since the first time it was written: a profile's keys are the same few
     * hundred names (features, rule inputs, event names, traits) in every profile, as an event's are (properties,
     * context), and encoding them again was most of the generator's text encoding in JFR (P1 end to end). At most
     * {@link #MAX_NAMES} names are kept; any other is written as it is. The bytes are the same either way.
     */
    public static void writeName(JsonGenerator out, String key) throws IOException {
        SerializedString name = NAMES.get(key);
        if (name == null) {
            if (NAMES.size() >= MAX_NAMES) {
                out.writeFieldName(key);
                return;
            }
            name = NAMES.computeIfAbsent(key, SerializedString::new);
        }
        out.writeFieldName(name);
    }
}
