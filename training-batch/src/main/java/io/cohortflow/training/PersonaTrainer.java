package io.cohortflow.training;

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
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Persona clusters: K-Means (k-means++ start) on the run's {@link ModelInputs} scale (heavy-tailed features logged,
 * all standardised; the scaling is part of the model). Segments are built on personas, so a clustering must hold
 * still from one night to the next:
 * <ul>
 *   <li>each clustering is the lowest-inertia one of {@value #RESTARTS} k-means++ restarts;</li>
 *   <li>that is done from {@value #SEEDS} independent seeds, and the stability of k is the lowest adjusted Rand
 *       index between their assignments (1 = the same partition every time);</li>
 *   <li>a k that isolates fewer than {@value #MIN_SHARE_PERCENT}% of the users in a cluster is refused (8 whales
 *       against 911 others is not a persona);</li>
 *   <li>over a range of k, the best silhouette among the stable ks (stability at least {@value #STABLE}) wins; when
 *       none is stable, the most stable one, with a warning.</li>
 * </ul>
 * Each cluster's profile (centroid in units and in standard deviations, size) is what {@link PersonaNames} names it
 * from.
 *
 * <p>The clusters can be fitted on a sample of the people ({@link #fit(List, List, int, int, long, PersonaNames,
 * ModelInputs)}): everyone is then assigned by the chosen model, and the profiles are everyone's. The K-Means fits, the
 * silhouette and the stability are the sample's, so their time and memory stop growing with the people.
 */
public final class PersonaTrainer {
    /** The silhouette is quadratic in the rows: it is estimated on a fixed-seed sample of this many. */
    private static final int SILHOUETTE_SAMPLE = 2_000;
    static final int RESTARTS = 4;
    static final int SEEDS = 3;
    static final double STABLE = 0.9;
    static final int MIN_SHARE_PERCENT = 1;

    static {
        TribuoLogging.quiet();
    }

    /** How many rows the model predicts at a time when it assigns everyone. */
    private static final int ASSIGN_CHUNK = 10_000;

    /**
     * A clustering, its quality, and the profile of each cluster.
     *
     * @param stability      the chosen k's lowest ARI between seeds
     * @param byK            every k tried, with its figures
     * @param assignments    everyone's cluster, in the order of the rows assigned
     * @param fitted         how many rows the clusters were fitted on (all of them, or a sample)
     * @param warnings       what a reader of the report should know (no stable k, a refused k)
     */
    public record Clustering(Model<ClusterID> model, int k, double silhouette, double stability, Map<Integer, KFigures> byK,
                             int[] assignments, List<ModelBundle.Persona> profiles, ModelInputs inputs, int fitted,
                             List<String> warnings) {
    }

    /** How one k did: silhouette, stability across seeds, and its smallest cluster's share of users. */
    public record KFigures(double silhouette, double stability, double smallestShare) {
        boolean refused() {
            return smallestShare * 100 < MIN_SHARE_PERCENT;
        }
    }

    private record Fit(Model<ClusterID> model, int[] assignments, double inertia) {
    }

    private PersonaTrainer() {
    }

    private static Model<ClusterID> train(MutableDataset<ClusterID> dataset, int k, long seed, ModelInputs inputs) {
        var trainer = new TransformTrainer<>(
                new KMeansTrainer(k, 100, new L2Distance(), KMeansTrainer.Initialisation.PLUSPLUS, 1, seed),
                inputs.transformations(), true);
        return trainer.train(dataset);
    }

    private static ArrayExample<ClusterID> example(String[] names, ModelInputs inputs, double[] row) {
        return new ArrayExample<>(ClusteringFactory.UNASSIGNED_CLUSTER_ID, names, inputs.select(row));
    }

    /** The rows as clustering examples of the features the run uses: built once for every k, seed and restart. */
    private static MutableDataset<ClusterID> dataset(List<double[]> rows, ModelInputs inputs) {
        ClusteringFactory factory = new ClusteringFactory();
        List<org.tribuo.Example<ClusterID>> examples = new ArrayList<>(rows.size());
        String[] names = inputs.nameArray();
        for (double[] row : rows) {
            examples.add(example(names, inputs, row));
        }
        return new MutableDataset<>(new ListDataSource<>(examples, factory,
                new SimpleDataSourceProvenance("persona features", factory)));
    }

    /**
     * Clusters {@code rows} (full model vectors) with each k in [{@code minK}, {@code maxK}], keeps the k the class
     * comment describes, then profiles and names its clusters.
     */
    public static Clustering fit(List<double[]> rows, int minK, int maxK, long seed, PersonaNames names,
                                 ModelInputs inputs) {
        return fit(rows, rows, minK, maxK, seed, names, inputs);
    }

    /**
     * {@link #fit(List, int, int, long, PersonaNames, ModelInputs)} on {@code sample}, then {@code everyone} assigned by
     * the chosen model and profiled. {@code inputs} are the sample's, as the model's own scaling is.
     */
    public static Clustering fit(List<double[]> sample, List<double[]> everyone, int minK, int maxK, long seed,
                                 PersonaNames names, ModelInputs inputs) {
        double[][] z = sample.stream().map(inputs::standardised).toArray(double[][]::new);
        MutableDataset<ClusterID> dataset = dataset(sample, inputs);
        int[] silhouetteSample = sample(sample.size(), seed);
        Map<Integer, KFigures> byK = new LinkedHashMap<>();
        Map<Integer, Fit> fits = new HashMap<>();
        for (int k = minK; k <= maxK; k++) {
            Fit best = null;
            List<int[]> perSeed = new ArrayList<>();
            for (int s = 0; s < SEEDS; s++) {
                Fit seedBest = null;
                for (int r = 0; r < RESTARTS; r++) {
                    Fit fit = fit(dataset, z, k, seed + 1_000_003L * s + 7919L * r, inputs);
                    if (seedBest == null || fit.inertia() < seedBest.inertia()) {
                        seedBest = fit;
                    }
                }
                perSeed.add(seedBest.assignments());
                if (best == null || seedBest.inertia() < best.inertia()) {
                    best = seedBest;
                }
            }
            double stability = 1;
            for (int a = 0; a < perSeed.size(); a++) {
                for (int b = a + 1; b < perSeed.size(); b++) {
                    stability = Math.min(stability, adjustedRandIndex(perSeed.get(a), perSeed.get(b)));
                }
            }
            byK.put(k, new KFigures(silhouette(z, best.assignments(), silhouetteSample), stability,
                    smallestShare(best.assignments(), k)));
            fits.put(k, best);
        }
        List<String> warnings = new ArrayList<>();
        byK.forEach((k, f) -> {
            if (f.refused()) {
                warnings.add(String.format(java.util.Locale.ROOT, "k=%d refused: its smallest cluster holds %.2f%% of "
                        + "the users (at least %d%% required)", k, 100 * f.smallestShare(), MIN_SHARE_PERCENT));
            }
        });
        int chosen = choose(byK, warnings);
        Fit fit = fits.get(chosen);
        KFigures figures = byK.get(chosen);
        // The rows fitted on were assigned by the same model: only the others are predicted.
        int[] assignments = everyone == sample ? fit.assignments() : assign(fit.model(), everyone, inputs);
        List<ModelBundle.Persona> profiles = names.name(profile(everyone, assignments, inputs));
        return new Clustering(fit.model(), chosen, figures.silhouette(), figures.stability(), byK, assignments,
                profiles, inputs, sample.size(), warnings);
    }

    /** Each row's cluster by {@code model}, predicted a chunk at a time: no dataset of everyone is built. */
    static int[] assign(Model<ClusterID> model, List<double[]> rows, ModelInputs inputs) {
        int[] assignments = new int[rows.size()];
        String[] names = inputs.nameArray();
        List<org.tribuo.Example<ClusterID>> chunk = new ArrayList<>(Math.min(ASSIGN_CHUNK, rows.size()));
        for (int start = 0; start < rows.size(); start += ASSIGN_CHUNK) {
            chunk.clear();
            int end = Math.min(rows.size(), start + ASSIGN_CHUNK);
            for (int i = start; i < end; i++) {
                chunk.add(example(names, inputs, rows.get(i)));
            }
            List<org.tribuo.Prediction<ClusterID>> predictions = model.predict(chunk);
            for (int i = start; i < end; i++) {
                assignments[i] = predictions.get(i - start).getOutput().getID();
            }
        }
        return assignments;
    }

    private static int choose(Map<Integer, KFigures> byK, List<String> warnings) {
        Comparator<Map.Entry<Integer, KFigures>> bySilhouette = Comparator.comparingDouble(e -> e.getValue().silhouette());
        var eligible = byK.entrySet().stream().filter(e -> !e.getValue().refused()).toList();
        if (eligible.isEmpty()) {
            int k = byK.entrySet().stream().max(Comparator.comparingDouble(e -> e.getValue().smallestShare()))
                    .orElseThrow().getKey();
            warnings.add("every k isolates a tiny cluster; k=" + k + " has the largest smallest cluster");
            return k;
        }
        var stable = eligible.stream().filter(e -> e.getValue().stability() >= STABLE).toList();
        if (!stable.isEmpty()) {
            return stable.stream().max(bySilhouette).orElseThrow().getKey();
        }
        var most = eligible.stream().max(Comparator.comparingDouble(e -> e.getValue().stability())).orElseThrow();
        warnings.add(String.format(java.util.Locale.ROOT, "no k is stable across seeds (ARI >= %.1f); k=%d is the most "
                + "stable, at %.3f: segments built on its personas may reshuffle between runs", STABLE, most.getKey(),
                most.getValue().stability()));
        return most.getKey();
    }

    private static Fit fit(MutableDataset<ClusterID> dataset, double[][] z, int k, long seed, ModelInputs inputs) {
        Model<ClusterID> model = train(dataset, k, seed, inputs);
        int[] assignments = model.predict(dataset).stream().mapToInt(p -> p.getOutput().getID()).toArray();
        return new Fit(model, assignments, inertia(z, assignments));
    }

    /** The k-means objective on the model's scale: squared distances to each cluster's mean. */
    static double inertia(double[][] z, int[] assignments) {
        Map<Integer, double[]> sums = new HashMap<>();
        Map<Integer, Integer> sizes = new HashMap<>();
        int d = z.length == 0 ? 0 : z[0].length;
        for (int i = 0; i < z.length; i++) {
            double[] sum = sums.computeIfAbsent(assignments[i], c -> new double[d]);
            for (int j = 0; j < d; j++) {
                sum[j] += z[i][j];
            }
            sizes.merge(assignments[i], 1, Integer::sum);
        }
        double total = 0;
        for (int i = 0; i < z.length; i++) {
            double[] sum = sums.get(assignments[i]);
            int n = sizes.get(assignments[i]);
            for (int j = 0; j < d; j++) {
                double diff = z[i][j] - sum[j] / n;
                total += diff * diff;
            }
        }
        return total;
    }

    private static double smallestShare(int[] assignments, int k) {
        Map<Integer, Integer> sizes = new HashMap<>();
        for (int a : assignments) {
            sizes.merge(a, 1, Integer::sum);
        }
        int smallest = sizes.size() < k ? 0 : sizes.values().stream().mapToInt(Integer::intValue).min().orElse(0);
        return assignments.length == 0 ? 0 : (double) smallest / assignments.length;
    }

    /** Each cluster's size and mean, in the features' units and in standard deviations (unnamed yet). */
    static List<ModelBundle.Persona> profile(List<double[]> rows, int[] assignments, ModelInputs inputs) {
        List<String> names = inputs.names();
        int d = names.size();
        Map<Integer, double[]> sums = new HashMap<>();
        Map<Integer, double[]> zSums = new HashMap<>();
        Map<Integer, Long> sizes = new HashMap<>();
        for (int i = 0; i < rows.size(); i++) {
            int c = assignments[i];
            double[] sum = sums.computeIfAbsent(c, x -> new double[d]);
            double[] zSum = zSums.computeIfAbsent(c, x -> new double[d]);
            double[] used = inputs.select(rows.get(i));
            double[] z = inputs.standardised(rows.get(i));
            for (int j = 0; j < d; j++) {
                sum[j] += used[j];
                zSum[j] += z[j];
            }
            sizes.merge(c, 1L, Long::sum);
        }
        List<ModelBundle.Persona> profiles = new ArrayList<>();
        for (int c : sizes.keySet().stream().sorted().toList()) {
            Map<String, Double> centroid = new LinkedHashMap<>();
            Map<String, Double> zScores = new LinkedHashMap<>();
            for (int j = 0; j < d; j++) {
                centroid.put(names.get(j), sums.get(c)[j] / sizes.get(c));
                zScores.put(names.get(j), zSums.get(c)[j] / sizes.get(c));
            }
            profiles.add(new ModelBundle.Persona(c, null, sizes.get(c), centroid, zScores));
        }
        return profiles;
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
