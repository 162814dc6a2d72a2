package io.cohortflow.core.scoring;

import io.cohortflow.core.feature.FeatureSnapshot;

import java.io.Serializable;
import java.util.Collection;
import java.util.List;

/**
 * The scoring contract: features in, scores out. The segmentation job calls it on every evaluation; the training
 * batch (issue #5) publishes the models behind it. Until a model is published the job uses {@link #NONE}, which
 * scores nothing and says so ({@code model: none}) in every profile.
 */
@FunctionalInterface
public interface Scorer extends Serializable {
    Scorer NONE = None.INSTANCE;

    Scores score(FeatureSnapshot features);

    /** The names of the personas this scorer assigns ({@link Scores#persona()}); none by default. */
    default Collection<String> personas() {
        return List.of();
    }

    /** What profiles and changes say scored them: {@code none}, or a bundle's {@code name@vN}. */
    default String label() {
        return getClass().getSimpleName();
    }

    /** Scores nothing; an enum, so that it is still {@link #NONE} after the job graph is serialized. */
    enum None implements Scorer {
        INSTANCE;

        @Override
        public Scores score(FeatureSnapshot features) {
            return Scores.NONE;
        }

        @Override
        public String label() {
            return Scores.NONE.model();
        }
    }
}
