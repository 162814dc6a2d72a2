package io.cohortflow.ingest.mapping;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.Serializable;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Where one field of a unified event comes from in a source payload. In YAML either a bare path
 * ({@code data.object.amount}) or an object:
 * <pre>
 * {path: data.object.amount, scale: 0.01}      # cents to units (a negative scale flips the sign)
 * {path: created, unit: seconds}               # epoch seconds to a time
 * {path: InvoiceDate, format: "M/d/yyyy H:mm", zone: Europe/London}   # a local time in a pattern, in a zone
 * {path: data.object.currency, case: upper}
 * {const: usd}                                 # a fixed value
 * {each: lines, fields: {product_id: StockCode, quantity: Quantity}, limit: 100}   # an array of objects, one per entry
 * {each: lines, sum: [Quantity, UnitPrice]}    # the sum over the entries of Quantity × UnitPrice
 * </pre>
 * Paths are dot-separated field names; a numeric segment indexes an array ({@code items.0.sku}). {@code format} reads
 * a text time with a {@link DateTimeFormatter} pattern in {@code zone} (default UTC) and writes it as an ISO instant;
 * a text it cannot read passes as it is, and ingest dead-letters the call as INVALID_TIMESTAMP with the text in the
 * reason. A {@code sum} entry whose factors are not all numbers is refused the same way: the whole value is absent
 * rather than a wrong total.
 */
public final class ValueSpec implements Serializable {
    private static final long serialVersionUID = 1L;

    private final String path;
    private final String constant;
    private final Double scale;
    private final String unit;
    private final String textCase;
    private final String format;
    private final String zone;
    private final String each;
    private final Map<String, ValueSpec> fields;
    private final List<String> sum;
    private final Integer limit;
    private transient DateTimeFormatter formatter;

    @JsonCreator
    public ValueSpec(@JsonProperty("path") String path, @JsonProperty("const") String constant,
                     @JsonProperty("scale") Double scale, @JsonProperty("unit") String unit,
                     @JsonProperty("case") String textCase, @JsonProperty("format") String format,
                     @JsonProperty("zone") String zone, @JsonProperty("each") String each,
                     @JsonProperty("fields") Map<String, ValueSpec> fields, @JsonProperty("sum") List<String> sum,
                     @JsonProperty("limit") Integer limit) {
        if ((path != null ? 1 : 0) + (constant != null ? 1 : 0) + (each != null ? 1 : 0) != 1) {
            throw new IllegalArgumentException("a value needs exactly one of path, const or each");
        }
        if (each != null && (fields == null) == (sum == null)) {
            throw new IllegalArgumentException("each: " + each + " needs exactly one of fields or sum");
        }
        if (each == null && (fields != null || sum != null || limit != null)) {
            throw new IllegalArgumentException("fields, sum and limit go with each");
        }
        if (limit != null && fields == null) {
            throw new IllegalArgumentException("limit bounds the entries of each ... fields; a sum takes every entry");
        }
        if (sum != null && sum.isEmpty()) {
            throw new IllegalArgumentException("sum needs at least one field");
        }
        if (limit != null && limit < 1) {
            throw new IllegalArgumentException("limit must be at least 1, got " + limit);
        }
        if (unit != null && !unit.equals("seconds") && !unit.equals("millis")) {
            throw new IllegalArgumentException("unit must be seconds or millis, got " + unit);
        }
        if (textCase != null && !textCase.equals("upper") && !textCase.equals("lower")) {
            throw new IllegalArgumentException("case must be upper or lower, got " + textCase);
        }
        if (zone != null && format == null) {
            throw new IllegalArgumentException("zone goes with format");
        }
        this.path = path;
        this.constant = constant;
        this.scale = scale;
        this.unit = unit;
        this.textCase = textCase;
        this.format = format;
        this.zone = zone;
        this.each = each;
        this.fields = fields == null ? null : new LinkedHashMap<>(fields);
        this.sum = sum == null ? null : List.copyOf(sum);
        this.limit = limit;
        if (format != null) {
            this.formatter = formatter(); // a bad pattern or zone fails when the mapping loads, not on the first call
        }
    }

