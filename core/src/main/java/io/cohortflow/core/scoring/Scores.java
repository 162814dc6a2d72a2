package io.cohortflow.core.scoring;

import java.util.Map;

/**
 * What a model bundle says of one user.
 *
 * @param scores  named scores in [0, 1], e.g. {@code churn}, {@code bundle_propensity}
 * @param persona the persona (cluster) name, or null
 * @param model   which bundle scored, e.g. {@code bundle@v3}; {@code none} when no model is loaded
 */
public record Scores(Map<String, Double> scores, String persona, String model) {
    public static final Scores NONE = new Scores(Map.of(), null, "none");

    public Scores {
        scores = Map.copyOf(scores);
    }
}
