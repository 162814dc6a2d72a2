package io.cohortflow.core.identity;

import io.cohortflow.core.event.EventType;
import io.cohortflow.core.event.UnifiedEvent;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Where an identity link sits in events.unified, so that a merge takes effect at the same place in each user's
 * stream on every run, whenever its decision and its state handoff arrive.
 *
 * <p>When ingest links device {@code from} to user {@code to} (an identify, an alias, or any call carrying both ids
 * for the first time), it writes two records to events.unified, each in its key's order:
 * <ul>
 *   <li>the linking event itself, keyed by the user, with {@code context.cohortflow_link = {from, to, linkId}}: the
 *       user folds the device's history in at this point, and holds what follows until it has;</li>
 *   <li>a <b>marker</b>, keyed by the device: an alias record ({@code previousId = from}, {@code userId = to}) with
 *       {@code context.cohortflow_link = {from, to, linkId, marker: true}}, the last record of the device's own key.
 *       Everything the device did before the link is ahead of it.</li>
 * </ul>
 * The link id is the linking event's messageId, which identity.merges carries as the decision's {@code messageId}.
 * Markers are not user actions: the history (Parquet) and the event counts leave them out.
 *
 * @param from   the device (anonymous id, or an alias's previous id)
 * @param to     the known user
 * @param linkId the linking event's messageId
 * @param marker whether this is the device's marker (else the user's linking event)
 */
public record IdentityLink(String from, String to, String linkId, boolean marker) {
    /** The context key; senders may not set it (ingest dead-letters such a call, RESERVED_FIELD). */
    public static final String CONTEXT_KEY = "cohortflow_link";

    public IdentityLink {
        Objects.requireNonNull(from, "from");
        Objects.requireNonNull(to, "to");
        Objects.requireNonNull(linkId, "linkId");
    }

    /** The link an event of events.unified carries, if any. */
    public static Optional<IdentityLink> of(UnifiedEvent event) {
        if (!(event.context().get(CONTEXT_KEY) instanceof Map<?, ?> link)
                || !(link.get("from") instanceof String from) || !(link.get("to") instanceof String to)
                || !(link.get("linkId") instanceof String linkId)) {
            return Optional.empty();
        }
        return Optional.of(new IdentityLink(from, to, linkId, Boolean.TRUE.equals(link.get("marker"))));
    }

    /** Whether {@code event} is a device's marker, not a user action. */
    public static boolean isMarker(UnifiedEvent event) {
        return of(event).map(IdentityLink::marker).orElse(false);
    }

    /** The linking event, annotated: it links device {@code from} to its user. */
    public static UnifiedEvent annotate(UnifiedEvent linking, String from) {
        return linking.withContext(with(linking.context(), new IdentityLink(from, linking.userId(),
                linking.messageId(), false)));
    }

    /** The device's marker for the link {@code linking} makes: keyed by the device, at the linking event's time. */
    public static UnifiedEvent marker(UnifiedEvent linking, String from) {
        IdentityLink link = new IdentityLink(from, linking.userId(), linking.messageId(), true);
        return new UnifiedEvent(linking.messageId() + "#link", EventType.ALIAS, null, from, linking.userId(), from,
                linking.timestamp(), linking.sentAt(), linking.receivedAt(), linking.source(), from, Map.of(),
                Map.of(), with(Map.of(), link));
    }

    /** The event as the sender sent it: without the annotation (the history keeps user actions, not ordering). */
    public static UnifiedEvent strip(UnifiedEvent event) {
        if (!event.context().containsKey(CONTEXT_KEY)) {
            return event;
        }
        Map<String, Object> context = new LinkedHashMap<>(event.context());
        context.remove(CONTEXT_KEY);
        return event.withContext(context);
    }

    private static Map<String, Object> with(Map<String, Object> context, IdentityLink link) {
        Map<String, Object> value = new LinkedHashMap<>();
        value.put("from", link.from());
        value.put("to", link.to());
        value.put("linkId", link.linkId());
        if (link.marker()) {
            value.put("marker", true);
        }
        Map<String, Object> copy = new LinkedHashMap<>(context);
        copy.put(CONTEXT_KEY, value);
        return copy;
    }
}
