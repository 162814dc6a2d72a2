package io.cohortflow.ingest.mapping;

/**
 * A payload as read from events.raw, before any parsing.
 *
 * @param payload    the bytes as received, possibly broken; null for a record without a value (a tombstone)
 * @param source     the {@code source} header set by the collector (or the backfill's --source), or "unknown"
 * @param receivedAt when the collector received it, epoch ms: the {@code received-at} header when the collector set
 *                   one, else the Kafka record timestamp. Used as receivedAt when the payload carries none.
 * @param replay     whether it is history replayed by a backfill ({@code replay: true} header): old by nature, so
 *                   exempt from the lateness rule
 */
public record RawEvent(byte[] payload, String source, long receivedAt, boolean replay) {
    public RawEvent(byte[] payload, String source, long receivedAt) {
        this(payload, source, receivedAt, false);
    }
}
