package io.cohortflow.ingest.mapping;

import com.fasterxml.jackson.databind.JsonNode;
import io.cohortflow.core.event.EventTaxonomy;
import io.cohortflow.core.event.EventType;
import io.cohortflow.core.event.RejectReason;
import io.cohortflow.core.event.UnifiedEvent;
import io.cohortflow.core.identity.IdentityLink;

import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Turns the fields of one call, whatever source described them, into a validated {@link UnifiedEvent}. All
 * validation lives here so that every source, live or backfilled, is held to the same rules:
 * <ul>
 *   <li>a Segment call type, a messageId, and at least one real id (placeholders such as "undefined" are dropped;
 *       ids longer than 256 characters, or with control characters, are refused); an alias names a real
 *       {@code previousId}, a group a {@code groupId};</li>
 *   <li>properties, traits and context are JSON objects;</li>
 *   <li>track calls name an event; names go through the tracking plan, which allows, flags or rejects names it does
 *       not know ({@code unplanned} in conf/taxonomy.yaml);</li>
 *   <li>times parse; event time is skew-corrected like Segment ({@code receivedAt - (sentAt - timestamp)}) and must
 *       lie within the configured tolerances of the receive time;</li>
 *   <li>a userId that is an email address is normalised (trimmed, lower-cased) and replaced by
 *       {@code email_sha256:<hex>}, so raw addresses never become keys.</li>
 * </ul>
 */
public final class EventNormalizer implements Serializable {
    private static final long serialVersionUID = 1L;
    private static final Set<String> PLACEHOLDER_IDS = Set.of("undefined", "null", "nil", "none", "nan", "0",
            "anonymous", "[object object]", "-1");
    static final int MAX_ID_LENGTH = 256;
    static final String EMAIL_KEY_PREFIX = io.cohortflow.core.identity.EmailKeys.PREFIX;
    /** Set in the context of events replayed by a backfill. */
    public static final String BACKFILL_CONTEXT_KEY = "backfill";

    private final EventTaxonomy taxonomy;
    private final long futureToleranceMs;
    private final long pastToleranceMs;

    public EventNormalizer(EventTaxonomy taxonomy, Duration futureTolerance, Duration pastTolerance) {
        this.taxonomy = taxonomy;
        this.futureToleranceMs = futureTolerance.toMillis();
        this.pastToleranceMs = pastTolerance.toMillis();
    }

