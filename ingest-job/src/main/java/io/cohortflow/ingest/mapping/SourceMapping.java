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
 *   - when: {path: type, equals: charge.succeeded}     # or `in: [a, b]`, `matches: "C.*"` (a regular expression
 *                                                      # on the whole text), or `exists: true`; no when = always
 *     type: track                                      # track or identify
 *     event: Charge Succeeded                          # then through the tracking plan like any name
 *     properties: {amount: {path: data.object.amount, scale: 0.01}}
 *     traits: {...}
 *   - when: {path: livemode, equals: "false"}
 *     refuse: test-mode payment                        # a row filter: dead-lettered as REFUSED with this reason
 * file:                                # optional: how an export file of this source is read by Backfill
 *   columns: {CustomerID: id, Quantity: long, UnitPrice: double}   # declared types (id, time, long, double,
 *                                                      # boolean, text); a column not declared is typed by its cells
 *   group: {by: InvoiceNo, into: lines}                # consecutive rows with the same InvoiceNo are one record:
 *                                                      # the first row's columns, and every row under `lines`
 * </pre>
 * Ids (messageId, userId, anonymousId) are text, and a whole number written as a decimal ({@code 17850.0}) is the
 * whole number, as in Segment-spec calls.
 */
public final class SourceMapping implements Serializable {
    private static final long serialVersionUID = 1L;

    /** The compiled expressions of {@code matches}, once per expression (a record holds no transient field). */
    private static final java.util.Map<String, java.util.regex.Pattern> PATTERNS =
            new java.util.concurrent.ConcurrentHashMap<>();

    /** A rule's condition on the payload. */
    public record When(String path, String equals, List<String> in, Boolean exists, String matches)
            implements Serializable {
        public When {
            Objects.requireNonNull(path, "a when needs a path");
            if ((equals != null ? 1 : 0) + (in != null ? 1 : 0) + (exists != null ? 1 : 0) + (matches != null ? 1 : 0) != 1) {
                throw new IllegalArgumentException("when on " + path + " needs exactly one of equals, in, exists, matches");
            }
            if (matches != null) {
                java.util.regex.Pattern.compile(matches); // a bad expression fails when the mapping loads
            }
        }

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
            if (matches != null) {
                return PATTERNS.computeIfAbsent(matches, java.util.regex.Pattern::compile).matcher(text).matches();
            }
            return equals != null ? equals.equals(text) : in.contains(text);
        }
    }

    /** Maps the calls that match {@code when}, or refuses them with a reason. */
    public record Rule(When when, String type, String event, ValueSpec messageId, ValueSpec timestamp,
                       ValueSpec userId, ValueSpec email, ValueSpec anonymousId,
                       Map<String, ValueSpec> properties, Map<String, ValueSpec> traits, String refuse)
            implements Serializable {
        public Rule {
            if ((type == null) == (refuse == null)) {
                throw new IllegalArgumentException("a rule needs a type, or refuse with a reason, not both");
            }
            properties = properties == null ? Map.of() : new LinkedHashMap<>(properties);
            traits = traits == null ? Map.of() : new LinkedHashMap<>(traits);
        }
    }

    /** How Backfill reads an export file of this source: declared column types, and rows grouped into records. */
    public record FileLayout(Map<String, String> columns, Group group) implements Serializable {
        /** The column kinds a layout may declare. */
        public static final List<String> KINDS = List.of("id", "time", "long", "double", "boolean", "text");

        public FileLayout {
            columns = columns == null ? Map.of() : new LinkedHashMap<>(columns);
            columns.forEach((column, kind) -> {
                if (!KINDS.contains(kind)) {
                    throw new IllegalArgumentException("column " + column + " is declared " + kind + "; a kind is one of "
                            + KINDS);
                }
            });
        }
    }

    /** Consecutive rows with the same value in column {@code by} are one record; every row goes under {@code into}. */
    public record Group(String by, String into) implements Serializable {
        public Group {
            Objects.requireNonNull(by, "group needs by: the column that names a record");
            into = into == null ? "lines" : into;
        }
    }

    private final String source;
    private final String records;
    private final FileLayout file;
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
                         @JsonProperty("anonymousId") ValueSpec anonymousId, @JsonProperty("rules") List<Rule> rules,
                         @JsonProperty("file") FileLayout file) {
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
        this.file = file;
    }

    /** How an export file of this source is read, or null: typed by its cells, one row a record. */
    public FileLayout file() {
        return file;
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
