package io.cohortflow.core.segment;

import java.util.Objects;

/**
 * What decided a change: a rule (kind {@code rule}, the segment's rule id) or a model (kind {@code model}, the
 * model id and its registry version).
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
}
