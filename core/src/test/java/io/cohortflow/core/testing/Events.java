package io.cohortflow.core.testing;

import io.cohortflow.core.event.EventType;
import io.cohortflow.core.event.UnifiedEvent;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * Unified events for tests, shared through core's test-jar: {@code Events.track("anon_1", "add_to_cart", t)
 * .with("category", "Men's Running Shoes").build()}. An id starting with {@code anon} is an anonymous id, any other a
 * user id; either way it is the resolved id. Message ids count up per builder source, so events differ.
 */
public final class Events {
    private static long sequence;

    private final EventType type;
    private final String event;
    private final String user;
    private final long timestamp;
    private final Map<String, Object> properties = new LinkedHashMap<>();
    private final Map<String, Object> traits = new LinkedHashMap<>();
    private String messageId;
    private String source = "web";
    private String device;

    private Events(EventType type, String event, String user, long timestamp) {
        this.type = type;
        this.event = event;
        this.user = user;
        this.timestamp = timestamp;
    }

    /** A track call of canonical event {@code event} by {@code user} at {@code timestamp}. */
    public static Events track(String user, String event, long timestamp) {
        return new Events(EventType.TRACK, event, user, timestamp);
    }

    /**
     * {@code e} with only the properties named (what the training reads of an event: {@code ChurnLabels
     * .PROPERTIES_READ}), everything else as it is.
     */
    public static UnifiedEvent withOnlyProperties(UnifiedEvent e, Set<String> names) {
        Map<String, Object> kept = new LinkedHashMap<>(e.properties());
        kept.keySet().retainAll(names);
        return new UnifiedEvent(e.messageId(), e.type(), e.event(), e.anonymousId(), e.userId(), e.resolvedId(),
                e.timestamp(), e.sentAt(), e.receivedAt(), e.source(), e.previousId(), kept, e.traits(), e.context());
    }

    /** An identify call (no behaviour: no event name). */
    public static Events identify(String user, long timestamp) {
        return new Events(EventType.IDENTIFY, null, user, timestamp);
    }

    public Events with(String property, Object value) {
        properties.put(property, value);
        return this;
    }

    public Events with(Map<String, Object> values) {
        properties.putAll(values);
        return this;
    }

    public Events messageId(String id) {
        this.messageId = id;
        return this;
    }

    /** The device (anonymous id) a known user's call came from: an identify from it links the two. */
    public Events device(String anonymousId) {
        this.device = anonymousId;
        return this;
    }

    /** A trait of the user, as an identify carries it. */
    public Events trait(String name, Object value) {
        traits.put(name, value);
        return this;
    }

    public Events source(String name) {
        this.source = name;
        return this;
    }

    public UnifiedEvent build() {
        boolean anonymous = user.startsWith("anon");
        String id = messageId != null ? messageId : "m" + nextSequence();
        return new UnifiedEvent(id, type, event, anonymous ? user : device, anonymous ? null : user, user, timestamp,
                null, timestamp, source, null, properties, traits, Map.of());
    }

    private static synchronized long nextSequence() {
        return sequence++;
    }
}
