package io.cohortflow.jobs.types;

import org.apache.flink.api.common.typeutils.SimpleTypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;

import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * A string in keyed state as one block of bytes: its length, then its Latin-1 bytes, or its UTF-16 chars when it has
 * a char past Latin-1. Every string comes back as it was, unpaired surrogates included.
 *
 * <p>Why not Flink's {@code StringSerializer}: it writes a string char by char, each a call through the stream's
 * wrappers, one of them {@code DataOutputStream.write(int)}, which is synchronized. The heap backend writes all of its
 * state at every checkpoint, and for the ingest job's dedupe state (every message id of the window) that took 72% of the
 * checkpoint thread's time, in a job where that thread was a fifth of the CPU (JFR, issue "Speed to lead", P5).
 *
 * <p>Its bytes are part of the state: a change to them is a change of format, with a snapshot version of its own.
 */
public final class StringBlockSerializer extends ImmutableRecordSerializer<String> {
    private static final long serialVersionUID = 1L;
    public static final StringBlockSerializer INSTANCE = new StringBlockSerializer();

    private StringBlockSerializer() {
    }

    @Override
    public void serialize(String s, DataOutputView out) throws IOException {
        int length = s.length();
        if (latin1(s)) {
            out.writeInt(length);
            out.write(s.getBytes(StandardCharsets.ISO_8859_1));
        } else {
            byte[] chars = new byte[length * 2];
            for (int i = 0; i < length; i++) {
                char c = s.charAt(i);
                chars[2 * i] = (byte) (c >>> 8);
                chars[2 * i + 1] = (byte) c;
            }
            out.writeInt(-length - 1);
            out.write(chars);
        }
    }

    @Override
    public String deserialize(DataInputView in) throws IOException {
        int header = in.readInt();
        if (header >= 0) {
            byte[] bytes = new byte[header];
            in.readFully(bytes);
            return new String(bytes, StandardCharsets.ISO_8859_1);
        }
        int length = -header - 1;
        byte[] bytes = new byte[length * 2];
        in.readFully(bytes);
        char[] chars = new char[length];
        for (int i = 0; i < length; i++) {
            chars[i] = (char) (((bytes[2 * i] & 0xFF) << 8) | (bytes[2 * i + 1] & 0xFF));
        }
        return new String(chars);
    }

    private static boolean latin1(String s) {
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) > 0xFF) {
                return false;
            }
        }
        return true;
    }

    @Override
    public TypeSerializerSnapshot<String> snapshotConfiguration() {
        return new Snapshot();
    }

    /** For Flink's reflective restore; there is nothing to configure. */
    public static final class Snapshot extends SimpleTypeSerializerSnapshot<String> {
        public Snapshot() {
            super(() -> INSTANCE);
        }
    }
}
