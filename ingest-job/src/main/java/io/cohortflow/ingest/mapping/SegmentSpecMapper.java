package io.cohortflow.ingest.mapping;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.cohortflow.core.event.RejectReason;

import java.io.Serializable;
import java.util.Map;

/**
 * Reads Segment-spec calls, as Segment and RudderStack SDKs and HTTP APIs send them: a single call, or a batch
 * envelope {@code {"batch": [call, ...], "sentAt": ..., "context": {...}}} whose {@code sentAt} and {@code context}
 * apply to every call that does not carry its own. Each call of a batch is validated on its own; a bad one is
 * dead-lettered with its own bytes and the others go on.
 */
final class SegmentSpecMapper implements Serializable {
    private static final long serialVersionUID = 1L;

    private final EventNormalizer normalizer;

    SegmentSpecMapper(EventNormalizer normalizer) {
        this.normalizer = normalizer;
    }

    MappingOutcome map(JsonNode root, RawEvent raw) {
        JsonNode batch = root.get("batch");
        if (batch == null) {
            return normalizer.normalize(fields(root, null), raw, null);
        }
        if (!batch.isArray() || batch.isEmpty()) {
            return MappingOutcome.rejected(RejectReason.INVALID_BATCH, "batch must be a non-empty array");
        }
        MappingOutcome outcome = new MappingOutcome();
        for (JsonNode call : batch) {
            byte[] part = bytes(call);
            if (!call.isObject()) {
                outcome.reject(RejectReason.NOT_AN_OBJECT, "a batch entry is not a JSON object", part);
                continue;
            }
            outcome.addAll(normalizer.normalize(fields(call, root), raw, part));
        }
        return outcome;
    }

    /** The fields of one call; {@code envelope} supplies sentAt and context the call does not carry itself. */
    private static CallFields fields(JsonNode call, JsonNode envelope) {
        JsonNode sentAt = call.has("sentAt") || envelope == null ? call.get("sentAt") : envelope.get("sentAt");
        JsonNode context = call.get("context");
        if (envelope != null && envelope.get("context") instanceof ObjectNode shared) {
            ObjectNode merged = shared.deepCopy();
            if (context instanceof ObjectNode own) {
                merged.setAll(own);
                context = merged;
            } else if (context == null || context.isNull()) {
                context = merged;
            }
        }
        JsonNode timestamp = call.has("timestamp") ? call.get("timestamp") : call.get("originalTimestamp");
        String type = text(call, "type");
        String name = "track".equalsIgnoreCase(type) ? text(call, "event") : text(call, "name");
        return new CallFields(type, name, text(call, "messageId"), text(call, "anonymousId"), text(call, "userId"),
                text(call, "previousId"), timestamp, sentAt, call.get("receivedAt"), call.get("properties"),
                call.get("traits"), context, Map.of());
    }

    static String text(JsonNode node, String field) {
        JsonNode value = node.get(field);
        if (value == null || value.isNull() || value.isContainerNode()) {
            return null;
        }
        String text = value.asText().trim();
        return text.isEmpty() ? null : text;
    }

    private static byte[] bytes(JsonNode node) {
        try {
            return PayloadParser.JSON.writeValueAsBytes(node);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
