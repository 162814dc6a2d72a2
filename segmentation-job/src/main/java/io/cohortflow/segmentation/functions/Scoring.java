package io.cohortflow.segmentation.functions;

import io.cohortflow.core.scoring.Scorer;

import java.io.Serializable;

/**
 * Where the job's scores come from.
 *
 * @param registry  the model registry URI to load the current bundle from at start, or null (then only
 *                  models.published announcements, which name their registry, bring models)
 * @param modelName the bundle's name in the registry (announcements of other names are ignored)
 * @param initial   what scores until a bundle is loaded: {@link Scorer#NONE} in the job; tests may pass their own
 */
public record Scoring(String registry, String modelName, Scorer initial) implements Serializable {
    public static Scoring none() {
        return new Scoring(null, io.cohortflow.registry.ModelBundle.NAME, Scorer.NONE);
    }

    public static Scoring fixed(Scorer scorer) {
        return new Scoring(null, io.cohortflow.registry.ModelBundle.NAME, scorer);
    }
}
