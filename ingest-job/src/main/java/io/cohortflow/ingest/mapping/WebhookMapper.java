package io.cohortflow.ingest.mapping;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.cohortflow.core.event.RejectReason;

import java.io.Serializable;
import java.util.Map;

/** Maps a payload of a configured source through its {@link SourceMapping}. */
final class WebhookMapper implements Serializable {
    private static final long serialVersionUID = 1L;

    private final SourceMapping mapping;
    private final EventNormalizer normalizer;

    WebhookMapper(SourceMapping mapping, EventNormalizer normalizer) {
        this.mapping = mapping;
        this.normalizer = normalizer;
    }

    /** Whether one record of this source holds many rows: an array of records, or an export's grouped rows. */
    boolean manyRows() {
        return mapping.records() != null || mapping.file() != null && mapping.file().group() != null;
    }

    MappingOutcome map(JsonNode root, RawEvent raw) {
        if (mapping.records() == null) {
            return mapCall(root, raw, null);
        }
        JsonNode records = ValueSpec.at(root, mapping.records());
        if (records == null || !records.isArray() || records.isEmpty()) {
            return MappingOutcome.rejected(RejectReason.INVALID_BATCH,
                    mapping.source() + " payload has no '" + mapping.records() + "' array");
        }
        MappingOutcome outcome = new MappingOutcome();
        for (JsonNode record : records) {
            outcome.addAll(mapCall(record, raw, record.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        }
        return outcome;
    }

    private MappingOutcome mapCall(JsonNode call, RawEvent raw, byte[] part) {
        if (!call.isObject()) {
            return new MappingOutcome().reject(RejectReason.NOT_AN_OBJECT, "a record is not a JSON object", part);
        }
        for (SourceMapping.Rule rule : mapping.rules()) {
            if (rule.when() != null && !rule.when().matches(call)) {
                continue;
            }
            if (rule.refuse() != null) {
                return new MappingOutcome().reject(RejectReason.REFUSED, rule.refuse(), part);
            }
            String userId = id(mapping.userId(rule), call);
            if (userId == null) {
                // An email identifies the person when the source has no user id; the normaliser hashes it.
                userId = text(mapping.email(rule), call);
            }
            CallFields fields = new CallFields(rule.type(), rule.event(), id(mapping.messageId(rule), call),
                    id(mapping.anonymousId(rule), call), userId, null, value(mapping.timestamp(rule), call),
                    null, null, object(rule.properties(), call), object(rule.traits(), call), null,
                    Map.of("integration", mapping.source()), null);
            return normalizer.normalize(fields, raw, part);
        }
        return new MappingOutcome().reject(RejectReason.UNMAPPED_PAYLOAD,
                "no rule of the " + mapping.source() + " mapping matches this payload", part);
    }

    private static String text(ValueSpec spec, JsonNode call) {
        return spec == null ? null : spec.text(call);
    }

    private static String id(ValueSpec spec, JsonNode call) {
        return spec == null ? null : spec.id(call);
    }

    private static JsonNode value(ValueSpec spec, JsonNode call) {
        return spec == null ? null : spec.extract(call);
    }

    private static ObjectNode object(Map<String, ValueSpec> specs, JsonNode call) {
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        specs.forEach((name, spec) -> {
            JsonNode v = spec.extract(call);
            if (v != null) {
                out.set(name, v);
            }
        });
        return out;
    }
}
