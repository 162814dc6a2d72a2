package io.cohortflow.training;

import io.cohortflow.core.feature.FeatureSnapshot;
import io.cohortflow.registry.ModelBundle;
import org.tribuo.Model;
import org.tribuo.MutableDataset;
import org.tribuo.Trainer;
import org.tribuo.classification.Label;
import org.tribuo.classification.LabelFactory;
import org.tribuo.classification.dtree.CARTClassificationTrainer;
import org.tribuo.classification.ensemble.VotingCombiner;
import org.tribuo.classification.evaluation.LabelEvaluationUtil;
import org.tribuo.classification.sgd.linear.LogisticRegressionTrainer;
import org.tribuo.common.tree.RandomForestTrainer;
import org.tribuo.datasource.ListDataSource;
import org.tribuo.impl.ArrayExample;
import org.tribuo.provenance.SimpleDataSourceProvenance;
import org.tribuo.transform.TransformTrainer;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * Trains and evaluates a binary outcome model (churn, bundle purchase) on the features the run uses
 * ({@link ModelInputs}): logistic regression on log-scaled, standardised features (the scaling is part of the model),
 * and a random forest for comparison. Evaluation is on
 * the time-based holdout: ROC AUC, precision and recall at a threshold, the Brier score and a calibration table.
 */
public final class OutcomeTrainer {
    private static final String[] NAMES = FeatureSnapshot.MODEL_FEATURES.toArray(String[]::new);
    private static final int CALIBRATION_BINS = 10;

    static {
        TribuoLogging.quiet();
    }

    /** The model kinds tried. */
    public enum Kind {
        LOGISTIC_REGRESSION("logistic regression"), RANDOM_FOREST("random forest (50 CART trees)");

        public final String description;

        Kind(String description) {
            this.description = description;
        }
    }

    /**
     * Holdout metrics.
     *
     * @param calibration per bin of predicted probability (tenths): {mean predicted, observed rate, rows}
     * @param roc         {false positive rates, true positive rates}
     */
    public record Metrics(double auc, double precision, double recall, double threshold, double brier, int examples,
                          int positives, double[][] calibration, double[][] roc) {
        /** The figures a manifest records, under {@code prefix}. */
        public Map<String, Double> asMap(String prefix) {
            Map<String, Double> map = new LinkedHashMap<>();
            map.put(prefix + "auc", auc);
            map.put(prefix + "precision", precision);
            map.put(prefix + "recall", recall);
            map.put(prefix + "brier", brier);
            map.put(prefix + "holdout_examples", (double) examples);
            map.put(prefix + "holdout_positives", (double) positives);
            return map;
        }
    }

    /** A trained model and how it did. */
    public record Trained(Kind kind, Model<Label> model, Metrics metrics) {
    }

    private OutcomeTrainer() {
    }

    public static Model<Label> train(Kind kind, List<TrainingRow> rows, Predicate<TrainingRow> outcome, long seed,
                                     ModelInputs inputs) {
        Trainer<Label> trainer = switch (kind) {
            case LOGISTIC_REGRESSION -> new TransformTrainer<>(new LogisticRegressionTrainer(), inputs.transformations(),
                    true);
            // Forests need a feature fraction below 1: half of the features per split.
            case RANDOM_FOREST -> new RandomForestTrainer<>(new CARTClassificationTrainer(8, 0.5f, seed),
                    new VotingCombiner(), 50, seed);
        };
        return trainer.train(dataset(rows, outcome, "training rows", inputs));
    }

    /**
     * Trains every kind, evaluates each on the holdout, and returns them best first: logistic regression stays
     * first unless another kind beats its AUC by more than {@code minGain} (a simpler model is easier to trust).
     */
    public static List<Trained> compare(List<TrainingRow> train, List<TrainingRow> holdout,
                                        Predicate<TrainingRow> outcome, double threshold, double minGain, long seed,
                                        ModelInputs inputs) {
        List<Trained> all = new ArrayList<>();
        for (Kind kind : Kind.values()) {
            Model<Label> model = train(kind, train, outcome, seed, inputs);
            all.add(new Trained(kind, model, evaluate(model, holdout, outcome, threshold)));
        }
        Trained simple = all.get(0);
        all.sort((a, b) -> Double.compare(score(b, simple, minGain), score(a, simple, minGain)));
        return all;
    }

    private static double score(Trained t, Trained simple, double minGain) {
        return t == simple ? t.metrics().auc() + minGain : t.metrics().auc();
    }

    /**
     * The model's metrics on the holdout. Rows are scored as the stream scores them: every model feature by name (the
     * model reads those it knows).
     */
    public static Metrics evaluate(Model<Label> model, List<TrainingRow> holdout, Predicate<TrainingRow> outcome,
                                   double threshold) {
        return evaluate(holdout, outcome, threshold,
                row -> ModelBundle.probability(model, NAMES, row.features()));
    }

    /** The metrics of any score on the holdout, such as recency alone (the baseline a model must beat). */
    public static Metrics evaluate(List<TrainingRow> holdout, Predicate<TrainingRow> outcome, double threshold,
                                   java.util.function.ToDoubleFunction<TrainingRow> score) {
        int n = holdout.size();
        boolean[] actual = new boolean[n];
        double[] predicted = new double[n];
        int tp = 0;
        int fp = 0;
        int positives = 0;
        double brier = 0;
        double[][] bins = new double[CALIBRATION_BINS][3];
        for (int i = 0; i < n; i++) {
            TrainingRow row = holdout.get(i);
            actual[i] = outcome.test(row);
            predicted[i] = score.applyAsDouble(row);
            positives += actual[i] ? 1 : 0;
            if (predicted[i] >= threshold) {
                tp += actual[i] ? 1 : 0;
                fp += actual[i] ? 0 : 1;
            }
            double error = predicted[i] - (actual[i] ? 1 : 0);
            brier += error * error;
            int bin = Math.min(CALIBRATION_BINS - 1, (int) (predicted[i] * CALIBRATION_BINS));
            bins[bin][0] += predicted[i];
            bins[bin][1] += actual[i] ? 1 : 0;
            bins[bin][2]++;
        }
        for (double[] bin : bins) {
            if (bin[2] > 0) {
                bin[0] /= bin[2];
                bin[1] /= bin[2];
            }
        }
        double auc = positives == 0 || positives == n ? Double.NaN : LabelEvaluationUtil.binaryAUCROC(actual, predicted);
        var roc = positives == 0 || positives == n ? null : LabelEvaluationUtil.generateROCCurve(actual, predicted);
        return new Metrics(auc, tp + fp == 0 ? 0 : (double) tp / (tp + fp), positives == 0 ? 0 : (double) tp / positives,
                threshold, n == 0 ? Double.NaN : brier / n, n, positives, bins,
                roc == null ? new double[][] {{0, 1}, {0, 1}} : new double[][] {roc.fpr, roc.tpr});
    }

    static MutableDataset<Label> dataset(List<TrainingRow> rows, Predicate<TrainingRow> outcome, String description,
                                         ModelInputs inputs) {
        LabelFactory factory = new LabelFactory();
        List<org.tribuo.Example<Label>> examples = new ArrayList<>();
        String[] names = inputs.nameArray();
        for (TrainingRow row : rows) {
            examples.add(new ArrayExample<>(outcome.test(row) ? ModelBundle.POSITIVE : ModelBundle.NEGATIVE, names,
                    inputs.select(row.features())));
        }
        return new MutableDataset<>(new ListDataSource<>(examples, factory,
                new SimpleDataSourceProvenance(description, factory)));
    }
}
