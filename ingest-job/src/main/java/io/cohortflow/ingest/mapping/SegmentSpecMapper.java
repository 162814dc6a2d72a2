package io.cohortflow.ingest.mapping;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.cohortflow.core.event.RejectReason;

import java.io.Serializable;
import java.util.Map;

/**
 * Reads Segment-spec calls, as Segment and RudderStack SDKs and HTTP APIs send them: a single call, or a batch
 * envelope {@code {"batch": [call, ...], "sentAt": ..., "context": {...}}} whose {@code sentAt} and {@code context}
 * apply to every call that does not carry its own. Each call of a batch is validated on its own, its size included;
 * a bad one is dead-lettered with its own bytes and the others go on. Ids must be text or whole numbers: an object,
 * an array, a boolean or a fraction is refused, never dropped while the rest of the call goes on.
 */
public final class SegmentSpecMapper implements Serializable {
    private static final long serialVersionUID = 1L;

    /** The fields that hold ids: text, or a whole number written as text ({@link #idText}). */
    public static final java.util.List<String> ID_FIELDS = java.util.List.of("messageId", "anonymousId", "userId",
            "previousId", "groupId");

    private final EventNormalizer normalizer;
    private final int maxEventBytes;

    SegmentSpecMapper(EventNormalizer normalizer, int maxEventBytes) {
        this.normalizer = normalizer;
        this.maxEventBytes = maxEventBytes;
    }

    MappingOutcome map(JsonNode root, RawEvent raw) {
        JsonNode batch = root.get("batch");
        if (batch == null) {
            return call(root, null, raw, null);
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
            if (part.length > maxEventBytes) {
                outcome.reject(RejectReason.OVERSIZED, "a batch entry of " + part.length + " bytes, over the cap of "
                        + maxEventBytes + " for one call", part);
                continue;
            }
            outcome.addAll(call(call, root, raw, part));
        }
        return outcome;
    }

    private MappingOutcome call(JsonNode call, JsonNode envelope, RawEvent raw, byte[] part) {
        for (String field : ID_FIELDS) {
            JsonNode id = call.get(field);
            if (id != null && !id.isNull() && idText(id) == null) {
                return MappingOutcome.rejected(RejectReason.INVALID_ID, field + " must be text or a whole number, got "
                        + (id.isNumber() ? "the fraction " + id.asText() : id.getNodeType().name().toLowerCase(java.util.Locale.ROOT)))
                        .withPart(part);
            }
        }
        return normalizer.normalize(fields(call, envelope), raw, part);
    }

    /**
     * An id as text: a string (trimmed; empty means absent), or a whole number without its ".0"; else null. Backfill's
     * CSV reader writes number cells of id columns with it, so that a file and a live call agree.
     */
    public static String idText(JsonNode id) {
        if (id.isTextual()) {
            return id.asText().trim();
        }
        if (id.isIntegralNumber()) {
            return id.bigIntegerValue().toString();
        }
        if (id.isFloatingPointNumber() && Double.isFinite(id.doubleValue()) && id.doubleValue() == Math.rint(id.doubleValue())
                && Math.abs(id.doubleValue()) < 1e15) {
            return Long.toString((long) id.doubleValue()); // 17850.0, as spreadsheets write customer ids
        }
        return null;
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
        return new CallFields(type, name, id(call, "messageId"), id(call, "anonymousId"), id(call, "userId"),
                id(call, "previousId"), timestamp, sentAt, call.get("receivedAt"), call.get("properties"),
                call.get("traits"), context, Map.of(), id(call, "groupId"));
    }

    private static String id(JsonNode call, String field) {
        JsonNode value = call.get(field);
        String text = value == null || value.isNull() ? null : idText(value);
        return text == null || text.isEmpty() ? null : text;
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
