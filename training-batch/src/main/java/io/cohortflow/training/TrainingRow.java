package io.cohortflow.training;

/**
 * One user's row: the model features as of a feature time, the outcomes that followed it, and which set it belongs
 * to.
 *
 * @param churned      no qualifying activity within the horizon after the feature time (false for CURRENT rows,
 *                     whose future is not known yet)
 * @param boughtBundle an order of two or more items within the bundle window after the feature time
 */
public record TrainingRow(String userId, Split split, long featureTime, double[] features, boolean churned,
                          boolean boughtBundle) {
    /** Which cutoff a row is for. */
    public enum Split {
        /** Features as of T − 2H, outcomes from (T − 2H, T − H]: what the models learn from. */
        TRAIN,
        /** Features as of T − H, outcomes from (T − H, T]: what they are evaluated on. */
        HOLDOUT,
        /** Features as of T, outcomes unknown: the population as it is now, scored for the per-user output. */
        CURRENT
    }
}
