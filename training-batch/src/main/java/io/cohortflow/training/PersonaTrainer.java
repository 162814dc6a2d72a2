package io.cohortflow.training;

import io.cohortflow.core.feature.FeatureSnapshot;
import org.tribuo.Model;
import org.tribuo.MutableDataset;
import org.tribuo.clustering.ClusterID;
import org.tribuo.clustering.ClusteringFactory;
import org.tribuo.clustering.kmeans.KMeansTrainer;
import org.tribuo.datasource.ListDataSource;
import org.tribuo.impl.ArrayExample;
import org.tribuo.math.distance.L2Distance;
import org.tribuo.provenance.SimpleDataSourceProvenance;
import org.tribuo.transform.TransformTrainer;
import org.tribuo.transform.TransformationMap;
import org.tribuo.transform.transformations.MeanStdDevTransformation;

import java.util.ArrayList;
import java.util.List;

/** K-Means on standardised features (the standardiser is part of the model), k-means++ start, fixed seed. */
public final class PersonaTrainer {
    private static final String[] NAMES = FeatureSnapshot.MODEL_FEATURES.toArray(String[]::new);

    private PersonaTrainer() {
    }

    public static Model<ClusterID> train(List<double[]> rows, int k, long seed) {
        var trainer = new TransformTrainer<>(
                new KMeansTrainer(k, 100, new L2Distance(), KMeansTrainer.Initialisation.PLUSPLUS, 1, seed),
                new TransformationMap(List.of(new MeanStdDevTransformation())), true);
        ClusteringFactory factory = new ClusteringFactory();
        List<org.tribuo.Example<ClusterID>> examples = new ArrayList<>();
        for (double[] row : rows) {
            examples.add(new ArrayExample<>(ClusteringFactory.UNASSIGNED_CLUSTER_ID, NAMES, row));
        }
        return trainer.train(new MutableDataset<>(new ListDataSource<>(examples, factory,
                new SimpleDataSourceProvenance("persona features", factory))));
    }

    public static int cluster(Model<ClusterID> model, double[] features) {
        return model.predict(new ArrayExample<>(ClusteringFactory.UNASSIGNED_CLUSTER_ID, NAMES, features))
                .getOutput().getID();
    }

    /** Adjusted Rand index of two labelings of the same items (1 = identical partitions, ~0 = chance). */
    public static double adjustedRandIndex(int[] a, int[] b) {
        int n = a.length;
        java.util.Map<Long, Long> pairs = new java.util.HashMap<>();
        java.util.Map<Integer, Long> rows = new java.util.HashMap<>();
        java.util.Map<Integer, Long> cols = new java.util.HashMap<>();
        for (int i = 0; i < n; i++) {
            pairs.merge(((long) a[i] << 32) | (b[i] & 0xffffffffL), 1L, Long::sum);
            rows.merge(a[i], 1L, Long::sum);
            cols.merge(b[i], 1L, Long::sum);
        }
        double index = pairs.values().stream().mapToDouble(PersonaTrainer::choose2).sum();
        double sumRows = rows.values().stream().mapToDouble(PersonaTrainer::choose2).sum();
        double sumCols = cols.values().stream().mapToDouble(PersonaTrainer::choose2).sum();
        double expected = sumRows * sumCols / choose2(n);
        double max = (sumRows + sumCols) / 2;
        return max == expected ? 1.0 : (index - expected) / (max - expected);
    }

    private static double choose2(long x) {
        return x * (x - 1) / 2.0;
    }
}
