package io.cohortflow.core.codec;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
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
}
