package io.cohortflow.core.codec;

import java.io.InputStream;
import java.util.Objects;

/**
 * An array's bytes as an {@link InputStream}, without the locks of {@link java.io.ByteArrayInputStream}, whose every
 * {@code read()} is {@code synchronized}: state read a byte at a time (varints, through a {@link java.io.DataInputStream})
 * paid a lock per byte. Not thread-safe.
 */
public final class BytesIn extends InputStream {
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
}
