package io.cohortflow.core.event;

import java.util.Objects;

/**
 * A rejected input on events.dlq: why it was rejected and the original bytes, so it can be fixed and replayed.
 *
 * @param reason        a stable reason code, e.g. {@code INVALID_JSON}, {@code MISSING_ID}
 * @param detail        a human-readable explanation
 * @param source        the source the payload claimed or was read from
 * @param receivedAt    when ingest saw it, epoch ms
 * @param payload       the original payload as text when it was valid UTF-8, else Base64
 * @param payloadBase64 whether {@code payload} is Base64
 */
public record DeadLetter(String reason, String detail, String source, long receivedAt, String payload,
                         boolean payloadBase64) {
    public DeadLetter {
        Objects.requireNonNull(reason, "reason");
        Objects.requireNonNull(detail, "detail");
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(payload, "payload");
    }
}
