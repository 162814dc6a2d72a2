package io.cohortflow.ingest.mapping;

/**
 * A payload as read from events.raw (or a backfill file), before any parsing.
 *
 * @param payload    the bytes as received, possibly broken
 * @param source     the {@code source} header set by the collector (or the backfill's --source), or "unknown"
 * @param receivedAt when the collector received it, epoch ms: the {@code received-at} header when the collector set
 *                   one, else the Kafka record timestamp. Used as receivedAt when the payload carries none.
 */
public record RawEvent(byte[] payload, String source, long receivedAt) {
}
