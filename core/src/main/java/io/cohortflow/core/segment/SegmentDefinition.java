package io.cohortflow.core.segment;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;

import java.util.Objects;
import java.util.regex.Pattern;

/**
 * A self-serve segment: a stable id, a human name, and a condition in CEL over the user's features and model scores
 * (see {@link SegmentRules} for the variables). Marketers write these in conf/segments.yaml or publish them to
 * segments.definitions; no code changes, no redeploy.
 *
 * @param id          stable id, lower case, digits and underscores; changes and profiles refer to it
 * @param name        human name, shown downstream
 * @param condition   CEL expression that is true while the user is in the segment
 * @param description optional explanation for people
 * @param deleted     a tombstone: remove the segment (its members EXIT)
 */
public record SegmentDefinition(String id, String name, String condition, String description, boolean deleted)
        implements java.io.Serializable {
    private static final Pattern ID = Pattern.compile("[a-z][a-z0-9_]{0,63}");

    @JsonCreator
    public SegmentDefinition(@JsonProperty("id") String id, @JsonProperty("name") String name,
                             @JsonProperty("condition") String condition,
                             @JsonProperty("description") String description,
                             @JsonProperty("deleted") boolean deleted) {
        Objects.requireNonNull(id, "a segment needs an id");
        if (!ID.matcher(id).matches()) {
            throw new IllegalArgumentException("segment id '" + id + "' must be lower case letters, digits and _"
                    + " (at most 64, starting with a letter)");
        }
        if (!deleted) {
            Objects.requireNonNull(name, "segment " + id + " needs a name");
            Objects.requireNonNull(condition, "segment " + id + " needs a condition");
        }
        this.id = id;
        this.name = name == null ? id : name;
        this.condition = condition;
        this.description = description;
        this.deleted = deleted;
    }

    public static SegmentDefinition tombstone(String id) {
        return new SegmentDefinition(id, null, null, null, true);
    }
}
