package io.cohortflow.training;

/**
 * One user's row for training: the model features as of a feature time, the outcomes that followed it, and whether
 * it belongs to the holdout (the later cutoff) or to training (the earlier one).
 *
 * @param churned      no qualifying activity within the horizon after the feature time
 * @param boughtBundle an order of two or more items within the bundle window after the feature time
 */
public record TrainingRow(String userId, boolean holdout, long featureTime, double[] features, boolean churned,
                          boolean boughtBundle) {
}
