package io.cohortflow.core.codec;

import java.io.DataOutput;
import java.io.DataOutputStream;
import java.io.OutputStream;
import java.io.UTFDataFormatException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Objects;

/**
 * Bytes written into a growing array, as an {@link OutputStream} and a {@link DataOutput}: the bytes of a
 * {@link DataOutputStream} over a {@link java.io.ByteArrayOutputStream}, without either. Those two lock at every
 * array written ({@code DataOutputStream.write(byte[], int, int)} and every write of {@code ByteArrayOutputStream} are
 * {@code synchronized}; an event's record writes some twenty strings), and {@code writeUTF} makes an array for each
 * string first. Not thread-safe. The counterpart of {@link BytesIn}.
 */
public final class BytesOut extends OutputStream implements DataOutput {
    private static final VarHandle SHORT = MethodHandles.byteArrayViewVarHandle(short[].class, ByteOrder.BIG_ENDIAN);
    private static final VarHandle INT = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.BIG_ENDIAN);
    private static final VarHandle LONG = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.BIG_ENDIAN);

    private byte[] bytes;
    private int size;

    /** An empty array of {@code capacity} bytes to start with; it doubles as it fills. */
    public BytesOut(int capacity) {
        bytes = new byte[Math.max(16, capacity)];
    }

    /**
     * Room for {@code n} more bytes; returns where they go. Call it before reading {@link #bytes}: it can replace the
     * array ({@code bytes[reserve(1)] = b} would write into the old one).
     */
    private int reserve(int n) {
        int at = size;
        if (n > bytes.length - at) {
            bytes = Arrays.copyOf(bytes, Math.max(bytes.length * 2, Math.addExact(at, n)));
        }
        size = at + n;
        return at;
    }

    /** How many bytes were written. */
    public int size() {
        return size;
    }

    /** A copy of the bytes written. */
    public byte[] toByteArray() {
        return Arrays.copyOf(bytes, size);
    }

    @Override
    public void write(int b) {
        int at = reserve(1); // before the array is read: reserving can replace it
        bytes[at] = (byte) b;
    }

    @Override
    public void write(byte[] from) {
        write(from, 0, from.length);
    }

    @Override
    public void write(byte[] from, int offset, int length) {
        Objects.checkFromIndexSize(offset, length, from.length);
        int at = reserve(length);
        System.arraycopy(from, offset, bytes, at, length);
    }

    @Override
    public void writeBoolean(boolean v) {
        write(v ? 1 : 0);
    }

    @Override
    public void writeByte(int v) {
        write(v);
    }

    @Override
    public void writeShort(int v) {
        int at = reserve(2);
        SHORT.set(bytes, at, (short) v);
    }

    @Override
    public void writeChar(int v) {
        writeShort(v);
    }

    @Override
    public void writeInt(int v) {
        int at = reserve(4);
        INT.set(bytes, at, v);
    }

    @Override
    public void writeLong(long v) {
        int at = reserve(8);
        LONG.set(bytes, at, v);
    }

    @Override
    public void writeFloat(float v) {
        writeInt(Float.floatToIntBits(v));
    }

    @Override
    public void writeDouble(double v) {
        writeLong(Double.doubleToLongBits(v));
    }

    /** Each char's low byte, as {@link DataOutputStream#writeBytes}. */
    @Override
    public void writeBytes(String s) {
        int at = reserve(s.length());
        for (int i = 0; i < s.length(); i++) {
            bytes[at + i] = (byte) s.charAt(i);
        }
    }

    @Override
    public void writeChars(String s) {
        for (int i = 0; i < s.length(); i++) {
            writeChar(s.charAt(i));
        }
    }

    /**
     * As {@link DataOutputStream#writeUTF}: the modified UTF-8 length as two bytes, then the bytes (U+0000 as two
     * bytes; a supplementary character as its two surrogates, three bytes each); {@link UTFDataFormatException} past
     * 65,535 bytes, with nothing written.
     */
    @Override
    public void writeUTF(String s) throws UTFDataFormatException {
        int length = s.length();
        int encoded = length;
        for (int i = 0; i < length; i++) {
            char c = s.charAt(i);
            if (c >= 0x80 || c == 0) {
                encoded += c >= 0x800 ? 2 : 1;
            }
        }
        if (encoded > 0xFFFF) {
            throw new UTFDataFormatException("a string of " + encoded + " bytes of modified UTF-8, past 65535");
        }
        int at = reserve(2 + encoded);
        bytes[at++] = (byte) (encoded >>> 8);
        bytes[at++] = (byte) encoded;
        for (int i = 0; i < length; i++) {
            char c = s.charAt(i);
            if (c != 0 && c < 0x80) {
                bytes[at++] = (byte) c;
            } else if (c < 0x800) {
                bytes[at++] = (byte) (0xC0 | (c >> 6));
                bytes[at++] = (byte) (0x80 | (c & 0x3F));
            } else {
                bytes[at++] = (byte) (0xE0 | (c >> 12));
                bytes[at++] = (byte) (0x80 | ((c >> 6) & 0x3F));
                bytes[at++] = (byte) (0x80 | (c & 0x3F));
            }
        }
    }
}
