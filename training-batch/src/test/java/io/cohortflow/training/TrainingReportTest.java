package io.cohortflow.training;

import io.cohortflow.core.feature.FeatureSnapshot;
import io.cohortflow.core.model.ModelManifest;
import io.cohortflow.registry.ModelBundle;
import org.junit.jupiter.api.Test;
import org.tribuo.Model;
import org.tribuo.classification.Label;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

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

    /**
     * The report itself carries that warning, among its warnings, when the chosen churn model (a real model, trained
     * here) ranks the holdout below the baseline, and not when it ranks it above.
     */
    @Test
    void theReportWarnsWhenTheChurnModelRanksBelowTheBaseline() {
        List<TrainingRow> rows = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            boolean churned = i % 3 == 0;
            boolean shows = churned && i % 2 == 0; // half the churners look like it: the model ranks, imperfectly
            rows.add(new TrainingRow("u" + i, TrainingRow.Split.TRAIN, 0L, new double[] {i % 11, shows ? 1 : 9 + i % 5,
                    i % 7, 0, 0, 3, i % 2, 0, i % 20, -(i % 3), 0, 0, 0, 0, 0}, churned, false));
        }
        List<double[]> features = rows.stream().map(TrainingRow::features).toList();
        ModelInputs inputs = ModelInputs.of(features);
        Model<Label> model = OutcomeTrainer.train(OutcomeTrainer.Kind.LOGISTIC_REGRESSION, rows, TrainingRow::churned,
                1L, inputs);
        OutcomeTrainer.Metrics metrics = OutcomeTrainer.evaluate(model, rows, TrainingRow::churned, 0.5);
        assertThat(metrics.auc()).as("the model ranks, but not perfectly").isBetween(0.6, 0.99);
        TrainingReport.Outcome churn = new TrainingReport.Outcome("Churn within 14 days", ModelBundle.CHURN_SCORE,
                List.of(new OutcomeTrainer.Trained(OutcomeTrainer.Kind.LOGISTIC_REGRESSION, model, metrics)), null);
        OutcomeTrainer.Metrics perfect = OutcomeTrainer.evaluate(rows, TrainingRow::churned, 0.5,
                row -> row.churned() ? 1 : 0);
        OutcomeTrainer.Metrics backwards = OutcomeTrainer.evaluate(rows, TrainingRow::churned, 0.5,
                row -> row.churned() ? 0 : 1);
        PersonaTrainer.Clustering personas = PersonaTrainer.fit(features, 2, 2, 1L, PersonaNames.defaults(), inputs);
        List<String> schema = FeatureSnapshot.MODEL_FEATURES;
        ModelManifest manifest = new ModelManifest("bundle", 3, "2026-12-06T00:00:00Z", schema,
                ModelManifest.schemaHash(schema), Map.of(), "2026-11-01T00:00:00Z", "2026-12-01T00:00:00Z",
                rows.size(), rows.size(), Map.of(), "test", Map.of());

        String warned = TrainingReport.html(manifest, List.of(churn), perfect, inputs, personas, null, Map.of());
        String warning = TrainingReport.belowBaseline(churn, perfect);
        assertThat(warning).contains(String.format(java.util.Locale.ROOT, "AUC %.3f against 1.000", metrics.auc()));
        assertThat(warned).contains("<div class=\"warn\"><b>Warnings</b><ul>").contains("<li>" + warning + ".</li>");

        String fine = TrainingReport.html(manifest, List.of(churn), backwards, inputs, personas, null, Map.of());
        assertThat(fine).doesNotContain("below recency alone").contains("recency alone (baseline)");
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
