package io.cohortflow.ingest.mapping;

/**
 * A payload as read from events.raw, before any parsing.
 *
 * @param payload        the bytes as received, possibly broken
 * @param source         the {@code source} header set by the collector, or "unknown"
 * @param kafkaTimestamp the record's Kafka timestamp: when the collector wrote it, epoch ms; used as receivedAt
 *                       when the payload has none
 */
public record RawEvent(byte[] payload, String source, long kafkaTimestamp) {
}
