package io.cohortflow.core.codec;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.util.Map;

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

    /** Reads what {@link #writeStringLongs} wrote into {@code values}. */
    public static void readStringLongs(DataInput in, Map<String, Long> values) throws IOException {
        int n = in.readUnsignedShort();
        for (int i = 0; i < n; i++) {
            values.put(in.readUTF(), in.readLong());
        }
    }
}
