package io.cohortflow.core.codec;

import java.io.DataInput;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * An array's bytes as an {@link InputStream} and a {@link DataInput}, read in place.
 *
 * <p>As an {@code InputStream} it reads as {@link java.io.ByteArrayInputStream} does, without the locks of its every
 * {@code synchronized} {@code read()}: state read a byte at a time (varints) paid a lock per byte. As a
 * {@code DataInput} it reads as a {@link DataInputStream} over those bytes does (big-endian, {@link EOFException} past
 * the end), without one: a {@code DataInputStream} allocates about 300 bytes of buffers it never uses here, per
 * record decoded. {@link #readUtf8} makes a string straight from the array, with no copy of its bytes first. Not
 * thread-safe.
 */
public final class BytesIn extends InputStream implements DataInput {
    private static final VarHandle SHORT = MethodHandles.byteArrayViewVarHandle(short[].class, ByteOrder.BIG_ENDIAN);
    private static final VarHandle INT = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.BIG_ENDIAN);
    private static final VarHandle LONG = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.BIG_ENDIAN);

    private final byte[] bytes;
    private int position;

    public BytesIn(byte[] bytes) {
        this.bytes = Objects.requireNonNull(bytes, "bytes");
    }

    @Override
    public int read() {
        return position < bytes.length ? bytes[position++] & 0xff : -1;
    }

    @Override
    public int read(byte[] into, int offset, int length) {
        Objects.checkFromIndexSize(offset, length, into.length);
        if (position >= bytes.length) {
            return -1; // at the end, as ByteArrayInputStream: even for no bytes asked
        }
        int n = Math.min(length, bytes.length - position);
        if (n == 0) {
            return 0;
        }
        System.arraycopy(bytes, position, into, offset, n);
        position += n;
        return n;
    }

    @Override
    public long skip(long n) {
        long skipped = Math.max(0, Math.min(n, bytes.length - position));
        position += (int) skipped;
        return skipped;
    }

    @Override
    public int available() {
        return bytes.length - position;
    }

    // ---- DataInput -------------------------------------------------------------------------------------------------

    /** The position after {@code n} more bytes, or {@link EOFException} if fewer are left (nothing is then read). */
    private int take(int n) throws EOFException {
        int at = position;
        if (n > bytes.length - at) {
            throw new EOFException("reading " + n + " bytes with " + (bytes.length - at) + " left");
        }
        position = at + n;
        return at;
    }

    @Override
    public void readFully(byte[] into) throws IOException {
        readFully(into, 0, into.length);
    }

    @Override
    public void readFully(byte[] into, int offset, int length) throws IOException {
        Objects.checkFromIndexSize(offset, length, into.length);
        System.arraycopy(bytes, take(length), into, offset, length);
    }

    /**
     * The next {@code length} bytes as UTF-8 (as {@code new String(bytes, UTF_8)} decodes them), or
     * {@link EOFException} if fewer are left: a length past the end is refused before anything is allocated.
     */
    public String readUtf8(int length) throws EOFException {
        if (length < 0) {
            throw new IllegalArgumentException("a negative length " + length);
        }
        return new String(bytes, take(length), length, StandardCharsets.UTF_8);
    }

    /**
     * Which of {@code candidates} the next {@code length} bytes are (its place), or -1 for none: those bytes are read
     * either way ({@link EOFException} if fewer are left). For a reader looking for a few keys among many, which then
     * makes no string of the others.
     */
    public int readOneOf(byte[][] candidates, int length) throws EOFException {
        int at = take(length);
        for (int i = 0; i < candidates.length; i++) {
            byte[] candidate = candidates[i];
            if (candidate.length == length && java.util.Arrays.equals(bytes, at, at + length, candidate, 0, length)) {
                return i;
            }
        }
        return -1;
    }

    @Override
    public int skipBytes(int n) {
        return (int) skip(n);
    }

    @Override
    public boolean readBoolean() throws IOException {
        return bytes[take(1)] != 0;
    }

    @Override
    public byte readByte() throws IOException {
        return bytes[take(1)];
    }

    @Override
    public int readUnsignedByte() throws IOException {
        return bytes[take(1)] & 0xff;
    }

    @Override
    public short readShort() throws IOException {
        return (short) SHORT.get(bytes, take(2));
    }

    @Override
    public int readUnsignedShort() throws IOException {
        return readShort() & 0xffff;
    }

    @Override
    public char readChar() throws IOException {
        return (char) readShort();
    }

    @Override
    public int readInt() throws IOException {
        return (int) INT.get(bytes, take(4));
    }

    @Override
    public long readLong() throws IOException {
        return (long) LONG.get(bytes, take(8));
    }

    @Override
    public float readFloat() throws IOException {
        return Float.intBitsToFloat(readInt());
    }

    @Override
    public double readDouble() throws IOException {
        return Double.longBitsToDouble(readLong());
    }

    /** As {@link DataInputStream#readLine}: bytes as Latin-1 up to {@code \n}, {@code \r} or {@code \r\n}. */
    @Override
    public String readLine() {
        if (position >= bytes.length) {
            return null;
        }
        StringBuilder line = new StringBuilder();
        while (position < bytes.length) {
            char c = (char) (bytes[position++] & 0xff);
            if (c == '\n') {
                break;
            }
            if (c == '\r') {
                if (position < bytes.length && bytes[position] == '\n') {
                    position++;
                }
                break;
            }
            line.append(c);
        }
        return line.toString();
    }

    /**
     * As {@link DataInputStream#readUTF}: a string of plain ASCII (every byte 1 to 127, as most names are) is made
     * straight from the array; any other is read by {@code DataInputStream.readUTF}, from the same position.
     */
    @Override
    public String readUTF() throws IOException {
        int start = position;
        int length = readUnsignedShort();
        int at = take(length);
        for (int i = at; i < at + length; i++) {
            if (bytes[i] <= 0) { // 0, or 0x80 and up: not a plain ASCII char
                position = start;
                return DataInputStream.readUTF(this);
            }
        }
        return new String(bytes, at, length, StandardCharsets.ISO_8859_1);
    }
}
