package io.cohortflow.core.event;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HexFormat;

import static org.assertj.core.api.Assertions.assertThat;

class DeadLetterTest {
    @Test
    void aSmallTextPayloadIsKeptWholeAsText() {
        DeadLetter d = DeadLetter.of("INVALID_JSON", "x", "web", 1L, "{\"a\":".getBytes(StandardCharsets.UTF_8), 1024);
        assertThat(d.payload()).isEqualTo("{\"a\":");
        assertThat(d.payloadBase64()).isFalse();
        assertThat(d.payloadTruncated()).isFalse();
        assertThat(d.payloadBytes()).isEqualTo(5);
    }

    @Test
    void aLargePayloadKeepsItsFirstBytesItsSizeAndItsHashNeverInflatedByEscaping() throws Exception {
        // Quotes and control characters: six bytes each once JSON-escaped, if a dead letter carried them as text.
        byte[] huge = new byte[5 * 1024 * 1024];
        Arrays.fill(huge, (byte) 0x01);
        DeadLetter d = DeadLetter.of("OVERSIZED", "too big", "web", 1L, huge, 64 * 1024);
        assertThat(d.payloadTruncated()).isTrue();
        assertThat(d.payloadBase64()).isTrue();
        assertThat(d.payloadBytes()).isEqualTo(huge.length);
        assertThat(d.payloadBytesKept()).hasSize(64 * 1024).isEqualTo(Arrays.copyOf(huge, 64 * 1024));
        assertThat(d.payloadSha256()).isEqualTo(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(huge)));
        assertThat(new DeadLetterCodec().encode(d).length).as("the record on events.dlq").isLessThan(100 * 1024);
    }

    @Test
    void binaryIsBase64AndATombstoneHasNoBytes() {
        byte[] binary = {(byte) 0xff, 0x00, (byte) 0x80};
        DeadLetter d = DeadLetter.of("NOT_UTF8", "x", "web", 1L, binary, 1024);
        assertThat(d.payloadBase64()).isTrue();
        assertThat(d.payloadBytesKept()).isEqualTo(binary);
        DeadLetter tombstone = DeadLetter.of("EMPTY_RECORD", "x", "web", 1L, null, 1024);
        assertThat(tombstone.payloadBytes()).isZero();
        assertThat(tombstone.payload()).isEmpty();
    }
}
