package io.cohortflow.ingest.mapping;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.Map;

/**
 * One call as a source described it, before validation: the fields every mapper extracts. Times are the raw texts
 * (or epoch numbers) as sent; {@link EventNormalizer} parses and checks them.
 *
 * @param typeName    call type as sent (track, identify, ...)
 * @param eventName   event name as sent (track), page/screen name, or null
 * @param timestamp   when it happened, as sent (ISO-8601 text or epoch millis), may be null
 * @param sentAt      device send time as sent, may be null
 * @param receivedAt  collector receive time as sent, may be null (then the Kafka timestamp is used)
 * @param groupId     the group of a group call, or null
 */
record CallFields(String typeName, String eventName, String messageId, String anonymousId, String userId,
                  String previousId, JsonNode timestamp, JsonNode sentAt, JsonNode receivedAt,
                  JsonNode properties, JsonNode traits, JsonNode context, Map<String, Object> extraContext,
                  String groupId) {
}
