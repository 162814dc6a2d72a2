package io.cohortflow.core.event;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

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
        return decode(r, Columns.of(r.getSchema()), true, null);
    }

    /**
     * The event as the feature engine needs it: everything but its traits and context, which no feature reads, left
     * empty. The training reads the history this way: a JSON column it does not parse is time saved on every row
     * (and bytes saved on every shuffle).
     */
    public static UnifiedEvent forFeatures(GenericRecord r) {
        return decode(r, Columns.of(r.getSchema()), false, null);
    }

    /**
     * Reads history rows as {@link #forFeatures(GenericRecord)} does, keeping only the named properties (those the
     * features read: core's {@code ChurnLabels.PROPERTIES_READ}): the typed columns of others are not looked at, and the
     * properties JSON is scanned for the named keys instead of being built into a map whole. The features of the
     * events are the same; the training reads its history this way, where building every row's whole map was the
     * largest part of reading it (JFR, issue "Speed to lead", P3).
     *
     * <p>One per reader, not thread-safe: it resolves the columns of a schema once and keeps them while the rows
     * come with that schema (a Parquet file's rows share one).
     */
    public static final class FeatureRows {
        /**
         * The columns of an event's other ids and times (its anonymous and user ids, when it was sent and received, the
         * id an alias merges): no feature reads them, only the exclusion of privacy requests' people. Not
         * {@link UnifiedEventAvro#ID_COLUMNS}, the privacy passes' projection, which keeps the resolved id.
         */
        public static final Set<String> OTHER_ID_COLUMNS = Set.of("anonymousId", "userId", "sentAt", "receivedAt",
                "previousId");
        private final Wanted properties;
        private final boolean ids;
        private Schema schema;
        private Columns columns;

        public FeatureRows(Set<String> properties) {
            this(properties, true);
        }

        /**
         * @param ids whether the events have their other ids and times ({@link #OTHER_ID_COLUMNS}); without them, whose
         *            columns then need not be read at all, an event is its user's: the resolved id is its user id, and
         *            it has no anonymous id, sent time or previous id, and was received when it happened
         */
        public FeatureRows(Set<String> properties, boolean ids) {
            this.properties = new Wanted(Set.copyOf(properties));
            this.ids = ids;
        }

        public UnifiedEvent read(GenericRecord r) {
            if (r.getSchema() != schema) {
                schema = r.getSchema();
                columns = Columns.of(schema).only(properties.names());
                if (!ids) {
                    columns = columns.withoutIds();
                }
            }
            return decode(r, columns, false, properties);
        }
    }

    /** The properties a reader keeps, and each name as a JSON key, quoted, as {@link #mayBeIn} looks for it. */
    private record Wanted(Set<String> names, String[] quoted) {
        Wanted(Set<String> names) {
            this(names, names.stream().sorted().map(p -> '"' + p + '"').toArray(String[]::new));
        }

        /**
         * Whether a JSON object's text may have one of these keys: false only when it is braced, has no escape at all
         * (a key written with escapes would not show as itself) and none of the quoted keys appears in it, so a row
         * whose JSON holds none of the wanted properties is not parsed. A quoted key inside a string value only costs
         * the parse; text that is not braced is parsed, to be refused as before.
         */
        boolean mayBeIn(String text) {
            if (text.isEmpty() || text.charAt(0) != '{' || text.charAt(text.length() - 1) != '}'
                    || text.indexOf('\\') >= 0) {
                return true;
            }
            for (String key : quoted) {
                if (text.contains(key)) {
                    return true;
                }
            }
            return false;
        }
    }

    /** Where a schema keeps each column of an event, -1 where it has none; one schema's lookups done once. */
    private record Columns(boolean typedLayout, int messageId, int type, int event, int anonymousId, int userId,
                           int resolvedId, int timestamp, int sentAt, int receivedAt, int source, int previousId,
                           int properties, int traits, int context, String[] typedNames, int[] typed) {
        static Columns of(Schema schema) {
            boolean typedLayout = schema.getField("revenue") != null;
            String[] names = typedLayout ? TYPED.keySet().toArray(String[]::new) : new String[0];
            int[] typed = new int[names.length];
            for (int i = 0; i < names.length; i++) {
                typed[i] = position(schema, names[i]);
            }
            return new Columns(typedLayout, position(schema, "messageId"), position(schema, "type"),
                    position(schema, "event"), position(schema, "anonymousId"), position(schema, "userId"),
                    position(schema, "resolvedId"), position(schema, "timestamp"), position(schema, "sentAt"),
                    position(schema, "receivedAt"), position(schema, "source"), position(schema, "previousId"),
                    position(schema, "properties"), position(schema, "traits"), position(schema, "context"), names,
                    typed);
        }

        /** The same, with only the typed columns of these properties. */
        Columns only(Set<String> wanted) {
            List<String> names = new ArrayList<>();
            List<Integer> positions = new ArrayList<>();
            for (int i = 0; i < typedNames.length; i++) {
                if (wanted.contains(typedNames[i])) {
                    names.add(typedNames[i]);
                    positions.add(typed[i]);
                }
            }
            return new Columns(typedLayout, messageId, type, event, anonymousId, userId, resolvedId, timestamp, sentAt,
                    receivedAt, source, previousId, properties, traits, context, names.toArray(String[]::new),
                    positions.stream().mapToInt(Integer::intValue).toArray());
        }

        /** The same, without the other ids and times ({@link FeatureRows#OTHER_ID_COLUMNS}). */
        Columns withoutIds() {
            return new Columns(typedLayout, messageId, type, event, -1, -1, resolvedId, timestamp, -1, -1, source, -1,
                    properties, traits, context, typedNames, typed);
        }

        /** Whether the rows' anonymous and user ids are read: without either, the event is its resolved user's. */
        boolean ids() {
            return anonymousId >= 0 || userId >= 0;
        }

        private static int position(Schema schema, String name) {
            Schema.Field field = schema.getField(name);
            return field == null ? -1 : field.pos();
        }
    }

    /**
     * The event of a row: with its traits and context when {@code whole}, and with only the {@code wanted} properties
     * unless that is null.
     */
    private static UnifiedEvent decode(GenericRecord r, Columns c, boolean whole, Wanted wanted) {
        Map<String, Object> properties = new LinkedHashMap<>();
        for (int i = 0; i < c.typed().length; i++) {
            Object value = get(r, c.typed()[i]);
            if (value != null) {
                properties.put(c.typedNames()[i], value instanceof CharSequence cs ? cs.toString() : value);
            }
        }
        Object rest = get(r, c.properties());
        if (!c.typedLayout()) {
            properties.putAll(unflat(rest, wanted == null ? null : wanted.names()));
        } else if (wanted == null) {
            properties.putAll(parsed(rest));
        } else {
            picked(rest, wanted, properties);
        }
        if (!c.ids()) {
            return UnifiedEvent.usersAction(text(get(r, c.messageId())), EventType.parse(text(get(r, c.type()))),
                    text(get(r, c.event())), text(get(r, c.resolvedId())), (Long) get(r, c.timestamp()),
                    text(get(r, c.source())), properties);
        }
        return new UnifiedEvent(text(get(r, c.messageId())), EventType.parse(text(get(r, c.type()))),
                text(get(r, c.event())), text(get(r, c.anonymousId())), text(get(r, c.userId())),
                text(get(r, c.resolvedId())), (Long) get(r, c.timestamp()), (Long) get(r, c.sentAt()),
                (Long) get(r, c.receivedAt()), text(get(r, c.source())), text(get(r, c.previousId())), properties,
                whole ? map(get(r, c.traits()), c.typedLayout()) : Map.of(),
                whole ? map(get(r, c.context()), c.typedLayout()) : Map.of());
    }

    private static Object get(GenericRecord r, int position) {
        return position < 0 ? null : r.get(position);
    }

    /**
     * The {@code wanted} keys of a JSON object, put into {@code into} with the values Jackson's map reader gives them
     * (the same deserializer reads each), the others skipped unread; a text that cannot hold one is not parsed
     * ({@link Wanted#mayBeIn}). A key that comes twice keeps its last value, as in the map reader.
     */
    private static void picked(Object json, Wanted wanted, Map<String, Object> into) {
        if (json == null) {
            return;
        }
        String text = json.toString();
        if (text.equals("{}") || !wanted.mayBeIn(text)) {
            return;
        }
        try (JsonParser parser = JSON.createParser(text)) {
            if (parser.nextToken() != JsonToken.START_OBJECT) {
                throw new IllegalArgumentException("a history row's JSON column is not a JSON object: " + text);
            }
            while (parser.nextToken() == JsonToken.FIELD_NAME) {
                String name = parser.currentName();
                parser.nextToken();
                if (wanted.names().contains(name)) {
                    into.put(name, JSON.readValue(parser, Object.class));
                } else {
                    parser.skipChildren();
                }
            }
        } catch (IOException ex) {
            throw new IllegalArgumentException("a history row's JSON column is not a JSON object: " + ex.getMessage(), ex);
        }
    }

    /** A map column: JSON text in the current layout, a map of scalars in the earlier one. */
    private static Map<String, Object> map(Object column, boolean typedLayout) {
        return typedLayout ? parsed(column) : unflat(column, null);
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
    private static Map<String, Object> unflat(Object avroMap, Set<String> wanted) {
        if (!(avroMap instanceof Map<?, ?> map)) {
            return Map.of();
        }
        Map<String, Object> out = new LinkedHashMap<>();
        map.forEach((k, v) -> {
            if (wanted == null || wanted.contains(k.toString())) {
                out.put(k.toString(), v instanceof CharSequence cs ? cs.toString() : v);
            }
        });
        return out;
    }

    private static String text(Object value) {
        return value == null ? null : value.toString();
    }
}