    MappingOutcome normalize(CallFields call, RawEvent raw, byte[] part) {
        if (call.typeName() == null) {
            return reject(RejectReason.MISSING_TYPE, "no type", part);
        }
        EventType type = EventType.fromWire(call.typeName()).orElse(null);
        if (type == null) {
            return reject(RejectReason.UNKNOWN_TYPE, "type '" + call.typeName() + "' is not a Segment call type", part);
        }
        if (call.messageId() == null) {
            return reject(RejectReason.MISSING_MESSAGE_ID, "no messageId", part);
        }
        if (call.anonymousId() == null && call.userId() == null) {
            return reject(RejectReason.MISSING_ID, "neither anonymousId nor userId", part);
        }
        String anonymousId = realId(call.anonymousId());
        String userId = realId(call.userId());
        for (String id : new String[] {call.anonymousId(), call.userId(), call.messageId(), call.previousId(),
                call.groupId()}) {
            if (id != null && id.length() > MAX_ID_LENGTH) {
                return reject(RejectReason.INVALID_ID, "an id is " + id.length() + " characters long, over "
                        + MAX_ID_LENGTH, part);
            }
            if (id != null && hasControl(id)) {
                return reject(RejectReason.INVALID_ID, "an id contains control characters", part);
            }
        }
        if (anonymousId == null && userId == null) {
            return reject(RejectReason.INVALID_ID, "ids are placeholders, not ids: anonymousId="
                    + call.anonymousId() + ", userId=" + call.userId(), part);
        }
        if (type == EventType.ALIAS && realId(call.previousId()) == null) {
            return reject(RejectReason.MISSING_PREVIOUS_ID, "an alias needs the previousId it folds into the userId",
                    part);
        }
        if (type == EventType.GROUP && call.groupId() == null) {
            return reject(RejectReason.MISSING_GROUP_ID, "a group call needs a groupId", part);
        }
        userId = emailKey(userId);
        for (JsonNode field : new JsonNode[] {call.properties(), call.traits(), call.context()}) {
            if (field != null && !field.isNull() && !field.isObject()) {
                return reject(RejectReason.INVALID_FIELD_TYPE, "properties, traits and context must be objects", part);
            }
        }

        Map<String, Object> context = object(call.context());
        if (context.containsKey(IdentityLink.CONTEXT_KEY)) {
            return reject(RejectReason.RESERVED_FIELD, "context." + IdentityLink.CONTEXT_KEY
                    + " is written by the product only", part);
        }
        String event = null;
        switch (type) {
            case TRACK -> {
                if (call.eventName() == null) {
                    return reject(RejectReason.MISSING_EVENT_NAME, "track call without event", part);
                }
                var canonical = taxonomy.canonical(call.eventName());
                if (canonical.isPresent()) {
                    event = canonical.get();
                } else {
                    switch (taxonomy.unplanned()) {
                        case REJECT -> {
                            return reject(RejectReason.UNPLANNED_EVENT, "event '" + call.eventName()
                                    + "' is not in the tracking plan", part);
                        }
                        case FLAG -> context = with(context, "tracking_plan", "unplanned");
                        case ALLOW -> { }
                    }
                    event = snakeCase(call.eventName());
                }
            }
            case PAGE, SCREEN -> event = "page_view";
            default -> { }
        }
        if (!call.extraContext().isEmpty()) {
            context = new LinkedHashMap<>(context);
            context.putAll(call.extraContext());
        }
        if (raw.replay()) {
            context = with(context, BACKFILL_CONTEXT_KEY, true);
        }

        long receivedAt;
        Long sentAt;
        long timestamp;
        try {
            Long received = epochMillis(call.receivedAt());
            receivedAt = received != null ? received : raw.receivedAt();
            sentAt = epochMillis(call.sentAt());
            Long original = epochMillis(call.timestamp());
            if (original == null) {
                timestamp = receivedAt;
            } else if (sentAt != null) {
                timestamp = receivedAt - (sentAt - original); // device clock skew correction, as Segment does
            } else {
                timestamp = original;
            }
        } catch (DateTimeParseException | ArithmeticException e) {
            return reject(RejectReason.INVALID_TIMESTAMP, "unparsable time: " + e.getMessage(), part);
        }
        // Replayed history (a backfill) is old by nature: only live calls are held to the past tolerance.
        if (timestamp > receivedAt + futureToleranceMs || !raw.replay() && timestamp < receivedAt - pastToleranceMs) {
            return reject(RejectReason.TIMESTAMP_OUT_OF_RANGE, "event time " + Instant.ofEpochMilli(timestamp)
                    + " too far from receive time " + Instant.ofEpochMilli(receivedAt), part);
        }

        Map<String, Object> properties = object(call.properties());
        if (type == EventType.GROUP && !properties.containsKey("groupId")) {
            properties = with(properties, "groupId", call.groupId());
        }
        if ((type == EventType.PAGE || type == EventType.SCREEN) && call.eventName() != null
                && !properties.containsKey("name")) {
            properties = with(properties, "name", call.eventName());
        }
        String resolvedId = userId != null ? userId : anonymousId;
        return new MappingOutcome().accept(new UnifiedEvent(call.messageId(), type, event, anonymousId, userId,
                resolvedId, timestamp, sentAt, receivedAt, raw.source(), call.previousId(), properties,
                object(call.traits()), context));
    }

    private static MappingOutcome reject(RejectReason reason, String detail, byte[] part) {
        return new MappingOutcome().reject(reason, detail, part);
    }

    /** Whether {@code id} has a control character (below 0x20, or DEL), by a loop: a stream of chars showed in JFR. */
    private static boolean hasControl(String id) {
        for (int i = 0; i < id.length(); i++) {
            char c = id.charAt(i);
            if (c < 0x20 || c == 0x7f) {
                return true;
            }
        }
        return false;
    }

    private static String realId(String id) {
        return id == null || PLACEHOLDER_IDS.contains(id.toLowerCase(Locale.ROOT)) ? null : id;
    }

    /** An email address as a key: normalised and hashed; any other id unchanged ({@link io.cohortflow.core.identity.EmailKeys#of}). */
    public static String emailKey(String userId) {
        return io.cohortflow.core.identity.EmailKeys.of(userId);
    }

    /** Epoch millis from an ISO-8601 text (with Z or an offset) or an epoch-millis number; null when absent. */
    static Long epochMillis(JsonNode value) {
        if (value == null || value.isNull()) {
            return null;
        }
        if (value.isNumber()) {
            return value.asLong();
        }
        String text = value.asText().trim();
        if (text.isEmpty()) {
            return null;
        }
        return IsoTimes.epochMillis(text);
    }

    private static Map<String, Object> object(JsonNode node) {
        return node == null || node.isNull() ? Map.of() : PayloadParser.toMap(node);
    }

    private static Map<String, Object> with(Map<String, Object> map, String key, Object value) {
        Map<String, Object> copy = new LinkedHashMap<>(map);
        copy.put(key, value);
        return copy;
    }

    static String snakeCase(String name) {
        return name.trim().replaceAll("([a-z0-9])([A-Z])", "$1_$2").replaceAll("[^A-Za-z0-9]+", "_")
                .toLowerCase(Locale.ROOT);
    }
}
