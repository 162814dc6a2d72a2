package io.cohortflow.ingest.mapping;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;

import java.io.Serializable;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * How one non-Segment source (a webhook, a CRM export) maps onto the universal schema: conf/sources/NAME.yaml.
 * Adding a source is adding such a file.
 *
 * <pre>
 * source: stripe                       # matched against the source header (or --source of a backfill)
 * records: events                      # optional: path of an array whose entries are each one call
 * messageId: id                        # defaults for every rule; a rule may override any of them
 * timestamp: {path: created, unit: seconds}
 * userId: data.object.metadata.user_id
 * email: data.object.billing_details.email   # a userId (normalised and hashed) when userId is absent
 * anonymousId: ...
 * rules:                               # the first rule whose `when` matches maps the call
 *   - when: {path: type, equals: charge.succeeded}     # or `in: [a, b]`, or `exists: true`; no when = always
 *     type: track                                      # track or identify
 *     event: Charge Succeeded                          # then through the tracking plan like any name
 *     properties: {amount: {path: data.object.amount, scale: 0.01}}
 *     traits: {...}
 * </pre>
 */
public final class SourceMapping implements Serializable {
    private static final long serialVersionUID = 1L;

    /** A rule's condition on the payload. */
    public record When(String path, String equals, List<String> in, Boolean exists) implements Serializable {
        boolean matches(JsonNode call) {
            JsonNode value = ValueSpec.at(call, path);
            boolean present = value != null && !value.isNull() && !value.isMissingNode();
            if (exists != null) {
                return present == exists;
            }
            if (!present || value.isContainerNode()) {
                return false;
            }
            String text = value.asText();
            return equals != null ? equals.equals(text) : in != null && in.contains(text);
        }
    }

    /** Maps the calls that match {@code when}. */
    public record Rule(When when, String type, String event, ValueSpec messageId, ValueSpec timestamp,
                       ValueSpec userId, ValueSpec email, ValueSpec anonymousId,
                       Map<String, ValueSpec> properties, Map<String, ValueSpec> traits) implements Serializable {
        public Rule {
            Objects.requireNonNull(type, "a rule needs a type");
            properties = properties == null ? Map.of() : new LinkedHashMap<>(properties);
            traits = traits == null ? Map.of() : new LinkedHashMap<>(traits);
        }
    }

    private final String source;
    private final String records;
    private final ValueSpec messageId;
    private final ValueSpec timestamp;
    private final ValueSpec userId;
    private final ValueSpec email;
    private final ValueSpec anonymousId;
    private final List<Rule> rules;

    @JsonCreator
    public SourceMapping(@JsonProperty("source") String source, @JsonProperty("records") String records,
                         @JsonProperty("messageId") ValueSpec messageId, @JsonProperty("timestamp") ValueSpec timestamp,
                         @JsonProperty("userId") ValueSpec userId, @JsonProperty("email") ValueSpec email,
                         @JsonProperty("anonymousId") ValueSpec anonymousId, @JsonProperty("rules") List<Rule> rules) {
        this.source = Objects.requireNonNull(source, "a mapping needs a source");
        if (rules == null || rules.isEmpty()) {
            throw new IllegalArgumentException("mapping of " + source + " has no rules");
        }
        this.records = records;
        this.messageId = messageId;
        this.timestamp = timestamp;
        this.userId = userId;
        this.email = email;
        this.anonymousId = anonymousId;
        this.rules = List.copyOf(rules);
    }

    public String source() {
        return source;
    }

    String records() {
        return records;
    }

    List<Rule> rules() {
        return rules;
    }

    ValueSpec messageId(Rule rule) {
        return rule.messageId() != null ? rule.messageId() : messageId;
    }

    ValueSpec timestamp(Rule rule) {
        return rule.timestamp() != null ? rule.timestamp() : timestamp;
    }

    ValueSpec userId(Rule rule) {
        return rule.userId() != null ? rule.userId() : userId;
    }

    ValueSpec email(Rule rule) {
        return rule.email() != null ? rule.email() : email;
    }

    ValueSpec anonymousId(Rule rule) {
        return rule.anonymousId() != null ? rule.anonymousId() : anonymousId;
    }
}
