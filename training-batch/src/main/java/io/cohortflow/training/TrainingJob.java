package io.cohortflow.training;

import io.cohortflow.core.config.CommandLine;
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
import org.apache.flink.util.TimeUtils;

import java.io.PrintStream;
import java.net.URI;
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
 * <pre>
 * --history URI --registry URI [--cutoff ISO-8601 (default now)] [--horizon 14d] [--bundle-window 72h]
 * [--clusters 6 | 4-8 (chosen by silhouette)] [--seed 42] [--threshold 0.5] [--personas FILE]
 * [--ground-truth FILE (a simulation's truth: the report adds the ARI)] [--report FILE (a copy of the report)]
 * [--promote] [--floor 0.75] [--max-regression 0.02] [--force] [--bootstrap-servers HOST:PORT] [--topic models.published]
 * </pre>
 * Exit code 0 promoted (or published without --promote), 2 refused by the gate, 1 error.
 */
public final class TrainingJob {
    public static final String MODEL = "bundle";
    public static final String GATE_METRIC = "churn_auc";
    private static final Set<String> KEYS = Set.of("history", "registry", "cutoff", "horizon", "bundle-window",
            "clusters", "seed", "threshold", "personas", "ground-truth", "report", "promote", "floor", "max-regression",
            "force", "bootstrap-servers", "topic");
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

    /** The options of a command line, refused when one is unknown or a required one is missing. */
    public static Map<String, String> options(String[] args) {
        Map<String, String> options = CommandLine.parse(args, KEYS);
        required(options, "history");
        required(options, "registry");
        return options;
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> options = options(args);
        Result result = run(StreamExecutionEnvironment.getExecutionEnvironment(), options, System.out);
        System.exit(result.promotion() != null && !result.promotion().promoted() ? 2 : 0);
    }

    public static Result run(StreamExecutionEnvironment env, Map<String, String> options, PrintStream out) throws Exception {
        String history = required(options, "history");
        ModelRegistry registry = new ModelRegistry(URI.create(required(options, "registry")));
        long cutoff = options.containsKey("cutoff") ? Instant.parse(options.get("cutoff")).toEpochMilli()
                : System.currentTimeMillis();
        Duration horizon = TimeUtils.parseDuration(options.getOrDefault("horizon", "14d"));
        Duration bundleWindow = TimeUtils.parseDuration(options.getOrDefault("bundle-window", "72h"));
        String[] k = options.getOrDefault("clusters", "6").split("-");
        int minK = Integer.parseInt(k[0].trim());
        int maxK = Integer.parseInt(k[k.length - 1].trim());
        long seed = Long.parseLong(options.getOrDefault("seed", "42"));
        double threshold = Double.parseDouble(options.getOrDefault("threshold", "0.5"));
        PersonaNames personaNames = options.containsKey("personas") ? PersonaNames.load(options.get("personas"))
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
        Double ari = options.containsKey("ground-truth")
                ? GroundTruthAgreement.ari(java.nio.file.Path.of(options.get("ground-truth")), holdout, personas)
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
        if (options.containsKey("report")) {
            java.nio.file.Path copy = java.nio.file.Path.of(options.get("report"));
            if (copy.getParent() != null) {
                Files.createDirectories(copy.getParent());
            }
            Files.write(copy, registry.artifact(MODEL, manifest.version(), ModelBundle.REPORT));
            out.println("      report copied to " + copy.toAbsolutePath());
        }
        ModelRegistry.Promotion promotion = null;
        if (Boolean.parseBoolean(options.getOrDefault("promote", "false"))) {
            Gate gate = new Gate(GATE_METRIC, Double.parseDouble(options.getOrDefault("floor", "0.75")),
                    Double.parseDouble(options.getOrDefault("max-regression", "0.02")));
            promotion = registry.promote(MODEL, manifest.version(), gate,
                    Boolean.parseBoolean(options.getOrDefault("force", "false")), "nightly training");
            out.println(promotion.promoted() ? "      promoted: " + promotion.reason() : "      REFUSED: " + promotion.reason());
            if (promotion.promoted() && options.containsKey("bootstrap-servers")) {
                String topic = options.getOrDefault("topic", Announcer.DEFAULT_TOPIC);
                Announcer.announce(options.get("bootstrap-servers"), topic, registry, manifest, promotion.reason());
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

    private static String required(Map<String, String> options, String key) {
        String value = options.get(key);
        if (value == null) {
            throw new IllegalArgumentException("--" + key + " is required");
        }
        return value;
    }
}
