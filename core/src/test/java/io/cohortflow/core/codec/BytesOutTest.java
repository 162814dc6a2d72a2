package io.cohortflow.core.codec;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.DataOutput;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UTFDataFormatException;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class BytesOutTest {
    private static final String[] TEXTS =
            {"", "add_to_cart", "héllo ✓", "nul \u0000 in it", "clef 𝄞", "ß".repeat(300)};

    /** Random writes of every DataOutput kind give the bytes a DataOutputStream over a ByteArrayOutputStream gives. */
    @Test
    void writesAsADataOutputStreamWrites() throws IOException {
        Random random = new Random(3);
        for (int round = 0; round < 300; round++) {
            ByteArrayOutputStream expectedBytes = new ByteArrayOutputStream();
            DataOutputStream expected = new DataOutputStream(expectedBytes);
            BytesOut actual = new BytesOut(random.nextInt(40)); // small, to grow many times
            for (int step = random.nextInt(60); step > 0; step--) {
                int kind = random.nextInt(14);
                long value = random.nextLong();
                String text = TEXTS[random.nextInt(TEXTS.length)];
                writeOne(expected, kind, value, text);
                writeOne(actual, kind, value, text);
            }
            expected.flush();
            assertThat(actual.toByteArray()).isEqualTo(expectedBytes.toByteArray());
            assertThat(actual.size()).isEqualTo(expectedBytes.size());
        }
    }

    private static void writeOne(DataOutput out, int kind, long value, String text) throws IOException {
        switch (kind) {
            case 0 -> out.writeBoolean((value & 1) == 0);
            case 1 -> out.writeByte((int) value);
            case 2 -> out.writeShort((int) value);
            case 3 -> out.writeChar((int) value);
            case 4 -> out.writeInt((int) value);
            case 5 -> out.writeLong(value);
            case 6 -> out.writeFloat(Float.intBitsToFloat((int) value));
            case 7 -> out.writeDouble(Double.longBitsToDouble(value));
            case 8 -> out.write((int) value);
            case 9 -> {
                byte[] from = new byte[(int) (value & 31) + 3];
                new Random(value).nextBytes(from);
                out.write(from, 1, from.length - 2);
            }
            case 10 -> out.writeBytes(text);
            case 11 -> out.writeChars(text);
            default -> out.writeUTF(text);
        }
    }

    @Test
    void writeUtfReadsBackAndRefusesPast65535BytesWritingNothing() throws IOException {
        BytesOut out = new BytesOut(16);
        out.writeUTF("x".repeat(65_535));
        assertThat(out.size()).isEqualTo(65_537);
        assertThatThrownBy(() -> out.writeUTF("é".repeat(32_768))).isInstanceOf(UTFDataFormatException.class)
                .hasMessageContaining("65536 bytes");
        assertThat(out.size()).isEqualTo(65_537);
        for (String text : TEXTS) {
            out.writeUTF(text);
        }
        BytesIn in = new BytesIn(out.toByteArray());
        assertThat(in.readUTF()).isEqualTo("x".repeat(65_535));
        for (String text : TEXTS) {
            assertThat(in.readUTF()).isEqualTo(text);
        }
        assertThat(in.available()).isZero();
    }
}
