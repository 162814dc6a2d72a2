package io.cohortflow.core.event;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@link UnifiedEvent} to and from the Avro record of conf/schemas/unified-event.avsc, the row format of the
 * Parquet history. Scalar map values keep their type (integers widen to long); nested objects and arrays are
 * stored as JSON text and come back as text.
 */
public final class UnifiedEventAvro {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** The schema, read from the shipped conf/schemas/unified-event.avsc. */
    public static final Schema SCHEMA = load();

    private UnifiedEventAvro() {
    }

    private static Schema load() {
        try (InputStream in = UnifiedEventAvro.class.getClassLoader()
                .getResourceAsStream("conf/schemas/unified-event.avsc")) {
            if (in == null) {
                throw new IllegalStateException("conf/schemas/unified-event.avsc is not on the classpath");
            }
            return new Schema.Parser().parse(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static GenericRecord toRecord(UnifiedEvent e) {
        GenericData.Record r = new GenericData.Record(SCHEMA);
        r.put("messageId", e.messageId());
        r.put("type", e.type().wireName());
        r.put("event", e.event());
        r.put("anonymousId", e.anonymousId());
        r.put("userId", e.userId());
        r.put("resolvedId", e.resolvedId());
        r.put("timestamp", e.timestamp());
        r.put("sentAt", e.sentAt());
        r.put("receivedAt", e.receivedAt());
        r.put("source", e.source());
        r.put("previousId", e.previousId());
        r.put("properties", flat(e.properties()));
        r.put("traits", flat(e.traits()));
        r.put("context", flat(e.context()));
        return r;
    }

    public static UnifiedEvent fromRecord(GenericRecord r) {
        return new UnifiedEvent(text(r.get("messageId")), EventType.parse(text(r.get("type"))), text(r.get("event")),
                text(r.get("anonymousId")), text(r.get("userId")), text(r.get("resolvedId")),
                (Long) r.get("timestamp"), (Long) r.get("sentAt"), (Long) r.get("receivedAt"), text(r.get("source")),
                text(r.get("previousId")), unflat(r.get("properties")), unflat(r.get("traits")),
                unflat(r.get("context")));
    }

    private static Map<String, Object> flat(Map<String, Object> map) {
        Map<String, Object> out = new LinkedHashMap<>();
        map.forEach((k, v) -> out.put(k, scalar(v)));
        return out;
    }

    private static Object scalar(Object value) {
        if (value == null || value instanceof Boolean || value instanceof Long || value instanceof Double
                || value instanceof String) {
            return value;
        }
        if (value instanceof Integer || value instanceof Short || value instanceof Byte) {
            return ((Number) value).longValue();
        }
        if (value instanceof Float || value instanceof java.math.BigDecimal) {
            return ((Number) value).doubleValue();
        }
        if (value instanceof java.math.BigInteger big) {
            return big.bitLength() < 64 ? big.longValue() : big.toString();
        }
        try {
            return JSON.writeValueAsString(value); // nested object or array
        } catch (JsonProcessingException e) {
            return String.valueOf(value);
        }
    }

    private static Map<String, Object> unflat(Object avroMap) {
        if (!(avroMap instanceof Map<?, ?> map)) {
            return Map.of();
        }
        Map<String, Object> out = new LinkedHashMap<>();
        map.forEach((k, v) -> out.put(k.toString(), v instanceof CharSequence cs ? cs.toString() : v));
        return out;
    }

    private static String text(Object value) {
        return value == null ? null : value.toString();
    }
}
