package io.cohortflow.training;

import io.cohortflow.registry.ModelBundle;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class TrainingReportTest {

    /** A churn model that ranks the holdout worse than recency alone is named as such; one that does not, is not. */
    @Test
    void aChurnModelBelowRecencyAloneIsWarnedAbout() {
        TrainingReport.Outcome churn = outcome(0.760);
        String warning = TrainingReport.belowBaseline(churn, metrics(0.817));
        assertThat(warning).contains("Churn within 14 days", "random forest", "below recency alone",
                "AUC 0.760 against 0.817");

        assertThat(TrainingReport.belowBaseline(outcome(0.817), metrics(0.817))).isNull();
        assertThat(TrainingReport.belowBaseline(outcome(0.9), metrics(0.817))).isNull();
        assertThat(TrainingReport.belowBaseline(churn, null)).isNull();
        assertThat(TrainingReport.belowBaseline(churn, metrics(Double.NaN))).isNull();
        assertThat(TrainingReport.belowBaseline(new TrainingReport.Outcome("Churn within 14 days",
                ModelBundle.CHURN_SCORE, List.of(), "a single outcome"), metrics(0.817))).isNull();
    }

    private static TrainingReport.Outcome outcome(double auc) {
        return new TrainingReport.Outcome("Churn within 14 days", ModelBundle.CHURN_SCORE,
                List.of(new OutcomeTrainer.Trained(OutcomeTrainer.Kind.RANDOM_FOREST, null, metrics(auc))), null);
    }

    private static OutcomeTrainer.Metrics metrics(double auc) {
        return new OutcomeTrainer.Metrics(auc, 0.5, 0.5, 0.5, 0.2, 100, 20, new double[10][3],
                new double[][] {{0, 1}, {0, 1}});
    }
}
