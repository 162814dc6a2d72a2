package io.cohortflow.core.event;

import java.io.Serializable;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * What a reader of events keeps of an event's maps: the keys of {@code properties}, {@code traits} and
 * {@code context} it reads (each kept with its whole value). A decoder given these leaves out the other entries
 * without building them ({@link UnifiedEventCodec#keeping}), so what the reader never looks at is neither decoded nor
 * carried on: the segmentation job's events cross a shuffle and wait in state. The other fields are always kept.
 *
 * @param properties the property keys kept
 * @param traits     the trait keys kept
 * @param context    the context keys kept
 */
public record EventFields(Set<String> properties, Set<String> traits, Set<String> context) implements Serializable {
    public EventFields {
        properties = Set.copyOf(properties);
        traits = Set.copyOf(traits);
        context = Set.copyOf(context);
    }

    /** {@code event} with only these entries of its maps, in their order. */
    public UnifiedEvent of(UnifiedEvent event) {
        return new UnifiedEvent(event.messageId(), event.type(), event.event(), event.anonymousId(), event.userId(),
                event.resolvedId(), event.timestamp(), event.sentAt(), event.receivedAt(), event.source(),
                event.previousId(), kept(event.properties(), properties), kept(event.traits(), traits),
                kept(event.context(), context));
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
}
