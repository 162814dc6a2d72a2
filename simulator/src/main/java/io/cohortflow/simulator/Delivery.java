package io.cohortflow.simulator;

/**
 * One payload as the collector hands it to events.raw.
 *
 * @param key         the Kafka key: the sender's anonymous id, else its user id (one device's calls share a
 *                    partition and keep their order); null for malformed payloads
 * @param source      the source it arrived from (web, ios, android, stripe, zendesk, hubspot); the collector puts
 *                    it in the {@code source} header
 * @param payload     the bytes as received
 * @param deliveredAt when the collector received it, simulated epoch ms (deliveries are ordered by it)
 * @param kind        what it is, for counting: "event", "duplicate" or "malformed:KIND"
 */
public record Delivery(String key, String source, byte[] payload, long deliveredAt, String kind) {
    public boolean isMalformed() {
        return kind.startsWith("malformed:");
    }
}
