package io.cohortflow.training;

import io.cohortflow.core.event.EventTaxonomy;
import io.cohortflow.core.feature.FeatureConfig;
import io.cohortflow.core.feature.FeatureSnapshot;
import io.cohortflow.core.model.ModelManifest;
import io.cohortflow.core.training.ChurnLabels;
import io.cohortflow.registry.Announcer;
import io.cohortflow.registry.Gate;
import io.cohortflow.registry.ModelBundle;
import io.cohortflow.registry.ModelRegistry;
import org.apache.flink.api.common.RuntimeExecutionMode;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The nightly retraining, as a Flink job in BATCH mode.
 *
 * <p>Reads the Parquet history under {@code --history} (the ingest job's output), keys it by resolved user id, and
 * computes each user's point-in-time rows with core's {@link ChurnLabels} and {@code UserFeatures}, the code the
 * stream runs: features as of T − 2H labelled by (T − 2H, T − H] for training, as of T − H labelled by (T − H, T] for
 * the time-based holdout. The rows come back to the client, which trains the churn and bundle-propensity classifiers
 * (logistic regression, compared with a random forest) and the persona clusters (K-Means, named from their centroids
 * by conf/personas.yaml), evaluates them on the holdout, writes the HTML report, publishes one bundle version to the
 * registry, and promotes it when it passes the gate on {@code churn_auc} (or when {@code --force}); with
 * {@code --bootstrap-servers} a promotion is announced on models.published.
 *
 * Options: {@link TrainingOptions}.
 * Exit code 0 promoted (or published without --promote), 2 refused by the gate, 1 error.
 */
public final class TrainingJob {
    /** The bundle's name in the registry. */
    public static final String MODEL = ModelBundle.NAME;
    public static final String GATE_METRIC = "churn_auc";
    /** A tree ensemble replaces logistic regression only when it adds at least this much holdout AUC. */
    private static final double MIN_AUC_GAIN = 0.005;
    /** How often the client prints how far the features job has read while it waits. */
    private static final Duration PROGRESS_EVERY = Duration.ofSeconds(15);

    /** What a run did. */
    public record Result(ModelManifest manifest, OutcomeTrainer.Metrics churn, OutcomeTrainer.Metrics bundle,
                         PersonaTrainer.Clustering personas, Double ari, ModelRegistry.Promotion promotion,
                         double seconds) {
    }

    private TrainingJob() {
    }

    public static void main(String[] args) throws Exception {
        Result result = run(StreamExecutionEnvironment.getExecutionEnvironment(), TrainingOptions.parse(args), System.out);
        System.exit(result.promotion() != null && !result.promotion().promoted() ? 2 : 0);
    }

    public static Result run(StreamExecutionEnvironment env, TrainingOptions options, PrintStream out) throws Exception {
        String history = options.history();
        ModelRegistry registry = new ModelRegistry(options.registry());
        long cutoff = options.cutoff();
        Duration horizon = options.horizon();
        Duration bundleWindow = options.bundleWindow();
        int minK = options.minClusters();
        int maxK = options.maxClusters();
        long seed = options.seed();
        double threshold = options.threshold();
        PersonaNames personaNames = options.personas() != null ? PersonaNames.load(options.personas())
                : PersonaNames.defaults();
        ChurnLabels labels = new ChurnLabels(horizon, Set.of("page_view", "product_view", "product_search",
                "add_to_cart", "checkout_started", "order_completed", "feature_used"), bundleWindow);
        FeatureConfig features = FeatureConfig.defaults();
        List<String> names = EventTaxonomy.defaults().canonicalNames().stream().sorted().toList();

        long started = System.nanoTime();
        out.printf("[1/5] computing point-in-time features from %s (cutoff %s, horizon %s)%n", history,
                Instant.ofEpochMilli(cutoff), horizon);
        env.setRuntimeMode(RuntimeExecutionMode.BATCH);
        HistoryRows.Rows rows = HistoryRows.compute(env, history, new ExamplesFunction(labels, cutoff, features, names),
                PROGRESS_EVERY, out, started);
        List<TrainingRow> train = rows.train();
        List<TrainingRow> holdout = rows.holdout();
        out.printf("      %,d events read; %,d training rows, %,d holdout rows (%.1f s)%n", rows.events(), train.size(),
                holdout.size(), seconds(started));
        if (train.isEmpty() || holdout.isEmpty()) {
            throw new IllegalStateException("not enough history before " + Instant.ofEpochMilli(cutoff)
                    + " for a horizon of " + horizon + ": " + train.size() + " training and " + holdout.size()
                    + " holdout rows");
        }

        out.println("[2/5] churn: logistic regression vs random forest, evaluated on the later cutoff");
        TrainingReport.Outcome churn = outcome("Churn within " + horizon.toDays() + " days", train, holdout,
                TrainingRow::churned, threshold, seed, out, started);
        out.println("[3/5] bundle propensity: an order of 2+ items within " + bundleWindow.toHours() + " hours");
        TrainingReport.Outcome bundle = outcome("Bundle purchase within " + bundleWindow.toHours() + " hours", train,
                holdout, TrainingRow::boughtBundle, threshold, seed, out, started);

        out.printf("[4/5] clustering personas (K-Means, k=%s, k-means++, seed %d)%n", minK == maxK ? minK
                : minK + ".." + maxK + " by silhouette", seed);
        PersonaTrainer.Clustering personas = PersonaTrainer.fit(holdout.stream().map(TrainingRow::features).toList(),
                minK, maxK, seed, personaNames);
        Double ari = options.groundTruth() != null
                ? GroundTruthAgreement.ari(java.nio.file.Path.of(options.groundTruth()), holdout, personas)
                : null;
        out.printf("      k=%d, silhouette %.3f%s (%.1f s)%n", personas.k(), personas.silhouette(),
                ari == null ? "" : String.format(", ARI against the true personas %.3f", ari), seconds(started));
        for (ModelBundle.Persona p : personas.profiles()) {
            out.printf("      %-32s %,8d users%n", p.name(), p.size());
        }

        out.println("[5/5] publishing to the registry " + registry.root());
        Map<String, Double> metrics = new LinkedHashMap<>(churn.chosen().metrics().asMap("churn_"));
        metrics.putAll(bundle.chosen().metrics().asMap("bundle_"));
        metrics.put("persona_k", (double) personas.k());
        metrics.put("persona_silhouette", personas.silhouette());
        if (ari != null) {
            metrics.put("persona_ari", ari);
        }
        metrics.put("training_rows", (double) train.size());
        ModelManifest draft = new ModelManifest(MODEL, 0, null, FeatureSnapshot.MODEL_FEATURES,
                ModelManifest.schemaHash(FeatureSnapshot.MODEL_FEATURES), metrics,
                Instant.ofEpochMilli(cutoff - 2 * horizon.toMillis() - Duration.ofDays(90).toMillis()).toString(),
                Instant.ofEpochMilli(cutoff).toString(), train.size() + holdout.size(), holdout.size(),
                Map.of("churnModel", churn.chosen().kind().description,
                        "bundleModel", bundle.chosen().kind().description,
                        "personaModel", "K-Means (k-means++, standardised)",
                        "tribuo", org.tribuo.Tribuo.VERSION,
                        "seed", Long.toString(seed), "clusters", Integer.toString(personas.k()),
                        "horizon", horizon.toString(), "bundleWindow", bundleWindow.toString()),
                TrainingJob.class.getPackage().getImplementationVersion() == null ? "dev"
                        : TrainingJob.class.getPackage().getImplementationVersion(),
                Map.of());
        ModelManifest manifest = registry.publish(draft, version -> {
            Map<String, String> run = new LinkedHashMap<>();
            run.put("cutoff T", Instant.ofEpochMilli(cutoff).toString());
            run.put("horizon H", horizon.toString());
            run.put("bundle window", bundleWindow.toString());
            run.put("training rows (features at T - 2H)", Integer.toString(train.size()));
            run.put("holdout rows (features at T - H)", Integer.toString(holdout.size()));
            run.put("trained in", String.format("%.1f s", seconds(started)));
            String report = TrainingReport.html(draft.withVersion(version, Instant.now().toString(), Map.of()),
                    List.of(churn, bundle), personas, ari, run);
            Map<String, byte[]> artifacts = new LinkedHashMap<>();
            artifacts.put(ModelBundle.CHURN, churn.chosen().model().serialize().toByteArray());
            artifacts.put(ModelBundle.BUNDLE_PROPENSITY, bundle.chosen().model().serialize().toByteArray());
            artifacts.put(ModelBundle.PERSONAS, personas.model().serialize().toByteArray());
            artifacts.put(ModelBundle.PERSONA_NAMES, json(personas.profiles()));
            artifacts.put(ModelBundle.REPORT, report.getBytes(StandardCharsets.UTF_8));
            return artifacts;
        });
        out.printf("      published %s v%d; report: %s%n", MODEL, manifest.version(),
                registry.artifactLocation(MODEL, manifest.version(), ModelBundle.REPORT));
        if (options.report() != null) {
            java.nio.file.Path copy = java.nio.file.Path.of(options.report());
            if (copy.getParent() != null) {
                Files.createDirectories(copy.getParent());
            }
            Files.write(copy, registry.artifact(MODEL, manifest.version(), ModelBundle.REPORT));
            out.println("      report copied to " + copy.toAbsolutePath());
        }
        ModelRegistry.Promotion promotion = null;
        if (options.promote()) {
            Gate gate = new Gate(GATE_METRIC, options.floor(), options.maxRegression());
            promotion = registry.promote(MODEL, manifest.version(), gate, options.force(), "nightly training");
            out.println(promotion.promoted() ? "      promoted: " + promotion.reason() : "      REFUSED: " + promotion.reason());
            if (promotion.promoted() && options.bootstrapServers() != null) {
                String topic = options.topic();
                Announcer.announce(options.bootstrapServers(), topic, registry, manifest, promotion.reason());
                out.println("      announced on " + topic);
            }
        }
        double seconds = seconds(started);
        out.printf("training done in %.1f s%n", seconds);
        return new Result(manifest, churn.chosen().metrics(), bundle.chosen().metrics(), personas, ari, promotion,
                seconds);
    }

    private static TrainingReport.Outcome outcome(String title, List<TrainingRow> train, List<TrainingRow> holdout,
                                                  java.util.function.Predicate<TrainingRow> label, double threshold,
                                                  long seed, PrintStream out, long started) {
        long positives = train.stream().filter(label).count();
        if (positives == 0 || positives == train.size()) {
            throw new IllegalStateException(title + ": the training rows have a single outcome (" + positives + " of "
                    + train.size() + " positive); there is nothing to learn");
        }
        List<OutcomeTrainer.Trained> candidates = OutcomeTrainer.compare(train, holdout, label, threshold,
                MIN_AUC_GAIN, seed);
        for (OutcomeTrainer.Trained t : candidates) {
            OutcomeTrainer.Metrics m = t.metrics();
            out.printf("      %-30s AUC %.3f, precision %.3f, recall %.3f at %.2f, Brier %.3f%s%n", t.kind().description,
                    m.auc(), m.precision(), m.recall(), m.threshold(), m.brier(), t == candidates.get(0) ? "  <- chosen" : "");
        }
        out.printf("      (%,d holdout rows, %,d positive; %.1f s)%n", candidates.get(0).metrics().examples(),
                candidates.get(0).metrics().positives(), seconds(started));
        return new TrainingReport.Outcome(title, candidates);
    }

    private static byte[] json(Object value) {
        try {
            return new com.fasterxml.jackson.databind.ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsBytes(value);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static double seconds(long startedNanos) {
        return (System.nanoTime() - startedNanos) / 1e9;
    }
}
