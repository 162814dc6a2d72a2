package io.cohortflow.jobs.types;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.cohortflow.core.codec.FrozenMap;
import io.cohortflow.core.event.EventType;
import io.cohortflow.core.event.UnifiedEvent;
import org.apache.flink.api.common.typeutils.SimpleTypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;

import java.io.IOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Unified events between the jobs' operators as compact binary: each field in turn, strings as UTF-8 bytes (in one
 * write each: Flink's own string format goes byte by byte through a buffer's view, which showed in the profiles), and
 * the JSON-valued maps as tagged values. The same Java types come back (a Long stays a Long, a Double a Double, nested
 * lists and objects are kept); a value of any other type is written as its JSON and comes back as Jackson reads that,
 * which is what the JSON of {@link JsonRecordTypeInfo} did to it.
 *
 * <p>Why not that JSON: Jackson writing and parsing every event at every shuffle took a quarter of the ingest job's CPU
 * and half of the training's feature build (JFR, issue "Speed to lead", P3 and P5). Nothing of this format is kept in
 * state or on a topic: it is the wire between two operators of one job, so it can change with the code. (An unaligned
 * checkpoint would hold records in flight in it: upgrade from a savepoint, which is aligned.)
 */
public final class UnifiedEventSerializer extends ImmutableRecordSerializer<UnifiedEvent> {
    private static final long serialVersionUID = 1L;
    public static final UnifiedEventSerializer INSTANCE = new UnifiedEventSerializer();

    /** Reads a string's UTF-8 bytes, of a known length, into a string: anew, or from a table that keeps them. */
    @FunctionalInterface
    public interface Strings {
        String read(DataInputView in, int length) throws IOException;
    }

    /** Every string read anew. */
    public static final Strings NEW = (in, length) -> {
        byte[] bytes = new byte[length];
        in.readFully(bytes);
        return new String(bytes, StandardCharsets.UTF_8);
    };

    private static final EventType[] TYPES = EventType.values();
    /** As {@code JsonCodec}'s, for the values of other types: what the JSON wire did with them. */
    private static final ObjectMapper JSON = JsonMapper.builder()
            .disable(SerializationFeature.FAIL_ON_EMPTY_BEANS).build();
    // Value tags of the JSON-valued maps: what Jackson's map reader and the typed columns produce.
    private static final byte NULL = 0;
    private static final byte STRING = 1;
    private static final byte LONG = 2;
    private static final byte INTEGER = 3;
    private static final byte DOUBLE = 4;
    private static final byte TRUE = 5;
    private static final byte FALSE = 6;
    private static final byte BIG_INTEGER = 7;
    private static final byte BIG_DECIMAL = 8;
    private static final byte LIST = 9;
    private static final byte MAP = 10;
    private static final byte FLOAT = 11;
    private static final byte OTHER_AS_JSON = 12;

    private UnifiedEventSerializer() {
    }

    @Override
    public void serialize(UnifiedEvent e, DataOutputView out) throws IOException {
        writeString(e.messageId(), out);
        out.writeByte(e.type().ordinal());
        writeString(e.event(), out);
        writeString(e.anonymousId(), out);
        writeString(e.userId(), out);
        writeString(e.resolvedId(), out);
        out.writeLong(e.timestamp());
        out.writeBoolean(e.sentAt() != null);
        if (e.sentAt() != null) {
            out.writeLong(e.sentAt());
        }
        out.writeLong(e.receivedAt());
        writeString(e.source(), out);
        writeString(e.previousId(), out);
        writeMap(e.properties(), out);
        writeMap(e.traits(), out);
        writeMap(e.context(), out);
    }

    @Override
    public UnifiedEvent deserialize(DataInputView in) throws IOException {
        String messageId = readString(in, NEW);
        EventType type = type(in.readByte());
        String event = readString(in, NEW);
        String anonymousId = readString(in, NEW);
        String userId = readString(in, NEW);
        String resolvedId = readString(in, NEW);
        long timestamp = in.readLong();
        Long sentAt = in.readBoolean() ? in.readLong() : null;
        long receivedAt = in.readLong();
        String source = readString(in, NEW);
        String previousId = readString(in, NEW);
        // The maps read are the event's own: it takes them without a copy.
        return new UnifiedEvent(messageId, type, event, anonymousId, userId, resolvedId, timestamp, sentAt, receivedAt,
                source, previousId, FrozenMap.owning(readMap(in, NEW)), FrozenMap.owning(readMap(in, NEW)),
                FrozenMap.owning(readMap(in, NEW)));
    }

    /** The event type of an ordinal written by {@link #serialize}. */
    public static EventType type(int ordinal) throws IOException {
        if (ordinal < 0 || ordinal >= TYPES.length) {
            throw new IOException("unknown event type " + ordinal + ": the bytes are not an event's");
        }
        return TYPES[ordinal];
    }

    /** Null as length 0, else the UTF-8 length + 1, as a varint, then the bytes. */
    public static void writeString(String s, DataOutputView out) throws IOException {
        if (s == null) {
            out.writeByte(0);
            return;
        }
        byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
        writeVarInt(bytes.length + 1, out);
        out.write(bytes);
    }

