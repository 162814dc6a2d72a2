package io.cohortflow.core.event;

import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * What a reader of events keeps of an event's maps: the keys of {@code properties}, {@code traits} and
 * {@code context} it reads (each kept with its whole value). A decoder given these leaves out the other entries
 * without building them ({@link UnifiedEventCodec#keeping}), so what the reader never looks at is neither decoded nor
 * carried on: the segmentation job's events cross a shuffle and wait in state. The other fields are always kept.
 */
public final class EventFields implements Serializable {
    private static final long serialVersionUID = 1L;

    private final Keys properties;
    private final Keys traits;
    private final Keys context;

    /**
     * @param properties the property keys kept
     * @param traits     the trait keys kept
     * @param context    the context keys kept
     */
    public EventFields(Set<String> properties, Set<String> traits, Set<String> context) {
        this.properties = new Keys(properties);
        this.traits = new Keys(traits);
        this.context = new Keys(context);
    }

    public Set<String> properties() {
        return properties.names;
    }

    public Set<String> traits() {
        return traits.names;
    }

    public Set<String> context() {
        return context.names;
    }

    Keys propertyKeys() {
        return properties;
    }

    Keys traitKeys() {
        return traits;
    }

    Keys contextKeys() {
        return context;
    }

    /** {@code event} with only these entries of its maps, in their order. */
    public UnifiedEvent of(UnifiedEvent event) {
        return new UnifiedEvent(event.messageId(), event.type(), event.event(), event.anonymousId(), event.userId(),
                event.resolvedId(), event.timestamp(), event.sentAt(), event.receivedAt(), event.source(),
                event.previousId(), kept(event.properties(), properties.names), kept(event.traits(), traits.names),
                kept(event.context(), context.names));
    }

    private static Map<String, Object> kept(Map<String, Object> map, Set<String> keys) {
        Map<String, Object> kept = new LinkedHashMap<>();
        map.forEach((key, value) -> {
            if (key != null && keys.contains(key)) { // Set.of's contains refuses null
                kept.put(key, value);
            }
        });
        return kept;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof EventFields other && properties.names.equals(other.properties.names)
                && traits.names.equals(other.traits.names) && context.names.equals(other.context.names);
    }

    @Override
    public int hashCode() {
        return Objects.hash(properties.names, traits.names, context.names);
    }

    @Override
    public String toString() {
        return "EventFields[properties=" + properties.names + ", traits=" + traits.names + ", context="
                + context.names + "]";
    }

    /**
     * One map's keys kept, also as their UTF-8 bytes: a decoder tells a key kept from the bytes in place, and takes
     * this key's string, without making a string of every key it steps over.
     */
    static final class Keys implements Serializable {
        private static final long serialVersionUID = 1L;
        final Set<String> names;
        final String[] strings;
        final byte[][] utf8;

        Keys(Set<String> names) {
            this.names = Set.copyOf(names);
            this.strings = this.names.toArray(String[]::new);
            this.utf8 = new byte[strings.length][];
            for (int i = 0; i < strings.length; i++) {
                utf8[i] = strings[i].getBytes(StandardCharsets.UTF_8);
            }
        }
    }
}
