package io.cohortflow.training;

import io.cohortflow.core.feature.FeatureSnapshot;
import org.tribuo.transform.Transformation;
import org.tribuo.transform.TransformationMap;
import org.tribuo.transform.transformations.MeanStdDevTransformation;
import org.tribuo.transform.transformations.SimpleTransform;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The standardiser the models carry: each feature to mean 0 and standard deviation 1. A feature that is constant in
 * the training rows (a short history where everyone was active yesterday, a population nobody in which uses the
 * product's features) has no deviation to divide by; it is centred instead, so it stays 0 for the trainer rather
 * than becoming NaN, and a later user's difference from that constant still reaches the model.
 */
final class Standardisation {
    private Standardisation() {
    }

    static TransformationMap of(List<double[]> rows) {
        List<String> names = FeatureSnapshot.MODEL_FEATURES;
        // Per feature: Tribuo applies global transformations to every feature, named ones included.
        Map<String, List<Transformation>> perFeature = new HashMap<>();
        for (int j = 0; j < names.size(); j++) {
            double first = rows.isEmpty() ? 0 : rows.get(0)[j];
            boolean same = true;
            for (double[] row : rows) {
                if (row[j] != first) {
                    same = false;
                    break;
                }
            }
            perFeature.put(names.get(j), List.of(same ? SimpleTransform.sub(first) : new MeanStdDevTransformation()));
        }
        return new TransformationMap(perFeature);
    }
}
