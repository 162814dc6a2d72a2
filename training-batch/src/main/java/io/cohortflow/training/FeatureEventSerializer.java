package io.cohortflow.training;

import io.cohortflow.core.event.EventType;
import io.cohortflow.core.event.UnifiedEvent;
import org.apache.flink.api.common.typeutils.SimpleTypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.base.TypeSerializerSingleton;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.apache.flink.core.memory.DataOutputView;

import java.io.IOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The training's events as compact binary, as Flink's serializer of the reader's events and, slimmer, as the bytes
 * the shuffle and the sort by user carry ({@link Encoder}, {@link Decoder}; see {@link ExamplesFunction#encoder}):
 * each field in turn, strings as UTF-8 bytes (in one write each: Flink's own string format goes byte by byte through
 * the sort buffer's view, which showed in the profile), and the JSON-valued maps as tagged values (the same Java types
 * come back: a Long stays a Long, a Double a Double, nested lists and objects are kept), so {@code UserFeatures} reads
 * the values the reader decoded.
 *
 * <p>Why not the JSON of {@code JsonRecordTypeInfo}, which the stream jobs use: a BATCH job writes every event twice
 * (the shuffle to its user's task, then the sort by user) and reads it twice, and Jackson did that in half of the
 * feature build's CPU time (JFR, issue "Speed to lead", P3); now each event is encoded once and decoded once. Nothing
 * of this format is kept: the job has no checkpoints and its state lives on the heap, so it can change with the code.
 */
public final class FeatureEventSerializer extends TypeSerializerSingleton<UnifiedEvent> {
    private static final long serialVersionUID = 1L;
    public static final FeatureEventSerializer INSTANCE = new FeatureEventSerializer();

    private static final EventType[] TYPES = EventType.values();
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

    private FeatureEventSerializer() {
    }

    @Override
    public boolean isImmutableType() {
        return true; // a record with unmodifiable maps
    }

    @Override
    public UnifiedEvent createInstance() {
        return null;
    }

    @Override
    public UnifiedEvent copy(UnifiedEvent from) {
        return from;
    }

    @Override
    public UnifiedEvent copy(UnifiedEvent from, UnifiedEvent reuse) {
        return from;
    }

    @Override
    public int getLength() {
        return -1;
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
        String messageId = readString(in, null);
        EventType type = TYPES[in.readByte()];
        String event = readString(in, null);
        String anonymousId = readString(in, null);
        String userId = readString(in, null);
        String resolvedId = readString(in, null);
        long timestamp = in.readLong();
        Long sentAt = in.readBoolean() ? in.readLong() : null;
        long receivedAt = in.readLong();
        String source = readString(in, null);
        String previousId = readString(in, null);
        return new UnifiedEvent(messageId, type, event, anonymousId, userId, resolvedId, timestamp, sentAt, receivedAt,
                source, previousId, readMap(in, null), readMap(in, null), readMap(in, null));
    }

    /**
     * Events as the bytes the shuffle and the sort by user carry (see {@link ExamplesFunction#encoder}), in a slimmer
     * format than the serializer's: only what a user's rows read. That is the message id and the source (each message
     * counts once), the type, the event name, the time and the properties; not the ids, whose user the key carries,
     * nor the sent and received times, the previous id, the traits or the context (a test holds the rows to that:
     * {@code FeaturePropertiesTest}). One per thread: it reuses its buffer.
     */
    static final class Encoder {
        private final DataOutputSerializer out = new DataOutputSerializer(256);

        byte[] encode(UnifiedEvent event) throws IOException {
            out.clear();
            writeString(event.messageId(), out);
            out.writeByte(event.type().ordinal());
            writeString(event.event(), out);
            out.writeLong(event.timestamp());
            writeString(event.source(), out);
            writeMap(event.properties(), out);
            return out.getCopyOfBuffer();
        }
    }

    /**
     * Reads back {@link Encoder}'s bytes as the user's event as the rows see it: its user ({@code userId} and
     * {@code resolvedId}) is the key's, and what the bytes leave out is empty (no anonymous id, sent time, previous
     * id, traits or context; received when it happened). One per thread: it keeps the short strings it has read
     * (event names, property names, products), and gives the same {@code String} again for the same bytes, which saves
     * building each one anew and lets the features' map lookups use its cached hash.
     */
    static final class Decoder {
        private final DataInputDeserializer in = new DataInputDeserializer();
        private final Strings strings = new Strings();

        UnifiedEvent decode(byte[] bytes, String user) throws IOException {
            in.setBuffer(bytes);
            String messageId = readString(in, strings);
            EventType type = TYPES[in.readByte()];
            String event = readString(in, strings);
            long timestamp = in.readLong();
            String source = readString(in, strings);
            Map<String, Object> properties = readMap(in, strings);
            if (in.available() != 0) {
                throw new IOException(in.available() + " bytes left after an event: not a FeatureEventSerializer's");
            }
            return new UnifiedEvent(messageId, type, event, null, user, user, timestamp, null, timestamp, source, null,
                    properties, Map.of(), Map.of());
        }
    }

    /**
     * The strings a decoder has read, by their bytes: a direct-mapped table where a new string takes the slot of the
     * one before. Strings longer than {@value #MAX_LENGTH} bytes (message ids, long texts) are not kept: they rarely
     * come twice.
     */
    static final class Strings {
        static final int MAX_LENGTH = 32;
        private static final int SLOTS = 4096;
        private final byte[][] keys = new byte[SLOTS][];
        private final String[] values = new String[SLOTS];
        private final byte[] scratch = new byte[MAX_LENGTH];

        String read(DataInputView in, int length) throws IOException {
            if (length > MAX_LENGTH) {
                byte[] bytes = new byte[length];
                in.readFully(bytes);
                return new String(bytes, StandardCharsets.UTF_8);
            }
            in.readFully(scratch, 0, length);
            int hash = 1;
            for (int i = 0; i < length; i++) {
                hash = 31 * hash + scratch[i];
            }
            int slot = (hash ^ (hash >>> 16)) & (SLOTS - 1);
            byte[] key = keys[slot];
            if (key != null && Arrays.equals(key, 0, key.length, scratch, 0, length)) {
                return values[slot];
            }
            String value = new String(scratch, 0, length, StandardCharsets.UTF_8);
            keys[slot] = Arrays.copyOf(scratch, length);
            values[slot] = value;
            return value;
        }
    }

    @Override
    public UnifiedEvent deserialize(UnifiedEvent reuse, DataInputView in) throws IOException {
        return deserialize(in);
    }

    @Override
    public void copy(DataInputView in, DataOutputView out) throws IOException {
        serialize(deserialize(in), out);
    }

    /** Null as length 0, else the UTF-8 length + 1, as a varint, then the bytes. */
    private static void writeString(String s, DataOutputView out) throws IOException {
        if (s == null) {
            out.writeByte(0);
            return;
        }
        byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
        writeVarInt(bytes.length + 1, out);
        out.write(bytes);
    }

    private static String readString(DataInputView in, Strings strings) throws IOException {
        int length = readVarInt(in) - 1;
        if (length < 0) {
            return null;
        }
        if (strings != null) {
            return strings.read(in, length);
        }
        byte[] bytes = new byte[length];
        in.readFully(bytes);
        return new String(bytes, StandardCharsets.UTF_8);
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

    private static void writeMap(Map<String, Object> map, DataOutputView out) throws IOException {
        writeVarInt(map.size(), out);
        for (Map.Entry<String, Object> entry : map.entrySet()) {
            writeString(entry.getKey(), out);
            writeValue(entry.getValue(), out);
        }
    }

    private static Map<String, Object> readMap(DataInputView in, Strings strings) throws IOException {
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
        } else if (value instanceof Map<?, ?> map) {
            out.writeByte(MAP);
            writeMap((Map<String, Object>) map, out);
        } else {
            // The maps hold JSON values; anything else would come back as something else, so it is refused.
            throw new IllegalArgumentException("not a JSON value: " + value.getClass().getName());
        }
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
            case BIG_INTEGER -> new BigInteger(readString(in, null));
            case BIG_DECIMAL -> new BigDecimal(readString(in, null));
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
            default -> throw new IOException("unknown value tag " + tag + ": the bytes are not a FeatureEventSerializer's");
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