    /** A string written by {@link #writeString}, its bytes read by {@code strings}. */
    public static String readString(DataInputView in, Strings strings) throws IOException {
        int length = readVarInt(in) - 1;
        return length < 0 ? null : strings.read(in, length);
    }

    private static void writeVarInt(int value, DataOutputView out) throws IOException {
        while ((value & ~0x7F) != 0) {
            out.writeByte((value & 0x7F) | 0x80);
            value >>>= 7;
        }
        out.writeByte(value);
    }

    private static int readVarInt(DataInputView in) throws IOException {
        int value = 0;
        int shift = 0;
        int b;
        do {
            b = in.readUnsignedByte();
            value |= (b & 0x7F) << shift;
            shift += 7;
        } while ((b & 0x80) != 0);
        return value;
    }

    /** A map of JSON values: its size, then each key and tagged value. */
    public static void writeMap(Map<String, Object> map, DataOutputView out) throws IOException {
        writeVarInt(map.size(), out);
        for (Map.Entry<String, Object> entry : map.entrySet()) {
            writeString(entry.getKey(), out);
            writeValue(entry.getValue(), out);
        }
    }

    /** A map written by {@link #writeMap}, its strings read by {@code strings}: empty as {@code Map.of()}. */
    public static Map<String, Object> readMap(DataInputView in, Strings strings) throws IOException {
        int size = readVarInt(in);
        if (size == 0) {
            return Map.of();
        }
        Map<String, Object> map = new LinkedHashMap<>(size * 2);
        for (int i = 0; i < size; i++) {
            map.put(readString(in, strings), readValue(in, strings));
        }
        return map;
    }

    @SuppressWarnings("unchecked")
    private static void writeValue(Object value, DataOutputView out) throws IOException {
        if (value == null) {
            out.writeByte(NULL);
        } else if (value instanceof String s) {
            out.writeByte(STRING);
            writeString(s, out);
        } else if (value instanceof Long l) {
            out.writeByte(LONG);
            out.writeLong(l);
        } else if (value instanceof Integer i) {
            out.writeByte(INTEGER);
            out.writeInt(i);
        } else if (value instanceof Double d) {
            out.writeByte(DOUBLE);
            out.writeDouble(d);
        } else if (value instanceof Boolean b) {
            out.writeByte(b ? TRUE : FALSE);
        } else if (value instanceof BigInteger big) {
            out.writeByte(BIG_INTEGER);
            writeString(big.toString(), out);
        } else if (value instanceof BigDecimal big) {
            out.writeByte(BIG_DECIMAL);
            writeString(big.toString(), out);
        } else if (value instanceof Float f) {
            out.writeByte(FLOAT);
            out.writeFloat(f);
        } else if (value instanceof List<?> list) {
            out.writeByte(LIST);
            writeVarInt(list.size(), out);
            for (Object item : list) {
                writeValue(item, out);
            }
        } else if (value instanceof Map<?, ?> map && stringKeys(map)) {
            out.writeByte(MAP);
            writeMap((Map<String, Object>) map, out);
        } else {
            out.writeByte(OTHER_AS_JSON);
            try {
                writeString(JSON.writeValueAsString(value), out);
            } catch (JsonProcessingException ex) {
                throw new IllegalArgumentException("a " + value.getClass().getName() + " in an event has no JSON", ex);
            }
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

    private static Object readValue(DataInputView in, Strings strings) throws IOException {
        byte tag = in.readByte();
        return switch (tag) {
            case NULL -> null;
            case STRING -> readString(in, strings);
            case LONG -> in.readLong();
            case INTEGER -> in.readInt();
            case DOUBLE -> in.readDouble();
            case TRUE -> Boolean.TRUE;
            case FALSE -> Boolean.FALSE;
            case BIG_INTEGER -> new BigInteger(readString(in, NEW));
            case BIG_DECIMAL -> new BigDecimal(readString(in, NEW));
            case FLOAT -> in.readFloat();
            case LIST -> {
                int size = readVarInt(in);
                List<Object> list = new ArrayList<>(size);
                for (int i = 0; i < size; i++) {
                    list.add(readValue(in, strings));
                }
                yield list;
            }
            case MAP -> {
                Map<String, Object> map = readMap(in, strings);
                yield map.isEmpty() ? new LinkedHashMap<>() : map;
            }
            case OTHER_AS_JSON -> JSON.readValue(readString(in, NEW), Object.class);
            default -> throw new IOException("unknown value tag " + tag + ": the bytes are not an event's");
        };
    }

    @Override
    public TypeSerializerSnapshot<UnifiedEvent> snapshotConfiguration() {
        return new Snapshot();
    }

    /** For Flink's reflective restore; there is nothing to configure. */
    public static final class Snapshot extends SimpleTypeSerializerSnapshot<UnifiedEvent> {
        public Snapshot() {
            super(() -> INSTANCE);
        }
    }
}
