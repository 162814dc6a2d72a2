package io.cohortflow.core.codec;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.util.Map;
import java.util.function.IntFunction;
import java.util.function.IntToLongFunction;
import java.util.function.ObjLongConsumer;

/**
 * The one binary form of a name → time (or count) map in the engine's state: an unsigned short count, then each
 * entry as a modified-UTF-8 name and a long. Used by the feature state and the per-user engine state alike.
 */
public final class BinaryMaps {
    private BinaryMaps() {
    }

    public static void writeStringLongs(DataOutput out, Map<String, Long> values) throws IOException {
        out.writeShort(values.size());
        for (Map.Entry<String, Long> entry : values.entrySet()) {
            out.writeUTF(entry.getKey());
            out.writeLong(entry.getValue());
        }
    }

    /** The same form, of {@code n} entries held elsewhere than in a map: entry {@code i} is {@code (name(i), value(i))}. */
    public static void writeStringLongs(DataOutput out, int n, IntFunction<String> name, IntToLongFunction value)
            throws IOException {
        out.writeShort(n);
        for (int i = 0; i < n; i++) {
            out.writeUTF(name.apply(i));
            out.writeLong(value.applyAsLong(i));
        }
    }

    /** Reads what {@link #writeStringLongs} wrote into {@code values}. */
    public static void readStringLongs(DataInput in, Map<String, Long> values) throws IOException {
        readStringLongs(in, values::put);
    }

    /** Reads what {@link #writeStringLongs} wrote, giving each entry, in order, to {@code entry}. */
    public static void readStringLongs(DataInput in, ObjLongConsumer<String> entry) throws IOException {
        int n = in.readUnsignedShort();
        for (int i = 0; i < n; i++) {
            entry.accept(in.readUTF(), in.readLong());
        }
    }
}
