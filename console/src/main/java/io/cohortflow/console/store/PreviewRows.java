package io.cohortflow.console.store;

import dev.cel.common.types.CelType;
import dev.cel.common.types.ListType;
import dev.cel.common.types.MapType;
import dev.cel.common.types.SimpleType;
import io.cohortflow.core.feature.EventTimeline;
import io.cohortflow.core.segment.SegmentRules;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The binary form of what a preview evaluates per person: their memberships, then every rule variable in the order
 * {@link SegmentRules#types()} declares them, each typed as the compiler declares it. Variable-length values carry
 * their length, so a preview decodes only the variables its condition reads and skips the rest. JSON would cost a
 * parse of the whole profile per person; this is a few field reads. A count window keeps only its non-zero counts
 * and is decoded naming every event of the taxonomy, as the stream's count maps do.
 *
 * <pre>
 * u16 memberships, each: u16 length + UTF-8
 * per variable, in declared order:
 *   double, int: 8 bytes · bool: 1 byte · string: u16 length + UTF-8
 *   map(string, int): i32 byte length, u16 entries, each: u8 the event's code in the store's dictionary (0: u16
 *                     length + UTF-8 follow), a zigzag varint count
 *   map(string, double), list(string): i32 byte length, u16 entries, each: u16 length + UTF-8 [+ 8 bytes]
 *   events: nothing here (see below)
 * </pre>
 * The behavioural operators' history ({@code events}) is the bulk of a profile's inputs and few conditions read
 * it, so it is kept apart ({@link #encodeEvents}), and read
 * only by a preview whose condition does.
 */
public final class PreviewRows {
    private static final List<String> NAMES = List.copyOf(SegmentRules.types().keySet());
    private static final List<CelType> TYPES = List.copyOf(SegmentRules.types().values());
    /** The type of the behavioural operators' history ({@code events}), which rows keep apart. */
    private static final CelType EVENTS = SegmentRules.types().get("events");

    private final List<String> eventNames;
    /** Each event name's code in a count window: its place in {@code eventNames}, from 1 (at most 255 of them). */
    private final Map<String, Integer> codes = new HashMap<>();

    private final List<String> dictionary;

    /**
     * @param eventNames the canonical event names every count window names (zero when absent)
     * @param dictionary the event names by code, from 1, as the store was created with (it keeps the list, so rows
     *                   written before a taxonomy change still read; a name not in it is spelled out)
     */
    public PreviewRows(java.util.Collection<String> eventNames, List<String> dictionary) {
        this.eventNames = List.copyOf(eventNames);
        this.dictionary = List.copyOf(dictionary);
        for (int i = 0; i < this.dictionary.size() && i < 255; i++) {
            codes.put(this.dictionary.get(i), i + 1);
        }
    }

    /** The index of each variable in a decoded row. */
    public static int index(String variable) {
        int i = NAMES.indexOf(variable);
        if (i < 0) {
            throw new IllegalArgumentException("no rule variable " + variable);
        }
        return i;
    }

    /** Whether these indexes name {@code events}, which a scan reads apart. */
    public static boolean readsEvents(BitSet needed) {
        return needed.get(index("events"));
    }

    /** The indexes of these variables, for {@link #decode}. */
    public static BitSet indexes(Set<String> variables) {
        BitSet out = new BitSet();
        variables.forEach(v -> out.set(index(v)));
        return out;
    }

    public byte[] encode(List<String> memberships, Map<String, Object> variables) {
        ByteBuffer out = ByteBuffer.allocate(256);
        out = putShort(out, memberships.size());
        for (String segment : memberships) {
            out = putString(out, segment);
        }
        for (int i = 0; i < NAMES.size(); i++) {
            out = put(out, TYPES.get(i), variables.get(NAMES.get(i)), codes);
        }
        byte[] bytes = new byte[out.position()];
        out.flip().get(bytes);
        return bytes;
    }

    /** A decoded row: the memberships and the variables asked for (null at the others' indexes). */
    public record Row(List<String> memberships, Object[] values) {
        /** The decoded variables by name (those decoded only). */
        public Map<String, Object> variables() {
            Map<String, Object> out = new HashMap<>();
            for (int i = 0; i < values.length; i++) {
                if (values[i] != null) {
                    out.put(NAMES.get(i), values[i]);
                }
            }
            return out;
        }

        public Object get(String variable) {
            return values[index(variable)];
        }
    }

    /**
     * Decodes the memberships and the variables whose indexes {@code needed} holds; {@code events}, when needed, from
     * {@code events} ({@link #encodeEvents}).
     */
    public Row decode(byte[] bytes, byte[] events, BitSet needed) {
        ByteBuffer in = ByteBuffer.wrap(bytes);
        int n = Short.toUnsignedInt(in.getShort());
        List<String> memberships = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            memberships.add(getString(in));
        }
        Object[] values = new Object[NAMES.size()];
        int last = needed.length();
        for (int i = 0; i < last; i++) {
            CelType type = TYPES.get(i);
            if (needed.get(i) && type.equals(EVENTS)) {
                values[i] = events == null ? new EventTimeline(0, Map.of()) : decodeEvents(events);
            } else if (needed.get(i)) {
                values[i] = get(in, type);
            } else {
                skip(in, type);
            }
        }
        return new Row(memberships, values);
    }

    // ---- values ---------------------------------------------------------------------------------------------------

    /**
     * The {@code events} of a row's variables, apart: 8 bytes as-of time, u8 events, each: its code in the
     * dictionary (0: u16 length + UTF-8 follow), then its minute, hour and day buckets (a varint n, then n bucket
     * indexes as varint deltas and n varint counts) and its latest exact times (a varint n, then varint deltas).
     */
    public byte[] encodeEvents(Map<String, Object> variables) {
        EventTimeline timeline = variables.get("events") instanceof EventTimeline t ? t : new EventTimeline(0, Map.of());
        ByteBuffer out = ByteBuffer.allocate(64).putLong(timeline.asOf());
        Map<String, EventTimeline.Event> events = timeline.events();
        out = room(out, 1);
        out.put((byte) Math.min(255, events.size()));
        int written = 0;
        for (Map.Entry<String, EventTimeline.Event> entry : events.entrySet()) {
            if (written++ == 255) {
                break;
            }
            Integer code = codes.get(entry.getKey());
            out = room(out, 1);
            out.put((byte) (code == null ? 0 : code));
            if (code == null) {
                out = putString(out, entry.getKey());
            }
            EventTimeline.Event e = entry.getValue();
            out = putBuckets(out, e.minutes(), e.minuteCounts());
            out = putBuckets(out, e.hours(), e.hourCounts());
            out = putBuckets(out, e.days(), e.dayCounts());
            out = putDeltas(out, e.recent());
        }
        byte[] bytes = new byte[out.position()];
        out.flip().get(bytes);
        return bytes;
    }

    /** Reads what {@link #encodeEvents} wrote. */
    public EventTimeline decodeEvents(byte[] bytes) {
        ByteBuffer in = ByteBuffer.wrap(bytes);
        long asOf = in.getLong();
        int n = Byte.toUnsignedInt(in.get());
        Map<String, EventTimeline.Event> events = new HashMap<>(n * 2);
        for (int i = 0; i < n; i++) {
            int code = Byte.toUnsignedInt(in.get());
            String name = code == 0 ? getString(in) : dictionary.get(code - 1);
            long[][] minutes = getBuckets(in);
            long[][] hours = getBuckets(in);
            long[][] days = getBuckets(in);
            events.put(name, new EventTimeline.Event(minutes[0], ints(minutes[1]), hours[0], ints(hours[1]), days[0],
                    ints(days[1]), getDeltas(in)));
        }
        return new EventTimeline(asOf, events);
    }

    private static ByteBuffer putBuckets(ByteBuffer out, long[] index, int[] counts) {
        out = putDeltas(out, index);
        out = room(out, 10 * counts.length);
        for (int count : counts) {
            putVarLong(out, count);
        }
        return out;
    }

    private static long[][] getBuckets(ByteBuffer in) {
        long[] index = getDeltas(in);
        long[] counts = new long[index.length];
        for (int i = 0; i < counts.length; i++) {
            counts[i] = getVarLong(in);
        }
        return new long[][] {index, counts};
    }

    private static ByteBuffer putDeltas(ByteBuffer out, long[] values) {
        out = room(out, 10 * (values.length + 1));
        putVarLong(out, values.length);
        long previous = 0;
        for (long v : values) {
            putVarLong(out, v - previous);
            previous = v;
        }
        return out;
    }

    private static long[] getDeltas(ByteBuffer in) {
        long[] values = new long[(int) getVarLong(in)];
        long previous = 0;
        for (int i = 0; i < values.length; i++) {
            previous += getVarLong(in);
            values[i] = previous;
        }
        return values;
    }

    private static int[] ints(long[] values) {
        int[] out = new int[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = (int) values[i];
        }
        return out;
    }

    private static void putVarLong(ByteBuffer out, long value) {
        long v = (value << 1) ^ (value >> 63); // zigzag: small of either sign, few bytes
        while ((v & ~0x7FL) != 0) {
            out.put((byte) ((v & 0x7F) | 0x80));
            v >>>= 7;
        }
        out.put((byte) v);
    }

    private static long getVarLong(ByteBuffer in) {
        long v = 0;
        int shift = 0;
        byte b;
        do {
            b = in.get();
            v |= (long) (b & 0x7F) << shift;
            shift += 7;
        } while ((b & 0x80) != 0);
        return (v >>> 1) ^ -(v & 1);
    }

    private static ByteBuffer put(ByteBuffer out, CelType type, Object value, Map<String, Integer> codes) {
        if (type.equals(EVENTS)) {
            return out; // kept apart: encodeEvents
        }
        if (type instanceof MapType || type instanceof ListType) {
            int lengthAt = out.position();
            out = room(out, 6);
            out.putInt(0);
            if (type instanceof MapType map) {
                boolean doubles = map.valueType().equals(SimpleType.DOUBLE);
                Map<?, ?> entries = value instanceof Map<?, ?> m ? m : Map.of();
                if (!doubles) { // counts: the zeros come back from the event names
                    Map<Object, Object> nonZero = new java.util.LinkedHashMap<>();
                    entries.forEach((k, v) -> {
                        if (((Number) v).longValue() != 0) {
                            nonZero.put(k, v);
                        }
                    });
                    entries = nonZero;
                }
                out = putShort(out, entries.size());
                for (Map.Entry<?, ?> entry : entries.entrySet()) {
                    String name = String.valueOf(entry.getKey());
                    Number number = (Number) entry.getValue();
                    if (doubles) {
                        out = putString(out, name);
                        out = room(out, 8);
                        out.putDouble(number.doubleValue());
                    } else { // a count: the event by its place in the taxonomy (0: spelled out), then a varint
                        Integer code = codes.get(name);
                        out = room(out, 11);
                        out.put((byte) (code == null ? 0 : code));
                        if (code == null) {
                            out = putString(out, name);
                        }
                        out = room(out, 10);
                        putVarLong(out, number.longValue());
                    }
                }
            } else {
                List<?> items = value instanceof List<?> l ? l : List.of();
                out = putShort(out, items.size());
                for (Object item : items) {
                    out = putString(out, String.valueOf(item));
                }
            }
            out.putInt(lengthAt, out.position() - lengthAt - 4);
            return out;
        }
        out = room(out, 8);
        if (type.equals(SimpleType.DOUBLE)) {
            return out.putDouble(value instanceof Number n ? n.doubleValue() : 0.0);
        }
        if (type.equals(SimpleType.INT)) {
            return out.putLong(value instanceof Number n ? n.longValue() : 0L);
        }
        if (type.equals(SimpleType.BOOL)) {
            return out.put((byte) (Boolean.TRUE.equals(value) ? 1 : 0));
        }
        return putString(out, value == null ? "" : value.toString());
    }

    private Object get(ByteBuffer in, CelType type) {
        if (type instanceof MapType map) {
            in.getInt();
            int n = Short.toUnsignedInt(in.getShort());
            boolean doubles = map.valueType().equals(SimpleType.DOUBLE);
            Map<String, Object> out = new HashMap<>((doubles ? n : n + eventNames.size()) * 2);
            if (!doubles) {
                eventNames.forEach(event -> out.put(event, 0L));
            }
            for (int i = 0; i < n; i++) {
                if (doubles) {
                    out.put(getString(in), in.getDouble());
                } else {
                    int code = Byte.toUnsignedInt(in.get());
                    out.put(code == 0 ? getString(in) : dictionary.get(code - 1), getVarLong(in));
                }
            }
            return out;
        }
        if (type instanceof ListType) {
            in.getInt();
            int n = Short.toUnsignedInt(in.getShort());
            List<String> out = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                out.add(getString(in));
            }
            return out;
        }
        if (type.equals(SimpleType.DOUBLE)) {
            return in.getDouble();
        }
        if (type.equals(SimpleType.INT)) {
            return in.getLong();
        }
        if (type.equals(SimpleType.BOOL)) {
            return in.get() == 1;
        }
        return getString(in);
    }

    private static void skip(ByteBuffer in, CelType type) {
        if (type.equals(EVENTS)) {
            return;
        }
        if (type instanceof MapType || type instanceof ListType) {
            int length = in.getInt();
            in.position(in.position() + length);
        } else if (type.equals(SimpleType.BOOL)) {
            in.position(in.position() + 1);
        } else if (type.equals(SimpleType.DOUBLE) || type.equals(SimpleType.INT)) {
            in.position(in.position() + 8);
        } else {
            int length = Short.toUnsignedInt(in.getShort());
            in.position(in.position() + length);
        }
    }

    private static ByteBuffer putString(ByteBuffer out, String s) {
        byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
        if (bytes.length > 0xFFFF) {
            throw new IllegalArgumentException("a name of " + bytes.length + " bytes in a profile's inputs");
        }
        out = room(out, 2 + bytes.length);
        return out.putShort((short) bytes.length).put(bytes);
    }

    private static String getString(ByteBuffer in) {
        int length = Short.toUnsignedInt(in.getShort());
        String s = new String(in.array(), in.arrayOffset() + in.position(), length, StandardCharsets.UTF_8);
        in.position(in.position() + length);
        return s;
    }

    private static ByteBuffer putShort(ByteBuffer out, int value) {
        if (value > 0xFFFF) {
            throw new IllegalArgumentException("more than 65535 entries in a profile's inputs");
        }
        return room(out, 2).putShort((short) value);
    }

    private static ByteBuffer room(ByteBuffer out, int bytes) {
        if (out.remaining() >= bytes) {
            return out;
        }
        ByteBuffer bigger = ByteBuffer.allocate(Math.max(out.capacity() * 2, out.position() + bytes));
        out.flip();
        return bigger.put(out);
    }
}
