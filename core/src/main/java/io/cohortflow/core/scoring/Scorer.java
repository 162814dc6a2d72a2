package io.cohortflow.core.scoring;

import io.cohortflow.core.feature.FeatureSnapshot;

import java.io.Serializable;

/**
 * The scoring contract: features in, scores out. The segmentation job calls it on every evaluation; the training
 * batch (issue #5) publishes the models behind it. Until a model is published the job uses {@link #NONE}, which
 * scores nothing and says so ({@code model: none}) in every profile.
 */
@FunctionalInterface
public interface Scorer extends Serializable {
    Scorer NONE = features -> Scores.NONE;

    Scores score(FeatureSnapshot features);
}
