package io.cohortflow.core.codec;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInput;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class BytesInTest {

    /** Random reads of every kind give what ByteArrayInputStream gives, to the end and past it. */
    @Test
    void readsAsByteArrayInputStreamReads() throws IOException {
        Random random = new Random(1);
        for (int round = 0; round < 200; round++) {
            byte[] bytes = new byte[random.nextInt(300)];
            random.nextBytes(bytes);
            InputStream expected = new ByteArrayInputStream(bytes);
            InputStream actual = new BytesIn(bytes);
            for (int step = 0; step < 60; step++) {
                assertThat(actual.available()).isEqualTo(expected.available());
                switch (random.nextInt(3)) {
                    case 0 -> assertThat(actual.read()).isEqualTo(expected.read());
                    case 1 -> {
                        int offset = random.nextInt(5);
                        int length = random.nextInt(40);
                        byte[] a = new byte[offset + length + random.nextInt(3)];
                        byte[] e = a.clone();
                        assertThat(actual.read(a, offset, length)).isEqualTo(expected.read(e, offset, length));
                        assertThat(a).isEqualTo(e);
                    }
                    default -> {
                        long n = random.nextInt(50) - 5;
                        assertThat(actual.skip(n)).isEqualTo(expected.skip(n));
                    }
                }
            }
        }
    }

    @Test
    void aDataInputReadsVarintsAndFailsAtTheEndAsUsual() throws IOException {
        DataInputStream in = new DataInputStream(new BytesIn(new byte[] {1, 2, 3, 4, 5}));
        assertThat(in.readInt()).isEqualTo(0x01020304);
        assertThat(in.readByte()).isEqualTo((byte) 5);
        assertThatThrownBy(in::readByte).isInstanceOf(EOFException.class);
    }

    /**
     * Random reads of every DataInput kind give what a DataInputStream over the same bytes gives, and past the end
     * both throw EOFException.
     */
    @Test
    void readsAsADataInputStreamReads() throws IOException {
        Random random = new Random(2);
        for (int round = 0; round < 300; round++) {
            byte[] bytes = new byte[random.nextInt(120)];
            random.nextBytes(bytes);
            DataInputStream expected = new DataInputStream(new ByteArrayInputStream(bytes));
            BytesIn actual = new BytesIn(bytes);
            boolean ended = false;
            for (int step = 0; step < 40 && !ended; step++) {
                assertThat(actual.available()).isEqualTo(expected.available());
                int kind = random.nextInt(14);
                int length = random.nextInt(12);
                Object want;
                try {
                    want = readOne(expected, kind, length);
                } catch (EOFException e) {
                    assertThatThrownBy(() -> readOne(actual, kind, length)).as("kind %d", kind)
                            .isInstanceOf(EOFException.class);
                    ended = true; // what either holds after a read past the end is not specified
                    continue;
                }
                assertThat(readOne(actual, kind, length)).as("kind %d", kind).isEqualTo(want);
            }
        }
    }

    private static Object readOne(DataInput in, int kind, int length) throws IOException {
        return switch (kind) {
            case 0 -> in.readBoolean();
            case 1 -> in.readByte();
            case 2 -> in.readUnsignedByte();
            case 3 -> in.readShort();
            case 4 -> in.readUnsignedShort();
            case 5 -> in.readChar();
            case 6 -> in.readInt();
            case 7 -> in.readLong();
            case 8 -> Float.floatToRawIntBits(in.readFloat());
            case 9 -> Double.doubleToRawLongBits(in.readDouble());
            case 10 -> {
                byte[] into = new byte[length + 2];
                in.readFully(into, 1, length);
                yield java.util.Arrays.toString(into);
            }
            case 11 -> in.skipBytes(length);
            case 12 -> String.valueOf(in.readLine());
            default -> in instanceof BytesIn b ? b.readUtf8(length) : utf8(in, length);
        };
    }

    private static String utf8(DataInput in, int length) throws IOException {
        byte[] into = new byte[length];
        in.readFully(into);
        return new String(into, StandardCharsets.UTF_8);
    }

    @Test
    void readsUtfAsWrittenByDataOutput() throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(bytes);
        out.writeUTF("add_to_cart ✓ \u0000 𝄞");
        out.writeUTF("");
        BytesIn in = new BytesIn(bytes.toByteArray());
        assertThat(in.readUTF()).isEqualTo("add_to_cart ✓ \u0000 𝄞");
        assertThat(in.readUTF()).isEmpty();
        assertThatThrownBy(in::readUTF).isInstanceOf(EOFException.class);
    }

    @Test
    void aStringLongerThanWhatIsLeftIsRefusedAndNothingIsRead() throws IOException {
        BytesIn in = new BytesIn("héllo".getBytes(StandardCharsets.UTF_8));
        assertThatThrownBy(() -> in.readUtf8(7)).isInstanceOf(EOFException.class)
                .hasMessageContaining("7 bytes with 6 left");
        assertThat(in.readUtf8(6)).isEqualTo("héllo");
        assertThatThrownBy(() -> in.readUtf8(-1)).isInstanceOf(IllegalArgumentException.class);
    }
}
