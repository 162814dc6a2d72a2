package io.cohortflow.training;

import io.cohortflow.core.feature.FeatureSnapshot;
import io.cohortflow.registry.ModelBundle;
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

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Persona clusters: K-Means on standardised features (the standardiser is part of the model), k-means++ start, fixed
 * seed; k fixed, or chosen over a range by the silhouette. Each cluster's profile (centroid in units and in standard
 * deviations, size) is what {@link PersonaNames} names it from.
 */
public final class PersonaTrainer {
    private static final String[] NAMES = FeatureSnapshot.MODEL_FEATURES.toArray(String[]::new);
    /** The silhouette is quadratic in the rows: it is estimated on a fixed-seed sample of this many. */
    private static final int SILHOUETTE_SAMPLE = 2_000;

    static {
        TribuoLogging.quiet();
    }

    /** A clustering, its quality, and the profile of each cluster. */
    public record Clustering(Model<ClusterID> model, int k, double silhouette, Map<Integer, Double> silhouettesByK,
                             int[] assignments, List<ModelBundle.Persona> profiles) {
    }

    private PersonaTrainer() {
    }

    public static Model<ClusterID> train(List<double[]> rows, int k, long seed) {
        var trainer = new TransformTrainer<>(
                new KMeansTrainer(k, 100, new L2Distance(), KMeansTrainer.Initialisation.PLUSPLUS, 1, seed),
                Standardisation.of(rows), true);
        ClusteringFactory factory = new ClusteringFactory();
        List<org.tribuo.Example<ClusterID>> examples = new ArrayList<>();
        for (double[] row : rows) {
            examples.add(new ArrayExample<>(ClusteringFactory.UNASSIGNED_CLUSTER_ID, NAMES, row));
        }
        return trainer.train(new MutableDataset<>(new ListDataSource<>(examples, factory,
                new SimpleDataSourceProvenance("persona features", factory))));
    }

    /**
     * Clusters {@code rows} with each k in [{@code minK}, {@code maxK}] and keeps the one with the best silhouette
     * (one k when they are equal), then profiles and names the clusters.
     */
    public static Clustering fit(List<double[]> rows, int minK, int maxK, long seed, PersonaNames names) {
        double[][] z = standardise(rows);
        int[] sample = sample(rows.size(), seed);
        Map<Integer, Double> silhouettes = new LinkedHashMap<>();
        Model<ClusterID> best = null;
        int[] bestAssignments = null;
        int bestK = minK;
        for (int k = minK; k <= maxK; k++) {
            Model<ClusterID> model = train(rows, k, seed);
            int[] assignments = rows.stream().mapToInt(r -> cluster(model, r)).toArray();
            double s = silhouette(z, assignments, sample);
            silhouettes.put(k, s);
            if (best == null || s > silhouettes.get(bestK)) {
                best = model;
                bestAssignments = assignments;
                bestK = k;
            }
        }
        List<ModelBundle.Persona> profiles = names.name(profile(rows, z, bestAssignments, bestK));
        return new Clustering(best, bestK, silhouettes.get(bestK), silhouettes, bestAssignments, profiles);
    }

    public static int cluster(Model<ClusterID> model, double[] features) {
        return model.predict(new ArrayExample<>(ClusteringFactory.UNASSIGNED_CLUSTER_ID, NAMES, features))
                .getOutput().getID();
    }

    /** Each cluster's size and mean, in the features' units and in standard deviations (unnamed yet). */
    static List<ModelBundle.Persona> profile(List<double[]> rows, double[][] z, int[] assignments, int k) {
        int d = NAMES.length;
        Map<Integer, double[]> sums = new HashMap<>();
        Map<Integer, double[]> zSums = new HashMap<>();
        Map<Integer, Long> sizes = new HashMap<>();
        for (int i = 0; i < rows.size(); i++) {
            int c = assignments[i];
            double[] sum = sums.computeIfAbsent(c, x -> new double[d]);
            double[] zSum = zSums.computeIfAbsent(c, x -> new double[d]);
            for (int j = 0; j < d; j++) {
                sum[j] += rows.get(i)[j];
                zSum[j] += z[i][j];
            }
            sizes.merge(c, 1L, Long::sum);
        }
        List<ModelBundle.Persona> profiles = new ArrayList<>();
        for (int c : sizes.keySet().stream().sorted().toList()) {
            Map<String, Double> centroid = new LinkedHashMap<>();
            Map<String, Double> zScores = new LinkedHashMap<>();
            for (int j = 0; j < d; j++) {
                centroid.put(NAMES[j], sums.get(c)[j] / sizes.get(c));
                zScores.put(NAMES[j], zSums.get(c)[j] / sizes.get(c));
            }
            profiles.add(new ModelBundle.Persona(c, null, sizes.get(c), centroid, zScores));
        }
        return profiles;
    }

    static double[][] standardise(List<double[]> rows) {
        int d = NAMES.length;
        double[] mean = new double[d];
        double[] sd = new double[d];
        for (double[] row : rows) {
            for (int j = 0; j < d; j++) {
                mean[j] += row[j] / rows.size();
            }
        }
        for (double[] row : rows) {
            for (int j = 0; j < d; j++) {
                sd[j] += (row[j] - mean[j]) * (row[j] - mean[j]) / rows.size();
            }
        }
        double[][] z = new double[rows.size()][d];
        for (int i = 0; i < rows.size(); i++) {
            for (int j = 0; j < d; j++) {
                z[i][j] = sd[j] == 0 ? 0 : (rows.get(i)[j] - mean[j]) / Math.sqrt(sd[j]);
            }
        }
        return z;
    }

    private static int[] sample(int n, long seed) {
        if (n <= SILHOUETTE_SAMPLE) {
            return java.util.stream.IntStream.range(0, n).toArray();
        }
        return new SplittableRandom(seed).ints(0, n).distinct().limit(SILHOUETTE_SAMPLE).sorted().toArray();
    }

    /** Mean silhouette over the sampled rows (Euclidean distance on standardised features). */
    static double silhouette(double[][] z, int[] assignments, int[] sample) {
        double total = 0;
        for (int i : sample) {
            Map<Integer, double[]> byCluster = new HashMap<>(); // cluster -> {distance sum, count}
            for (int j : sample) {
                if (i != j) {
                    double[] acc = byCluster.computeIfAbsent(assignments[j], x -> new double[2]);
                    acc[0] += distance(z[i], z[j]);
                    acc[1]++;
                }
            }
            double[] own = byCluster.get(assignments[i]);
            if (own == null) {
                continue; // a singleton in the sample scores 0
            }
            double a = own[0] / own[1];
            double b = Double.POSITIVE_INFINITY;
            for (var entry : byCluster.entrySet()) {
                if (entry.getKey() != assignments[i]) {
                    b = Math.min(b, entry.getValue()[0] / entry.getValue()[1]);
                }
            }
            total += b == Double.POSITIVE_INFINITY ? 0 : (b - a) / Math.max(a, b);
        }
        return total / sample.length;
    }

    private static double distance(double[] x, double[] y) {
        double s = 0;
        for (int j = 0; j < x.length; j++) {
            s += (x[j] - y[j]) * (x[j] - y[j]);
        }
        return Math.sqrt(s);
    }

    /** Adjusted Rand index of two labelings of the same items (1 = identical partitions, ~0 = chance). */
    public static double adjustedRandIndex(int[] a, int[] b) {
        int n = a.length;
        Map<Long, Long> pairs = new HashMap<>();
        Map<Integer, Long> rows = new HashMap<>();
        Map<Integer, Long> cols = new HashMap<>();
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
