package io.cohortflow.core.event;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@link UnifiedEvent} to and from the Avro record of conf/schemas/unified-event.avsc, the row format of the Parquet
 * history: typed columns for the well-known properties ({@link #TYPED}), and the other properties, the traits and the
 * context as JSON objects in text columns.
 *
 * <p>A well-known property goes to its column when its value is of the column's kind: any number for revenue and
 * price; a whole number for quantity and items; text or a number (written as its text) for the others. Any other
 * value stays in the properties JSON. Read back, an event's features are what they were: numbers as doubles are the
 * same doubles, and text is the text {@link UnifiedEvent#stringProperty} gave.
 *
 * <p>{@link #fromRecord} also reads history written before the typed columns (properties, traits and context as maps
 * of scalars, nested values as JSON text), so a file's own schema can be read whichever layout wrote it.
 */
public final class UnifiedEventAvro {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final com.fasterxml.jackson.databind.ObjectReader MAP_READER =
            JSON.readerFor(new TypeReference<LinkedHashMap<String, Object>>() { });

    /** The schema, read from the shipped conf/schemas/unified-event.avsc. */
    public static final Schema SCHEMA = load();
    /**
     * A projection of the history to its id columns and receive time, for the passes that look for people's rows
     * (the privacy erasure and the training's exclusion) without reading the rest of a file.
     */
    public static final Schema ID_COLUMNS = org.apache.avro.SchemaBuilder.record("UnifiedEvent")
            .namespace("io.cohortflow.avro").fields()
            .optionalString("anonymousId").optionalString("userId").requiredString("resolvedId")
            .requiredLong("receivedAt").optionalString("previousId").endRecord();

    /** Column kinds of the well-known properties. */
    public enum Kind { DOUBLE, LONG, TEXT }

    /** The well-known properties with a column of their own, and its kind. */
    public static final Map<String, Kind> TYPED = typed();

    private static Map<String, Kind> typed() {
        Map<String, Kind> typed = new LinkedHashMap<>();
        typed.put("revenue", Kind.DOUBLE);
        typed.put("price", Kind.DOUBLE);
        typed.put("quantity", Kind.LONG);
        typed.put("currency", Kind.TEXT);
        typed.put("product_id", Kind.TEXT);
        typed.put("category", Kind.TEXT);
        typed.put("order_id", Kind.TEXT);
        typed.put("items", Kind.LONG);
        return java.util.Collections.unmodifiableMap(typed);
    }

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
        Map<String, Object> rest = new LinkedHashMap<>();
        e.properties().forEach((name, value) -> {
            Kind kind = TYPED.get(name);
            Object typed = kind == null ? null : typed(kind, value);
            if (typed != null) {
                r.put(name, typed);
            } else {
                rest.put(name, value);
            }
        });
        r.put("properties", json(rest));
        r.put("traits", json(e.traits()));
        r.put("context", json(e.context()));
        return r;
    }

    public static UnifiedEvent fromRecord(GenericRecord r) {
        return fromRecord(r, true);
    }

    /**
     * The event as the feature engine needs it: everything but its traits and context, which no feature reads, left
     * empty. The training reads the history this way: a JSON column it does not parse is time saved on every row
     * (and bytes saved on every shuffle).
     */
    public static UnifiedEvent forFeatures(GenericRecord r) {
        return fromRecord(r, false);
    }

    private static UnifiedEvent fromRecord(GenericRecord r, boolean whole) {
        boolean typedLayout = r.getSchema().getField("revenue") != null;
        Map<String, Object> properties = new LinkedHashMap<>();
        if (typedLayout) {
            for (String name : TYPED.keySet()) {
                Object value = r.get(name);
                if (value != null) {
                    properties.put(name, value instanceof CharSequence cs ? cs.toString() : value);
                }
            }
        }
        properties.putAll(map(r, "properties", typedLayout));
        return new UnifiedEvent(text(r.get("messageId")), EventType.parse(text(r.get("type"))), text(r.get("event")),
                text(r.get("anonymousId")), text(r.get("userId")), text(r.get("resolvedId")),
                (Long) r.get("timestamp"), (Long) r.get("sentAt"), (Long) r.get("receivedAt"), text(r.get("source")),
                text(r.get("previousId")), properties, whole ? map(r, "traits", typedLayout) : Map.of(),
                whole ? map(r, "context", typedLayout) : Map.of());
    }

    /** A map column: JSON text in the current layout, a map of scalars in the earlier one. */
    private static Map<String, Object> map(GenericRecord r, String column, boolean typedLayout) {
        return typedLayout ? parsed(r.get(column)) : unflat(r.get(column));
    }

    /** The value as its column's kind, or null when it is not of that kind. */
    private static Object typed(Kind kind, Object value) {
        return switch (kind) {
            case DOUBLE -> value instanceof Number n && Double.isFinite(n.doubleValue()) ? n.doubleValue() : null;
            case LONG -> {
                if (value instanceof Long || value instanceof Integer || value instanceof Short || value instanceof Byte) {
                    yield ((Number) value).longValue();
                }
                if (value instanceof BigInteger big) {
                    yield big.bitLength() < 64 ? big.longValue() : null;
                }
                if (value instanceof Number n) {
                    double d = n.doubleValue();
                    yield d == Math.rint(d) && Math.abs(d) < 9.0e15 ? (long) d : null; // 12.0 units is 12
                }
                yield null;
            }
            case TEXT -> value instanceof CharSequence || value instanceof Number ? value.toString() : null;
        };
    }

    private static String json(Map<String, Object> map) {
        try {
            return JSON.writeValueAsString(map);
        } catch (JsonProcessingException ex) {
            throw new IllegalArgumentException("an event's map cannot be written as JSON", ex);
        }
    }

    private static Map<String, Object> parsed(Object json) {
        if (json == null) {
            return Map.of();
        }
        String text = json.toString();
        if (text.equals("{}")) {
            return Map.of(); // most rows' traits, and many properties: no parser needed
        }
        try {
            return MAP_READER.readValue(text);
        } catch (JsonProcessingException ex) {
            throw new IllegalArgumentException("a history row's JSON column is not a JSON object: " + ex.getOriginalMessage(), ex);
        }
    }

    /** A map column of the layout before typed columns (scalars; nested values as JSON text, read back as text). */
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
