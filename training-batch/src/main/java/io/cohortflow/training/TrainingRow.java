package io.cohortflow.training;

/**
 * One user's row for training: the model features as of a feature time, the churn label, and whether it belongs to the
 * holdout (the later cutoff) or to training (the earlier one).
 */
public record TrainingRow(String userId, boolean holdout, long featureTime, double[] features, boolean churned) {
}
