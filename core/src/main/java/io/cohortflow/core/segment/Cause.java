package io.cohortflow.core.segment;

import java.util.Objects;

/**
 * What decided a change: a rule (kind {@code rule}, the segment's rule id), a model (kind {@code model}, the
 * model id and its registry version), an identity merge (kind {@code identity}), or a late event applied as a
 * correction (kind {@code late}, with the rule's or model's id and version).
 *
 * @param kind    {@code rule} or {@code model}
 * @param id      rule or model id
 * @param version model version, or the definition version of a rule; null when unversioned
 */
public record Cause(String kind, String id, String version) {
    public Cause {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(id, "id");
    }

    public static Cause rule(String ruleId, String version) {
        return new Cause("rule", ruleId, version);
    }

    /**
     * The cause of a change made by a late event (one ingest sent to events.late, later than the allowed lateness),
     * applied as a correction: kind {@code late}, with the id and version of what decided it.
     */
    public Cause late() {
        return new Cause("late", id, version);
    }
}
