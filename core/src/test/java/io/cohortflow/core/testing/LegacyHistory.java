package io.cohortflow.core.testing;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.cohortflow.core.event.UnifiedEvent;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * History rows as the layout before the typed columns wrote them (properties, traits and context as maps of scalars,
 * nested values as JSON text): what the reading of older files, and compaction's upgrade of them, are tested against.
 * The conversion is the one that layout's writer did.
 */
public final class LegacyHistory {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Schema SCALAR = SchemaBuilder.unionOf().nullType().and().booleanType().and().longType().and()
            .doubleType().and().stringType().endUnion();

    /** The earlier layout's schema. */
    public static final Schema SCHEMA = SchemaBuilder.record("UnifiedEvent").namespace("io.cohortflow.avro").fields()
            .requiredString("messageId").requiredString("type").optionalString("event").optionalString("anonymousId")
            .optionalString("userId").requiredString("resolvedId").requiredLong("timestamp").optionalLong("sentAt")
            .requiredLong("receivedAt").requiredString("source").optionalString("previousId")
            .name("properties").type().map().values(SCALAR).noDefault()
            .name("traits").type().map().values(SCALAR).noDefault()
            .name("context").type().map().values(SCALAR).noDefault()
            .endRecord();

    private LegacyHistory() {
    }

    /** The event as a row of the earlier layout. */
    public static GenericRecord record(UnifiedEvent e) {
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
        r.put("properties", scalars(e.properties()));
        r.put("traits", scalars(e.traits()));
        r.put("context", scalars(e.context()));
        return r;
    }

    private static Map<String, Object> scalars(Map<String, Object> map) {
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
        if (value instanceof Float || value instanceof BigDecimal) {
            return ((Number) value).doubleValue();
        }
        if (value instanceof BigInteger big) {
            return big.bitLength() < 64 ? big.longValue() : big.toString();
        }
        try {
            return JSON.writeValueAsString(value); // a nested object or array
        } catch (JsonProcessingException e) {
            return String.valueOf(value);
        }
    }
}