    /** A bare path in YAML. */
    @JsonCreator(mode = JsonCreator.Mode.DELEGATING)
    public static ValueSpec ofPath(String path) {
        return new ValueSpec(path, null, null, null, null, null, null, null, null, null, null);
    }

    /** The value in {@code root}, transformed; null when the path is absent. */
    JsonNode extract(JsonNode root) {
        JsonNode value = constant != null ? JsonNodeFactory.instance.textNode(constant)
                : each != null ? entries(root) : at(root, path);
        if (value == null || value.isNull() || value.isMissingNode()) {
            return null;
        }
        if (scale != null && value.isNumber()) {
            value = JsonNodeFactory.instance.numberNode(value.asDouble() * scale);
        }
        if (unit != null && value.isNumber()) {
            long millis = unit.equals("seconds") ? Math.multiplyExact(value.asLong(), 1000L) : value.asLong();
            value = JsonNodeFactory.instance.textNode(Instant.ofEpochMilli(millis).toString());
        }
        if (format != null && value.isTextual()) {
            value = JsonNodeFactory.instance.textNode(localTime(value.asText()));
        }
        if (textCase != null && value.isTextual()) {
            String text = value.asText();
            value = JsonNodeFactory.instance.textNode(textCase.equals("upper")
                    ? text.toUpperCase(Locale.ROOT) : text.toLowerCase(Locale.ROOT));
        }
        return value;
    }

    /** A text value (numbers rendered as text), or null. */
    String text(JsonNode root) {
        JsonNode value = extract(root);
        if (value == null || value.isContainerNode()) {
            return null;
        }
        String text = value.asText().trim();
        return text.isEmpty() ? null : text;
    }

    /**
     * An id: text as it is, a whole number without a fraction ({@code 17850.0} is {@code 17850}, as spreadsheets
     * write customer ids), the same rule as Segment-spec calls ({@link SegmentSpecMapper#idText}); else null.
     */
    String id(JsonNode root) {
        JsonNode value = extract(root);
        if (value == null || value.isContainerNode()) {
            return null;
        }
        String text = value.isNumber() ? SegmentSpecMapper.idText(value) : value.asText().trim();
        return text == null || text.isEmpty() ? null : text;
    }

    /** {@code each}: an array built from the entries, or their sum; null when the path holds no array. */
    private JsonNode entries(JsonNode root) {
        JsonNode array = at(root, each);
        if (array == null || !array.isArray()) {
            return null;
        }
        if (sum != null) {
            double total = 0;
            for (JsonNode entry : array) {
                double product = 1;
                for (String factor : sum) {
                    JsonNode number = at(entry, factor);
                    if (number == null || !number.isNumber()) {
                        return null; // not a number: no total rather than a wrong one
                    }
                    product *= number.asDouble();
                }
                total += product;
            }
            return JsonNodeFactory.instance.numberNode(total);
        }
        ArrayNode out = JsonNodeFactory.instance.arrayNode();
        for (JsonNode entry : array) {
            if (limit != null && out.size() == limit) {
                break;
            }
            ObjectNode object = out.addObject();
            fields.forEach((name, spec) -> {
                JsonNode v = spec.extract(entry);
                if (v != null) {
                    object.set(name, v);
                }
            });
        }
        return out;
    }

    private String localTime(String text) {
        if (formatter == null) {
            formatter = formatter();
        }
        try {
            return LocalDateTime.parse(text.trim(), formatter)
                    .atZone(zone == null ? ZoneId.of("UTC") : ZoneId.of(zone)).toInstant().toString();
        } catch (DateTimeParseException e) {
            return text; // ingest dead-letters it as INVALID_TIMESTAMP, with the text in the reason
        }
    }

    private DateTimeFormatter formatter() {
        if (zone != null) {
            ZoneId.of(zone);
        }
        return DateTimeFormatter.ofPattern(format, Locale.ROOT);
    }

    static JsonNode at(JsonNode root, String path) {
        JsonNode node = root;
        for (String segment : path.split("\\.")) {
            if (node == null) {
                return null;
            }
            node = node.isArray() && segment.chars().allMatch(Character::isDigit)
                    ? node.get(Integer.parseInt(segment))
                    : node.get(segment);
        }
        return node;
    }
}
