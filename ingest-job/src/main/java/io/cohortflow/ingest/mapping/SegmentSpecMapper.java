package io.cohortflow.ingest.mapping;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.cohortflow.core.event.EventTaxonomy;
import io.cohortflow.core.event.EventType;
import io.cohortflow.core.event.RejectReason;
import io.cohortflow.core.event.UnifiedEvent;

import java.io.Serializable;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.Map;

/**
 * Maps a Segment-spec call (as sent by Segment and RudderStack SDKs) onto the universal schema, or says why it cannot.
 *
 * <p>Event time is corrected for device clock skew the way Segment does it: when {@code sentAt} is present,
 * {@code timestamp = receivedAt - (sentAt - timestamp)}; {@code receivedAt} is the payload's, else the Kafka
 * timestamp. Event names go through the tracking plan; a name it does not know is kept in snake case.
 */
public final class SegmentSpecMapper implements Serializable {
    private static final long serialVersionUID = 1L;
    private static final ObjectMapper JSON = JsonMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();
    private static final TypeReference<Map<String, Object>> MAP = new TypeReference<>() { };

    private final EventTaxonomy taxonomy;
    private final int maxEventBytes;
    private final long futureToleranceMs;
    private final long pastToleranceMs;

    public SegmentSpecMapper(EventTaxonomy taxonomy, int maxEventBytes, Duration futureTolerance, Duration pastTolerance) {
        this.taxonomy = taxonomy;
        this.maxEventBytes = maxEventBytes;
        this.futureToleranceMs = futureTolerance.toMillis();
        this.pastToleranceMs = pastTolerance.toMillis();
    }

    public MappingResult map(RawEvent raw) {
        byte[] bytes = raw.payload();
        if (bytes.length > maxEventBytes) {
            return MappingResult.rejected(RejectReason.OVERSIZED,
                    bytes.length + " bytes, over the cap of " + maxEventBytes);
        }
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            return MappingResult.rejected(RejectReason.NOT_UTF8, "payload is not valid UTF-8: " + e.getMessage());
        }
        JsonNode root;
        try {
            root = JSON.readTree(text);
        } catch (JsonProcessingException e) {
            return MappingResult.rejected(RejectReason.INVALID_JSON, firstLine(e.getOriginalMessage()));
        }
        if (root == null || !root.isObject()) {
            return MappingResult.rejected(RejectReason.NOT_AN_OBJECT,
                    "expected a JSON object, got " + (root == null ? "nothing" : root.getNodeType().name().toLowerCase(Locale.ROOT)));
        }
        return mapCall(root, raw);
    }

    private MappingResult mapCall(JsonNode call, RawEvent raw) {
        String typeName = text(call, "type");
        if (typeName == null) {
            return MappingResult.rejected(RejectReason.MISSING_TYPE, "no type");
        }
        EventType type = EventType.fromWire(typeName).orElse(null);
        if (type == null) {
            return MappingResult.rejected(RejectReason.UNKNOWN_TYPE, "type '" + typeName + "' is not a Segment call type");
        }
        String messageId = text(call, "messageId");
        if (messageId == null) {
            return MappingResult.rejected(RejectReason.MISSING_MESSAGE_ID, "no messageId");
        }
        String anonymousId = text(call, "anonymousId");
        String userId = text(call, "userId");
        if (anonymousId == null && userId == null) {
            return MappingResult.rejected(RejectReason.MISSING_ID, "neither anonymousId nor userId");
        }
        for (String field : new String[] {"properties", "traits", "context"}) {
            JsonNode value = call.get(field);
            if (value != null && !value.isNull() && !value.isObject()) {
                return MappingResult.rejected(RejectReason.INVALID_FIELD_TYPE, field + " must be an object");
            }
        }
        String event = switch (type) {
            case TRACK -> text(call, "event");
            case PAGE, SCREEN -> "page_view";
            default -> null;
        };
        if (type == EventType.TRACK) {
            if (event == null) {
                return MappingResult.rejected(RejectReason.MISSING_EVENT_NAME, "track call without event");
            }
            event = taxonomy.canonical(event).orElse(snakeCase(event));
        }

        long receivedAt;
        Long sentAt;
        long timestamp;
        try {
            Long received = instant(call, "receivedAt");
            receivedAt = received != null ? received : raw.kafkaTimestamp();
            sentAt = instant(call, "sentAt");
            Long sent = instant(call, "timestamp");
            Long original = sent != null ? sent : instant(call, "originalTimestamp");
            if (original == null) {
                timestamp = receivedAt;
            } else if (sentAt != null) {
                timestamp = receivedAt - (sentAt - original); // device clock skew correction
            } else {
                timestamp = original;
            }
        } catch (DateTimeParseException e) {
            return MappingResult.rejected(RejectReason.INVALID_TIMESTAMP, "unparsable time '" + e.getParsedString() + "'");
        }
        if (timestamp > receivedAt + futureToleranceMs || timestamp < receivedAt - pastToleranceMs) {
            return MappingResult.rejected(RejectReason.TIMESTAMP_OUT_OF_RANGE, "event time "
                    + Instant.ofEpochMilli(timestamp) + " too far from receive time " + Instant.ofEpochMilli(receivedAt));
        }

        Map<String, Object> properties = object(call, "properties");
        if (type == EventType.PAGE || type == EventType.SCREEN) {
            String name = text(call, "name");
            if (name != null && !properties.containsKey("name")) {
                properties = new java.util.LinkedHashMap<>(properties);
                properties.put("name", name);
            }
        }
        String resolvedId = userId != null ? userId : anonymousId;
        return MappingResult.accepted(new UnifiedEvent(messageId, type, event, anonymousId, userId, resolvedId,
                timestamp, sentAt, receivedAt, raw.source(), text(call, "previousId"), properties,
                object(call, "traits"), object(call, "context")));
    }

    private static String text(JsonNode node, String field) {
        JsonNode value = node.get(field);
        if (value == null || value.isNull() || value.isContainerNode()) {
            return null;
        }
        String text = value.asText().trim();
        return text.isEmpty() ? null : text;
    }

    private static Long instant(JsonNode node, String field) {
        String value = text(node, field);
        return value == null ? null : Instant.parse(value).toEpochMilli();
    }

    private static Map<String, Object> object(JsonNode node, String field) {
        JsonNode value = node.get(field);
        return value == null || value.isNull() ? Map.of() : JSON.convertValue(value, MAP);
    }

    static String snakeCase(String name) {
        return name.trim().replaceAll("([a-z0-9])([A-Z])", "$1_$2").replaceAll("[^A-Za-z0-9]+", "_")
                .toLowerCase(Locale.ROOT);
    }

    private static String firstLine(String message) {
        int newline = message == null ? -1 : message.indexOf('\n');
        return newline < 0 ? String.valueOf(message) : message.substring(0, newline);
    }
}
