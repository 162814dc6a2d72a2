package io.cohortflow.core.event;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.cohortflow.core.codec.BytesIn;
import io.cohortflow.core.codec.BytesOut;
import io.cohortflow.core.codec.FrozenMap;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.EOFException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The compact binary form of a {@link UnifiedEvent}: the records of events.unified, and the wire between the jobs'
 * operators ({@code UnifiedEventSerializer} in job-common writes the same fields without the leading version byte).
 *
 * <p>A record on the topic is the version byte {@value #VERSION}, then each field in the record's order:
 * <ul>
 *   <li>a string as a varint (0: null; else its UTF-8 length + 1) and its UTF-8 bytes;</li>
 *   <li>{@code type} as one byte, the ordinal of {@link EventType} (track 0, identify 1, page 2, screen 3, group 4,
 *   alias 5);</li>
 *   <li>{@code timestamp} and {@code receivedAt} as 8-byte big-endian longs; {@code sentAt} as a byte (1: present)
 *   and, if present, a long;</li>
 *   <li>{@code properties}, {@code traits} and {@code context} as maps: a varint size, then each key (a string) and
 *   its value as a tag byte and the value: 0 null, 1 string, 2 long (8 bytes), 3 int (4 bytes), 4 double (8 bytes),
 *   5 true, 6 false, 7 big integer (its decimal string), 8 big decimal (its string), 9 list (a varint size, then
 *   tagged values), 10 map (as above), 11 float (4 bytes), 12 any other value as its JSON text (a string).</li>
 * </ul>
 * A JSON object starts with {@code '{'} or white space, never with a byte below 9: {@link UnifiedEventCodec} reads
 * both forms, so a topic that holds JSON records written before this form, and binary ones after, reads whole.
 *
 * <p>Why not JSON: decoding events.unified's JSON was a quarter of the segmentation engine's time per event (JFR of
 * the hot path, issue "Speed to lead"), and writing it most of the unified writer's in ingest. The binary record is
 * also about half the bytes.
 */
public final class UnifiedEventBinary {
    /** The first byte of a record in this form: its version. */
    public static final byte VERSION = 1;

    /** Reads a string's UTF-8 bytes, of a known length, into a string: anew, or from a table that keeps them. */
    @FunctionalInterface
    public interface Strings {
        String read(DataInput in, int length) throws IOException;
    }

    /** Every string read anew. */
    public static final Strings NEW = (in, length) -> {
        byte[] bytes = new byte[length];
        in.readFully(bytes);
        return new String(bytes, StandardCharsets.UTF_8);
    };

    /**
     * Strings of a record read by {@link #decode}, made from its array in place: a length past the record's end is
     * refused ({@link EOFException}) before anything is allocated.
     */
    private static final Strings IN_PLACE = (in, length) -> ((BytesIn) in).readUtf8(length);

    private static final EventType[] TYPES = EventType.values();
    /** As {@code JsonCodec}'s, for the values of other types: what the JSON form does with them. */
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
    /** How deep lists and maps may nest in a value: as deep as Jackson reads JSON by default. */
    private static final int MAX_DEPTH = 1000;

    private UnifiedEventBinary() {
    }

    /** Whether {@code bytes} are a record in this form (of any version) rather than JSON. */
    public static boolean isBinary(byte[] bytes) {
        return bytes.length > 0 && bytes[0] >= 0 && bytes[0] < '\t';
    }

    /** The record of {@code event}: the version byte, then its fields. */
    public static byte[] encode(UnifiedEvent event) {
        BytesOut out = new BytesOut(256);
        try {
            out.writeByte(VERSION);
            write(event, out);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot encode event " + event.messageId(), e);
        }
        return out.toByteArray();
    }

    /**
     * The event of a record written by {@link #encode}; throws {@link UncheckedIOException} for any other bytes: a
     * version this code does not know, a record cut short or followed by more bytes, or a field out of its range.
     */
    public static UnifiedEvent decode(byte[] bytes) {
        return decode(bytes, null);
    }

    /**
     * {@link #decode(byte[])}, keeping of the event's maps only the entries {@code kept} names (null: all): the others
     * are stepped over, not built, though still checked to be well formed.
     */
    public static UnifiedEvent decode(byte[] bytes, EventFields kept) {
        if (bytes.length == 0 || bytes[0] != VERSION) {
            throw new UncheckedIOException(new IOException(bytes.length == 0 ? "no bytes: not an event's"
                    : "binary event version " + bytes[0] + " is not known here (this code reads version " + VERSION
                    + ")"));
        }
        BytesIn in = new BytesIn(bytes);
        in.skip(1);
        try {
            UnifiedEvent event = read(in, IN_PLACE, kept);
            if (in.available() > 0) {
                throw new IOException(in.available() + " bytes after the event: the bytes are not one event's");
            }
            return event;
        } catch (EOFException e) {
            throw new UncheckedIOException(new IOException("the event's bytes end too soon: " + e.getMessage(), e));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (RuntimeException e) { // a field out of its range: no message id, no user, a bad number
            throw new UncheckedIOException(new IOException("not an event's bytes: " + e.getMessage(), e));
        }
    }

    /** The fields of {@code e}, without the version byte. */
    public static void write(UnifiedEvent e, DataOutput out) throws IOException {
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

    /** The fields written by {@link #write}, strings read by {@code strings}. */
    public static UnifiedEvent read(DataInput in, Strings strings) throws IOException {
        return read(in, strings, null);
    }

    /** {@link #read(DataInput, Strings)}, keeping of the maps only the entries {@code kept} names (null: all). */
    private static UnifiedEvent read(DataInput in, Strings strings, EventFields kept) throws IOException {
        String messageId = readString(in, strings);
        EventType type = type(in.readByte());
        String event = readString(in, strings);
        String anonymousId = readString(in, strings);
        String userId = readString(in, strings);
        String resolvedId = readString(in, strings);
        long timestamp = in.readLong();
        Long sentAt = in.readBoolean() ? in.readLong() : null;
        long receivedAt = in.readLong();
        String source = readString(in, strings);
        String previousId = readString(in, strings);
        // The maps read are the event's own: it takes them without a copy.
        Map<String, Object> properties = readMap(in, strings, kept == null ? null : kept.propertyKeys());
        Map<String, Object> traits = readMap(in, strings, kept == null ? null : kept.traitKeys());
        Map<String, Object> context = readMap(in, strings, kept == null ? null : kept.contextKeys());
        return new UnifiedEvent(messageId, type, event, anonymousId, userId, resolvedId, timestamp, sentAt, receivedAt,
                source, previousId, FrozenMap.owning(properties), FrozenMap.owning(traits), FrozenMap.owning(context));
    }

    /** The event type of an ordinal written by {@link #write}. */
    public static EventType type(int ordinal) throws IOException {
        if (ordinal < 0 || ordinal >= TYPES.length) {
            throw new IOException("unknown event type " + ordinal + ": the bytes are not an event's");
        }
        return TYPES[ordinal];
    }

    /** Null as length 0, else the UTF-8 length + 1, as a varint, then the bytes. */
    public static void writeString(String s, DataOutput out) throws IOException {
        if (s == null) {
            out.writeByte(0);
            return;
        }
        byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
        writeVarInt(bytes.length + 1, out);
        out.write(bytes);
    }

    /** A string written by {@link #writeString}, its bytes read by {@code strings}. */
    public static String readString(DataInput in, Strings strings) throws IOException {
        int length = readVarInt(in) - 1;
        return length < 0 ? null : strings.read(in, length);
    }

    private static void writeVarInt(int value, DataOutput out) throws IOException {
        while ((value & ~0x7F) != 0) {
            out.writeByte((value & 0x7F) | 0x80);
            value >>>= 7;
        }
        out.writeByte(value);
    }

    private static int readVarInt(DataInput in) throws IOException {
        int value = 0;
        int shift = 0;
        int b;
        do {
            if (shift > 28) {
                throw new IOException("a length of more than 5 bytes: the bytes are not an event's");
            }
            b = in.readUnsignedByte();
            if (shift == 28 && (b & 0x78) != 0) {
                throw new IOException("a length past 2^31: the bytes are not an event's");
            }
            value |= (b & 0x7F) << shift;
            shift += 7;
        } while ((b & 0x80) != 0);
        return value;
    }

    /** A map of JSON values: its size, then each key and tagged value. */
    public static void writeMap(Map<String, Object> map, DataOutput out) throws IOException {
        writeVarInt(map.size(), out);
        for (Map.Entry<String, Object> entry : map.entrySet()) {
            writeString(entry.getKey(), out);
            writeValue(entry.getValue(), out);
        }
    }

    /** A map written by {@link #writeMap}, its strings read by {@code strings}: empty as {@code Map.of()}. */
    public static Map<String, Object> readMap(DataInput in, Strings strings) throws IOException {
        return readMap(in, strings, 0);
    }

    /**
     * A field's map, with only the entries of {@code keys} (null: all); empty as {@code Map.of()}. A key is told from
     * its bytes in place, and a key kept is its {@code keys} string (so later lookups find the string they hold). Keys
     * are given only for a record's own bytes ({@link #decode(byte[], EventFields)}), which {@code in} then reads.
     */
    private static Map<String, Object> readMap(DataInput in, Strings strings, EventFields.Keys keys)
            throws IOException {
        if (keys == null) {
            return readMap(in, strings, 0);
        }
        int size = readVarInt(in);
        Map<String, Object> map = Map.of();
        for (int i = 0; i < size; i++) {
            int length = readVarInt(in) - 1;
            int place = -1; // a null key (length -1) is never kept
            if (length >= 0) {
                place = ((BytesIn) in).readOneOf(keys.utf8, length);
            }
            if (place >= 0) {
                map = map.isEmpty() ? new LinkedHashMap<>(keys.strings.length * 2) : map;
                map.put(keys.strings[place], readValue(in, strings, 0));
            } else {
                skipValue(in, 0);
            }
        }
        return map;
    }

    /** A map at {@code depth} lists or maps below a field's: a field's empty map as {@code Map.of()}. */
    private static Map<String, Object> readMap(DataInput in, Strings strings, int depth) throws IOException {
        int size = readVarInt(in);
        if (size == 0 && depth == 0) {
            return Map.of();
        }
        Map<String, Object> map = new LinkedHashMap<>(Math.min(size, 1 << 12) * 2);
        for (int i = 0; i < size; i++) {
            map.put(readString(in, strings), readValue(in, strings, depth));
        }
        return map;
    }

    @SuppressWarnings("unchecked")
    private static void writeValue(Object value, DataOutput out) throws IOException {
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

    /** Steps over a value at {@code depth} lists or maps below a field's, as {@link #readValue} would read it. */
    private static void skipValue(DataInput in, int depth) throws IOException {
        byte tag = in.readByte();
        if ((tag == LIST || tag == MAP) && depth >= MAX_DEPTH) {
            throw new IOException("values nested more than " + MAX_DEPTH + " deep: the bytes are not an event's");
        }
        switch (tag) {
            case NULL, TRUE, FALSE -> { }
            case STRING, BIG_INTEGER, BIG_DECIMAL, OTHER_AS_JSON -> skipString(in);
            case LONG, DOUBLE -> skip(in, 8);
            case INTEGER, FLOAT -> skip(in, 4);
            case LIST -> {
                int size = readVarInt(in);
                for (int i = 0; i < size; i++) {
                    skipValue(in, depth + 1);
                }
            }
            case MAP -> {
                int size = readVarInt(in);
                for (int i = 0; i < size; i++) {
                    skipString(in);
                    skipValue(in, depth + 1);
                }
            }
            default -> throw new IOException("unknown value tag " + tag + ": the bytes are not an event's");
        }
    }

    private static void skipString(DataInput in) throws IOException {
        int length = readVarInt(in) - 1;
        if (length > 0) {
            skip(in, length);
        }
    }

    private static void skip(DataInput in, int n) throws IOException {
        if (n < 0 || in.skipBytes(n) != n) {
            throw new EOFException("a value of " + n + " bytes past the end");
        }
    }

    /** A value at {@code depth} lists or maps below a field's. */
    private static Object readValue(DataInput in, Strings strings, int depth) throws IOException {
        byte tag = in.readByte();
        if ((tag == LIST || tag == MAP) && depth >= MAX_DEPTH) {
            throw new IOException("values nested more than " + MAX_DEPTH + " deep: the bytes are not an event's");
        }
        return switch (tag) {
            case NULL -> null;
            case STRING -> readString(in, strings);
            case LONG -> in.readLong();
            case INTEGER -> in.readInt();
            case DOUBLE -> in.readDouble();
            case TRUE -> Boolean.TRUE;
            case FALSE -> Boolean.FALSE;
            case BIG_INTEGER -> new BigInteger(readString(in, strings));
            case BIG_DECIMAL -> new BigDecimal(readString(in, strings));
            case FLOAT -> in.readFloat();
            case LIST -> {
                int size = readVarInt(in);
                List<Object> list = new ArrayList<>(Math.min(size, 1 << 12));
                for (int i = 0; i < size; i++) {
                    list.add(readValue(in, strings, depth + 1));
                }
                yield list;
            }
            case MAP -> readMap(in, strings, depth + 1);
            case OTHER_AS_JSON -> JSON.readValue(readString(in, strings), Object.class);
            default -> throw new IOException("unknown value tag " + tag + ": the bytes are not an event's");
        };
    }
}
