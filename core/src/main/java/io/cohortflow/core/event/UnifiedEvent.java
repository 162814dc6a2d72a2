package io.cohortflow.core.event;

import io.cohortflow.core.codec.FrozenMap;

import java.util.Map;
import java.util.Objects;

/**
 * One user action in the universal schema, whatever source it came from.
 *
 * <p>Times are epoch milliseconds. {@code timestamp} is the event time, already skew-corrected by ingest.
 * {@code resolvedId} is the id the event is keyed by downstream: the known user id when identity resolution found
 * one, otherwise the anonymous id. Property, trait and context maps hold JSON values (String, Number, Boolean,
 * List, Map, or null) and are unmodifiable.
 *
 * @param messageId  unique id given by the sender; duplicates are dropped by it
 * @param type       the call type
 * @param event      canonical event name (see conf/taxonomy.yaml); {@code page_view} for page/screen calls, null
 *                   for identify/alias/group
 * @param anonymousId device or cookie id, may be null when userId is set
 * @param userId     known user id, may be null when anonymousId is set
 * @param resolvedId the key used downstream, never null
 * @param timestamp  event time, epoch ms
 * @param sentAt     when the client sent it, epoch ms, null when unknown
 * @param receivedAt when the collector received it, epoch ms
 * @param source     the source that delivered it ("web", "ios", "zendesk", ...)
 * @param previousId for alias calls, the id being merged; otherwise null
 */
public record UnifiedEvent(
        String messageId,
        EventType type,
        String event,
        String anonymousId,
        String userId,
        String resolvedId,
        long timestamp,
        Long sentAt,
        long receivedAt,
        String source,
        String previousId,
        Map<String, Object> properties,
        Map<String, Object> traits,
        Map<String, Object> context) {

    public UnifiedEvent {
        Objects.requireNonNull(messageId, "messageId");
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(resolvedId, "resolvedId");
        Objects.requireNonNull(source, "source");
        if (anonymousId == null && userId == null) {
            throw new IllegalArgumentException("an event needs an anonymousId or a userId: " + messageId);
        }
        properties = frozen(properties);
        traits = frozen(traits);
        context = frozen(context);
    }

    /**
     * A user's action as the features see it, without its other ids and times: {@code user} is its user id and resolved
     * id, and it has no anonymous id, sent time, previous id, traits or context, and was received when it happened.
     * The training reads its history this way (its reader and its shuffle leave the rest out: no row reads it).
     */
    public static UnifiedEvent usersAction(String messageId, EventType type, String event, String user, long timestamp,
                                           String source, Map<String, Object> properties) {
        return new UnifiedEvent(messageId, type, event, null, user, user, timestamp, null, timestamp, source, null,
                properties, Map.of(), Map.of());
    }

    /** A copy keyed by another resolved id (identity resolution). */
    public UnifiedEvent withResolvedId(String newResolvedId) {
        return new UnifiedEvent(messageId, type, event, anonymousId, userId, newResolvedId, timestamp, sentAt,
                receivedAt, source, previousId, properties, traits, context);
    }

    /** A copy with another context. */
    public UnifiedEvent withContext(Map<String, Object> newContext) {
        return new UnifiedEvent(messageId, type, event, anonymousId, userId, resolvedId, timestamp, sentAt,
                receivedAt, source, previousId, properties, traits, newContext);
    }

    /** A numeric property, or {@code fallback} when absent or not a number. */
    public double numberProperty(String name, double fallback) {
        Object value = properties.get(name);
        return value instanceof Number n ? n.doubleValue() : fallback;
    }

    /** A string property, or null when absent; numbers and booleans are rendered as text. */
    public String stringProperty(String name) {
        Object value = properties.get(name);
        return value == null || value instanceof Map || value instanceof Iterable ? null : value.toString();
    }

    private static Map<String, Object> frozen(Map<String, Object> map) {
        if (map == null || map.isEmpty()) {
            return Map.of();
        }
        // Not Map.copyOf: JSON values may be null and key order is kept for readable output. A map of an event before
        // (a copy keyed anew, say) is taken as it is.
        return FrozenMap.copyOf(map);
    }
}
