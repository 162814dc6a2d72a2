package io.cohortflow.core.event;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Objects;

/**
 * A rejected input on events.dlq: why it was rejected and the original bytes (or, for a large payload, their first
 * bytes, the full size and a SHA-256 to find the original by), so it can be fixed and replayed.
 *
 * <p>A dead letter is bounded, whatever the input: it carries at most {@code maxPayloadBytes} of the payload, as text
 * when the whole payload is valid UTF-8 and within that bound (readable, and JSON escaping inflates it at most six
 * times), else as Base64 of the prefix (four thirds). So a dead letter always fits in a Kafka record, and a huge or
 * hostile input cannot make the dead-letter write itself fail.
 *
 * @param reason           a stable reason code ({@link RejectReason}), e.g. {@code INVALID_JSON}, {@code MISSING_ID}
 * @param detail           a human-readable explanation
 * @param source           the source the payload claimed or was read from
 * @param receivedAt       when ingest saw it, epoch ms
 * @param payload          the payload (or its prefix) as text, or Base64 when {@code payloadBase64}
 * @param payloadBase64    whether {@code payload} is Base64
 * @param payloadBytes     the full size of the original payload
 * @param payloadSha256    SHA-256 of the full original payload, hex
 * @param payloadTruncated whether {@code payload} holds only the first bytes of it
 */
public record DeadLetter(String reason, String detail, String source, long receivedAt, String payload,
                         boolean payloadBase64, long payloadBytes, String payloadSha256, boolean payloadTruncated) {
    /** The most of a payload a dead letter carries by default. */
    public static final int DEFAULT_MAX_PAYLOAD_BYTES = 64 * 1024;
    /** The most a detail text carries: details quote inputs (field names, ids), which can be large too. */
    public static final int MAX_DETAIL_CHARS = 1024;

    public DeadLetter {
        Objects.requireNonNull(reason, "reason");
        Objects.requireNonNull(detail, "detail");
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(payload, "payload");
    }

    /** A bounded dead letter of {@code bytes} (null for a Kafka tombstone: no payload at all). */
    public static DeadLetter of(String reason, String detail, String source, long receivedAt, byte[] bytes,
                                int maxPayloadBytes) {
        byte[] all = bytes == null ? new byte[0] : bytes;
        boolean truncated = all.length > maxPayloadBytes;
        byte[] kept = truncated ? Arrays.copyOf(all, maxPayloadBytes) : all;
        String text = truncated ? null : new String(kept, StandardCharsets.UTF_8);
        // Text only when it is byte-exact (valid UTF-8) and whole; a prefix may end inside a character.
        boolean asText = text != null && Arrays.equals(text.getBytes(StandardCharsets.UTF_8), kept);
        String shortDetail = detail.length() > MAX_DETAIL_CHARS ? detail.substring(0, MAX_DETAIL_CHARS) + "…" : detail;
        String shortSource = source.length() > 256 ? source.substring(0, 256) : source;
        return new DeadLetter(reason, shortDetail, shortSource, receivedAt,
                asText ? text : Base64.getEncoder().encodeToString(kept), !asText, all.length, sha256(all), truncated);
    }

    /** The payload bytes this dead letter carries (all of them unless {@link #payloadTruncated}). */
    public byte[] payloadBytesKept() {
        return payloadBase64 ? Base64.getDecoder().decode(payload) : payload.getBytes(StandardCharsets.UTF_8);
    }

    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JVM", e);
        }
    }
}
