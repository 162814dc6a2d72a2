package io.cohortflow.ingest.mapping;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;

import java.io.Serializable;
import java.time.Instant;
import java.util.Locale;

/**
 * Where one field of a unified event comes from in a source payload. In YAML either a bare path
 * ({@code data.object.amount}) or an object:
 * <pre>
 * {path: data.object.amount, scale: 0.01}      # cents to units
 * {path: created, unit: seconds}               # epoch seconds to a time
 * {path: data.object.currency, case: upper}
 * {const: usd}                                 # a fixed value
 * </pre>
 * Paths are dot-separated field names; a numeric segment indexes an array ({@code items.0.sku}).
 */
public final class ValueSpec implements Serializable {
    private static final long serialVersionUID = 1L;

    private final String path;
    private final String constant;
    private final Double scale;
    private final String unit;
    private final String textCase;

    @JsonCreator
    public ValueSpec(@JsonProperty("path") String path, @JsonProperty("const") String constant,
                     @JsonProperty("scale") Double scale, @JsonProperty("unit") String unit,
                     @JsonProperty("case") String textCase) {
        if ((path == null) == (constant == null)) {
            throw new IllegalArgumentException("a value needs exactly one of path or const");
        }
        if (unit != null && !unit.equals("seconds") && !unit.equals("millis")) {
            throw new IllegalArgumentException("unit must be seconds or millis, got " + unit);
        }
        if (textCase != null && !textCase.equals("upper") && !textCase.equals("lower")) {
            throw new IllegalArgumentException("case must be upper or lower, got " + textCase);
        }
        this.path = path;
        this.constant = constant;
        this.scale = scale;
        this.unit = unit;
        this.textCase = textCase;
    }

    /** A bare path in YAML. */
    @JsonCreator(mode = JsonCreator.Mode.DELEGATING)
    public static ValueSpec ofPath(String path) {
        return new ValueSpec(path, null, null, null, null);
    }

    /** The value in {@code root}, transformed; null when the path is absent. */
    JsonNode extract(JsonNode root) {
        JsonNode value = constant != null ? JsonNodeFactory.instance.textNode(constant) : at(root, path);
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
