package io.cohortflow.training;

import io.cohortflow.core.feature.FeatureSnapshot;
import org.tribuo.Model;
import org.tribuo.MutableDataset;
import org.tribuo.Prediction;
import org.tribuo.classification.Label;
import org.tribuo.classification.LabelFactory;
import org.tribuo.classification.evaluation.LabelEvaluation;
import org.tribuo.classification.evaluation.LabelEvaluator;
import org.tribuo.classification.sgd.linear.LogisticRegressionTrainer;
import org.tribuo.datasource.ListDataSource;
import org.tribuo.impl.ArrayExample;
import org.tribuo.provenance.SimpleDataSourceProvenance;
import org.tribuo.transform.TransformTrainer;
import org.tribuo.transform.TransformationMap;
import org.tribuo.transform.transformations.MeanStdDevTransformation;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Trains the churn classifier ({@code seed} is recorded for when a stochastic trainer is used; Tribuo's logistic
 * regression is deterministic for a given data order): logistic regression on the standardised model features (the standardiser is part of
 * the model), and evaluates it on examples of a later cutoff (a time-based holdout).
 */
public final class ChurnTrainer {
    public static final Label CHURNED = new Label("churned");
    public static final Label STAYED = new Label("stayed");
    private static final String[] NAMES = FeatureSnapshot.MODEL_FEATURES.toArray(String[]::new);

    /** Holdout metrics. */
    public record Metrics(double auc, double precision, double recall, int examples, int churners) {
        public Map<String, Double> asMap() {
            return Map.of("auc", auc, "precision", precision, "recall", recall, "holdout_examples", (double) examples,
                    "holdout_churners", (double) churners);
        }
    }

    private ChurnTrainer() {
    }

    public static Model<Label> train(List<TrainingRow> examples, long seed) {
        var trainer = new TransformTrainer<>(new LogisticRegressionTrainer(),
                new TransformationMap(List.of(new MeanStdDevTransformation())), true);
        return trainer.train(dataset(examples, "churn examples"));
    }

    public static Metrics evaluate(Model<Label> model, List<TrainingRow> holdout) {
        MutableDataset<Label> data = dataset(holdout, "churn holdout");
        LabelEvaluation evaluation = new LabelEvaluator().evaluate(model, data);
        int churners = (int) holdout.stream().filter(TrainingRow::churned).count();
        return new Metrics(evaluation.AUCROC(CHURNED), evaluation.precision(CHURNED), evaluation.recall(CHURNED),
                holdout.size(), churners);
    }

    /** The probability of churn the model gives these features. */
    public static double churnProbability(Model<Label> model, double[] features) {
        Prediction<Label> prediction = model.predict(new ArrayExample<>(STAYED, NAMES, features));
        return prediction.getOutputScores().get(CHURNED.getLabel()).getScore();
    }

    static MutableDataset<Label> dataset(List<TrainingRow> examples, String description) {
        LabelFactory factory = new LabelFactory();
        List<org.tribuo.Example<Label>> rows = new ArrayList<>();
        for (TrainingRow e : examples) {
            rows.add(new ArrayExample<>(e.churned() ? CHURNED : STAYED, NAMES, e.features()));
        }
        return new MutableDataset<>(new ListDataSource<>(rows, factory,
                new SimpleDataSourceProvenance(description, factory)));
    }
}
