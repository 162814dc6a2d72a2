package io.cohortflow.console.store;

import dev.cel.common.types.CelType;
import dev.cel.common.types.ListType;
import dev.cel.common.types.MapType;
import dev.cel.common.types.SimpleType;
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
 *   map(string, int|double), list(string): i32 byte length, u16 entries, each: u16 length + UTF-8 [+ 8 bytes]
 * </pre>
 */
public final class PreviewRows {
    private static final List<String> NAMES = List.copyOf(SegmentRules.types().keySet());
    private static final List<CelType> TYPES = List.copyOf(SegmentRules.types().values());

    private final List<String> eventNames;

    /** @param eventNames the canonical event names every count window names (zero when absent) */
    public PreviewRows(java.util.Collection<String> eventNames) {
        this.eventNames = List.copyOf(eventNames);
    }

    /** The index of each variable in a decoded row. */
    public static int index(String variable) {
        int i = NAMES.indexOf(variable);
        if (i < 0) {
            throw new IllegalArgumentException("no rule variable " + variable);
        }
        return i;
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
            out = put(out, TYPES.get(i), variables.get(NAMES.get(i)));
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

    /** Decodes the memberships and the variables whose indexes {@code needed} holds. */
    public Row decode(byte[] bytes, BitSet needed) {
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
            if (needed.get(i)) {
                values[i] = get(in, type, eventNames);
            } else {
                skip(in, type);
            }
        }
        return new Row(memberships, values);
    }

    // ---- values ---------------------------------------------------------------------------------------------------

    private static ByteBuffer put(ByteBuffer out, CelType type, Object value) {
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
                    out = putString(out, String.valueOf(entry.getKey()));
                    out = room(out, 8);
                    Number number = (Number) entry.getValue();
                    if (doubles) {
                        out.putDouble(number.doubleValue());
                    } else {
                        out.putLong(number.longValue());
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

    private static Object get(ByteBuffer in, CelType type, List<String> eventNames) {
        if (type instanceof MapType map) {
            in.getInt();
            int n = Short.toUnsignedInt(in.getShort());
            boolean doubles = map.valueType().equals(SimpleType.DOUBLE);
            Map<String, Object> out = new HashMap<>((doubles ? n : n + eventNames.size()) * 2);
            if (!doubles) {
                eventNames.forEach(event -> out.put(event, 0L));
            }
            for (int i = 0; i < n; i++) {
                String key = getString(in);
                out.put(key, doubles ? (Object) in.getDouble() : (Object) in.getLong());
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
