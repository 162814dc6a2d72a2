package io.cohortflow.core.codec;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * JSON values (String, Number, Boolean, List, Map, null) read and written through Jackson's streaming parser and
 * generator, as the object mapper reads them into and writes them from {@code Map<String, Object>}, without its
 * per-value deserializer and serializer lookups. The codecs whose records are written and read at every event use it
 * ({@code SegmentProfileCodec}, {@code UnifiedEventCodec}); their tests hold the bytes and the values to the mapper's.
 */
public final class JsonValues {
    private JsonValues() {
    }

    /** A value written by itself: a type that knows its JSON form and is not a JSON value. */
    public interface Writable {
        void writeJson(JsonGenerator out) throws IOException;
    }

    /**
     * A value these methods do not handle as the mapper would (a map keyed by other than strings, a token of a kind
     * the mapper would coerce): the caller hands the whole record to the mapper. No stack trace: it is a signal.
     */
    public static final class NotMine extends RuntimeException {
        private static final long serialVersionUID = 1L;

        public NotMine() {
            super(null, null, false, false);
        }
    }

    /**
     * One value as {@code mapper} writes it: the JSON types directly, a {@link Writable} by itself, anything else (a
     * Set, a BigDecimal, a record) through the mapper on the same generator.
     *
     * @throws NotMine for a map keyed by other than strings
     */
    public static void write(JsonGenerator out, Object value, ObjectMapper mapper) throws IOException {
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
        } else if (value instanceof Map<?, ?> map) {
            out.writeStartObject();
            for (Map.Entry<?, ?> entry : map.entrySet()) {
                if (!(entry.getKey() instanceof String key)) {
                    throw new NotMine();
                }
                out.writeFieldName(key);
                write(out, entry.getValue(), mapper);
            }
            out.writeEndObject();
        } else if (value instanceof List<?> list) {
            out.writeStartArray();
            for (Object element : list) {
                write(out, element, mapper);
            }
            out.writeEndArray();
        } else if (value instanceof Writable writable) {
            writable.writeJson(out);
        } else {
            mapper.writeValue(out, value);
        }
    }

    /**
     * The value whose first token {@code in} is at, as the mapper reads it into an {@code Object}: objects as
     * LinkedHashMaps (a repeated key: the last value, at the first one's place), arrays as ArrayLists, whole numbers as
     * Integer, Long or BigInteger by their size, other numbers as Double. The parser is left at the value's last token.
     */
    public static Object read(JsonParser in) throws IOException {
        JsonToken token = in.currentToken();
        if (token == null) {
            throw new NotMine();
        }
        return switch (token) {
            case VALUE_STRING -> in.getText();
            case VALUE_NUMBER_INT -> in.getNumberValue();
            case VALUE_NUMBER_FLOAT -> in.getDoubleValue();
            case VALUE_TRUE -> Boolean.TRUE;
            case VALUE_FALSE -> Boolean.FALSE;
            case VALUE_NULL -> null;
            case START_OBJECT -> readObject(in);
            case START_ARRAY -> readArray(in);
            default -> throw new NotMine();
        };
    }

    /** The object {@code in} is at the start of (see {@link #read}). */
    public static Map<String, Object> readObject(JsonParser in) throws IOException {
        Map<String, Object> object = new LinkedHashMap<>();
        String name;
        while ((name = in.nextFieldName()) != null) {
            in.nextToken();
            object.put(name, read(in));
        }
        if (in.currentToken() != JsonToken.END_OBJECT) {
            throw new NotMine();
        }
        return object;
    }

    private static List<Object> readArray(JsonParser in) throws IOException {
        List<Object> array = new ArrayList<>();
        while (in.nextToken() != JsonToken.END_ARRAY) {
            array.add(read(in));
        }
        return array;
    }
}
