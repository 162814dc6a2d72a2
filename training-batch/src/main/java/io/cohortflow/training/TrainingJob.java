package io.cohortflow.training;

import io.cohortflow.core.config.ConfFiles;
import io.cohortflow.core.event.EventTaxonomy;
import io.cohortflow.core.feature.FeatureConfig;
import io.cohortflow.core.feature.FeatureSnapshot;
import io.cohortflow.core.feature.UserFeatures;
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
import java.util.TreeSet;

/**
 * The nightly retraining, as a Flink job in BATCH mode.
 *
 * <p>Reads the Parquet history under {@code --history} (the ingest job's output), keys it by resolved user id, and
 * computes each user's point-in-time rows with core's {@link ChurnLabels} and {@code UserFeatures}, the code the
 * stream runs: features as of T − 2H labelled by (T − 2H, T − H] for training, as of T − H labelled by (T − H, T] for
 * the time-based holdout, and as of T for the population now. Each set is everyone with activity
 * (conf/features.yaml {@code activityEvents}) in the lookback before its time. The rows come back to the client, which
 * picks the features that vary ({@link ModelInputs}), trains the churn and bundle-propensity classifiers (logistic
 * regression, compared with a random forest; a label with a single class skips its model with a warning) and the
 * persona clusters (K-Means, stable across seeds, named from their centroids by conf/personas.yaml), evaluates them
 * on the holdout next to recency alone, writes the HTML report and the per-user scores (Parquet), publishes one bundle
 * version to the registry, and promotes it when it passes the gate on {@code churn_auc} (or when {@code --force});
 * with {@code --bootstrap-servers} a promotion is announced on models.published.
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

    /**
     * What a run did.
     *
     * @param churn    the chosen churn model's holdout metrics, or null when it was skipped
     * @param bundle   the same for bundle propensity
     * @param baseline recency alone as the churn score, on the same holdout
     */
    public record Result(ModelManifest manifest, OutcomeTrainer.Metrics churn, OutcomeTrainer.Metrics bundle,
                         OutcomeTrainer.Metrics baseline, ModelInputs inputs, Population population,
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
        PersonaNames personaNames = PersonaNames.load(options.personas() != null ? options.personas()
                : ConfFiles.defaultLocation("personas.yaml"), options.business());
        FeatureConfig features = featureConfig(options);
        ChurnLabels labels = labels(options, features);
        String activity = String.join(", ", new TreeSet<>(labels.qualifying()));

        long started = System.nanoTime();
        out.printf("[1/5] computing point-in-time features from %s (cutoff %s, horizon %s)%n", history,
                Instant.ofEpochMilli(cutoff), days(horizon));
        env.setRuntimeMode(RuntimeExecutionMode.BATCH);
        PrivacyExclusion privacy = privacy(options);
        if (options.bootstrapServers() == null) {
            out.println("      WARNING no --bootstrap-servers: the privacy requests are not read, nobody is left out");
        } else {
            out.printf("      leaving out the people of %d of the %d privacy requests on %s: %,d ids named, %,d with "
                    + "their email keys and linked devices%n", privacy.applying().size(), privacy.all().size(),
                    options.privacyTopic(), privacy.named(), privacy.ids().size());
        }
        HistoryRows.Rows rows = HistoryRows.compute(env, history, privacy, examples(options, features, labels),
                options.maxRows(), seed, PROGRESS_EVERY, out, started);
        List<TrainingRow> train = rows.train();
        List<TrainingRow> holdout = rows.holdout();
        List<TrainingRow> current = rows.current();
        out.printf("      %,d events read; %,d left out for privacy requests; %,d training rows, %,d holdout rows, "
                + "%,d users now (%.1f s)%n", rows.events(), rows.excluded(), train.size(), holdout.size(),
                current.size(), seconds(started));
        boolean sampled = rows.trainRows() > train.size() || rows.holdoutRows() > holdout.size();
        if (sampled) {
            out.printf("      the models learn from %,d of the %,d training rows and are evaluated on %,d of the %,d "
                    + "holdout rows: a sample of the people (--max-rows %,d)%n", train.size(), rows.trainRows(),
                    holdout.size(), rows.holdoutRows(), options.maxRows());
        }
        if (train.isEmpty() || holdout.isEmpty()) {
            throw new IllegalStateException("not enough history before " + Instant.ofEpochMilli(cutoff)
                    + " for a horizon of " + days(horizon) + ": " + train.size() + " training and " + holdout.size()
                    + " holdout rows");
        }
        Population population = new Population(train, holdout, current);
        out.printf("      population: everyone with %s in the %s before each feature time; churn rate %.1f%% in "
                + "training, %.1f%% in the holdout%n", activity, days(options.lookback()),
                100 * population.trainChurnRate(), 100 * population.holdoutChurnRate());
        ModelInputs inputs = ModelInputs.of(train.stream().map(TrainingRow::features).toList());
        if (!inputs.dropped().isEmpty()) {
            out.println("      WARNING constant in the training rows, not used: " + String.join(", ", inputs.dropped()));
        }
        if (inputs.names().isEmpty()) {
            throw new IllegalStateException("every model feature is constant in the training rows: nothing to learn from");
        }

        out.println("[2/5] churn: logistic regression vs random forest, evaluated on the later cutoff");
        int recency = FeatureSnapshot.MODEL_FEATURES.indexOf("recency");
        OutcomeTrainer.Metrics baseline = OutcomeTrainer.evaluate(holdout, TrainingRow::churned, threshold,
                r -> r.features()[recency]);
        TrainingReport.Outcome churn = outcome("Churn within " + days(horizon), ModelBundle.CHURN_SCORE, train,
                holdout, TrainingRow::churned, threshold, seed, inputs, out, started);
        out.printf("      recency alone: AUC %.3f%n", baseline.auc());
        String belowBaseline = TrainingReport.belowBaseline(churn, baseline);
        if (belowBaseline != null) {
            out.println("      WARNING " + belowBaseline);
        }
        out.println("[3/5] bundle propensity: an order of 2+ items within " + bundleWindow.toHours() + " hours");
        TrainingReport.Outcome bundle = outcome("Bundle purchase within " + bundleWindow.toHours() + " hours",
                ModelBundle.BUNDLE_SCORE, train, holdout, TrainingRow::boughtBundle, threshold, seed, inputs, out,
                started);

        List<TrainingRow> clustered = current.isEmpty() ? holdout : current;
        List<double[]> clusterRows = clustered.stream().map(TrainingRow::features).toList();
        // Fitted on at most --max-rows people (the sample's own scaling, as the model's), then everyone is assigned.
        List<double[]> fitRows = clustered.size() <= options.maxRows() ? clusterRows
                : RowSample.of(clustered, options.maxRows(), seed).stream().map(TrainingRow::features).toList();
        ModelInputs clusterInputs = ModelInputs.forPersonas(fitRows);
        out.printf("[4/5] clustering personas (K-Means, k=%s, %d k-means++ restarts x %d seeds, %s vocabulary)%n",
                minK == maxK ? minK : minK + ".." + maxK + " by silhouette and stability", PersonaTrainer.RESTARTS,
                PersonaTrainer.SEEDS, personaNames.business());
        if (fitRows != clusterRows) {
            out.printf("      fitted on %,d of the %,d people, a sample (--max-rows %,d); then everyone is assigned%n",
                    fitRows.size(), clusterRows.size(), options.maxRows());
        }
        PersonaTrainer.Clustering personas = PersonaTrainer.fit(fitRows, clusterRows, minK, maxK, seed, personaNames,
                clusterInputs);
        Double ari = options.groundTruth() != null
                ? GroundTruthAgreement.ari(java.nio.file.Path.of(options.groundTruth()), clustered, personas)
                : null;
        out.printf("      k=%d, silhouette %.3f, stability across seeds (lowest ARI) %.3f%s (%.1f s)%n", personas.k(),
                personas.silhouette(), personas.stability(),
                ari == null ? "" : String.format(", ARI against the true personas %.3f", ari), seconds(started));
        personas.warnings().forEach(w -> out.println("      WARNING " + w));
        for (ModelBundle.Persona p : personas.profiles()) {
            out.printf("      %-32s %,8d users%n", p.name(), p.size());
        }

        out.println("[5/5] publishing to the registry " + registry.root());
        Map<String, Double> metrics = new LinkedHashMap<>();
        churn.trained().ifPresent(t -> metrics.putAll(t.metrics().asMap("churn_")));
        metrics.put("churn_auc_recency_baseline", baseline.auc());
        bundle.trained().ifPresent(t -> metrics.putAll(t.metrics().asMap("bundle_")));
        metrics.put("persona_k", (double) personas.k());
        metrics.put("persona_silhouette", personas.silhouette());
        metrics.put("persona_stability_ari", personas.stability());
        if (ari != null) {
            metrics.put("persona_ari", ari);
        }
        metrics.put("training_rows", (double) train.size());
        metrics.put("population_holdout", (double) holdout.size());
        // Before --max-rows' sample: the same as the two above unless there were more.
        metrics.put("training_rows_all", (double) rows.trainRows());
        metrics.put("population_holdout_all", (double) rows.holdoutRows());
        metrics.put("population_now", (double) current.size());
        metrics.put("persona_fit_rows", (double) personas.fitted());
        metrics.put("churn_rate_train", population.trainChurnRate());
        metrics.put("churn_rate_holdout", population.holdoutChurnRate());
        // How many people the privacy requests took out of this training, and how many of their rows.
        metrics.put("privacy_ids_excluded", (double) privacy.named());
        metrics.put("privacy_ids_erased_before", (double) privacy.erasedBefore());
        metrics.put("privacy_rows_excluded", (double) rows.excluded());
        Map<String, String> provenance = new LinkedHashMap<>();
        provenance.put("churnModel", churn.trained().map(t -> t.kind().description).orElse("skipped"));
        provenance.put("bundleModel", bundle.trained().map(t -> t.kind().description).orElse("skipped"));
        provenance.put("personaModel", "K-Means (k-means++, the lowest inertia of " + PersonaTrainer.RESTARTS
                + " restarts x " + PersonaTrainer.SEEDS + " seeds, log-scaled and standardised)");
        provenance.put("tribuo", org.tribuo.Tribuo.VERSION);
        provenance.put("seed", Long.toString(seed));
        provenance.put("clusters", Integer.toString(personas.k()));
        provenance.put("horizon", days(horizon));
        provenance.put("bundleWindow", bundleWindow.toHours() + " hours");
        provenance.put("lookback", days(options.lookback()));
        provenance.put("activity", activity);
        provenance.put("business", personaNames.business());
        provenance.put("featuresUsed", String.join(",", inputs.names()));
        provenance.put("featuresDropped", String.join(",", inputs.dropped()));
        provenance.put("personaFeaturesUsed", String.join(",", clusterInputs.names()));
        String skipped = java.util.stream.Stream.of(churn, bundle).filter(o -> o.skipped() != null)
                .map(o -> o.score() + ": " + o.skipped()).collect(java.util.stream.Collectors.joining("; "));
        if (!skipped.isEmpty()) {
            provenance.put(ModelBundle.SKIPPED, skipped);
        }
        // The requests whose models stage this version completes once promoted (Announcer reports it then).
        if (!privacy.pending().isEmpty()) {
            provenance.put(Announcer.PRIVACY_REQUESTS, String.join(",", privacy.pending()));
        }
        ModelManifest draft = new ModelManifest(MODEL, 0, null, FeatureSnapshot.MODEL_FEATURES,
                ModelManifest.schemaHash(FeatureSnapshot.MODEL_FEATURES), metrics,
                // The features of the earliest rows reach back the engine's lookback, whatever --lookback is.
                Instant.ofEpochMilli(cutoff - 2 * horizon.toMillis()
                        - Duration.ofDays(UserFeatures.LOOKBACK_DAYS).toMillis()).toString(),
                Instant.ofEpochMilli(cutoff).toString(), train.size() + holdout.size(), holdout.size(), provenance,
                TrainingJob.class.getPackage().getImplementationVersion() == null ? "dev"
                        : TrainingJob.class.getPackage().getImplementationVersion(),
                Map.of());
        byte[] scores = UserScores.parquet(clustered, personas, churn.trained().map(OutcomeTrainer.Trained::model)
                .orElse(null), bundle.trained().map(OutcomeTrainer.Trained::model).orElse(null));
        ModelManifest manifest = registry.publish(draft, version -> {
            Map<String, String> run = new LinkedHashMap<>();
            run.put("cutoff T", Instant.ofEpochMilli(cutoff).toString());
            run.put("churn horizon H", days(horizon));
            run.put("bundle window", bundleWindow.toHours() + " hours");
            run.put("population", "everyone with " + activity + " in the " + days(options.lookback())
                    + " before the feature time");
            run.put("training rows (features at T - 2H)", String.format("%,d users, %.1f%% churned%s",
                    train.size(), 100 * population.trainChurnRate(), sampled
                            ? String.format(" (sampled from %,d rows by --max-rows)", rows.trainRows()) : ""));
            run.put("holdout rows (features at T - H)", String.format("%,d users, %.1f%% churned%s",
                    holdout.size(), 100 * population.holdoutChurnRate(), sampled
                            ? String.format(" (sampled from %,d rows by --max-rows)", rows.holdoutRows()) : ""));
            run.put("scored now (features at T)", String.format("%,d users (%s)", current.size(), UserScores.FILE));
            if (personas.fitted() < clustered.size()) {
                run.put("personas fitted on", String.format("%,d of the %,d users, sampled by --max-rows; all of them "
                        + "assigned", personas.fitted(), clustered.size()));
            }
            run.put("features used", String.join(", ", inputs.names()));
            run.put("trained in", String.format("%.1f s", seconds(started)));
            String report = TrainingReport.html(draft.withVersion(version, Instant.now().toString(), Map.of()),
                    List.of(churn, bundle), baseline, inputs, personas, ari, run);
            Map<String, byte[]> artifacts = new LinkedHashMap<>();
            churn.trained().ifPresent(t -> artifacts.put(ModelBundle.CHURN, t.model().serialize().toByteArray()));
            bundle.trained().ifPresent(t -> artifacts.put(ModelBundle.BUNDLE_PROPENSITY,
                    t.model().serialize().toByteArray()));
            artifacts.put(ModelBundle.PERSONAS, personas.model().serialize().toByteArray());
            artifacts.put(ModelBundle.PERSONA_NAMES, json(personas.profiles()));
            artifacts.put(ModelBundle.REPORT, report.getBytes(StandardCharsets.UTF_8));
            artifacts.put(UserScores.FILE, scores);
            return artifacts;
        });
        out.printf("      published %s v%d; report: %s%n", MODEL, manifest.version(),
                registry.artifactLocation(MODEL, manifest.version(), ModelBundle.REPORT));
        if (options.report() != null) {
            java.nio.file.Path copy = java.nio.file.Path.of(options.report()).toAbsolutePath();
            if (copy.getParent() != null) {
                Files.createDirectories(copy.getParent());
            }
            Files.write(copy, registry.artifact(MODEL, manifest.version(), ModelBundle.REPORT));
            java.nio.file.Path perUser = copy.resolveSibling(UserScores.FILE);
            Files.write(perUser, scores);
            out.println("      report copied to " + copy + "; per-user scores and personas in " + perUser);
        }
        if (!privacy.scrub().isEmpty()) {
            // Earlier versions keep a row per person: the people of the pending requests that delete leave them too
            // (of versions made before the request; a DELETE lets new data in after it).
            int rewritten = privacy.scrubEarlierVersions(registry, MODEL, manifest.version());
            out.printf("      per-user scores of the privacy requests' people removed from %d earlier versions%n",
                    rewritten);
        }
        ModelRegistry.Promotion promotion = null;
        if (options.promote()) {
            Gate gate = new Gate(GATE_METRIC, options.floor(), options.maxRegression());
            promotion = registry.promote(MODEL, manifest.version(), gate, options.force(), "nightly training");
            out.println(promotion.promoted() ? "      promoted: " + promotion.reason() : "      REFUSED: " + promotion.reason());
            if (promotion.promoted() && options.bootstrapServers() != null) {
                String topic = options.topic();
                Announcer.announce(options.bootstrapServers(), topic, registry, manifest, promotion.reason(),
                        options.statusTopic());
                out.println("      announced on " + topic);
            }
        }
        double seconds = seconds(started);
        out.printf("training done in %.1f s%n", seconds);
        return new Result(manifest, churn.trained().map(OutcomeTrainer.Trained::metrics).orElse(null),
                bundle.trained().map(OutcomeTrainer.Trained::metrics).orElse(null), baseline, inputs, population,
                personas, ari, promotion, seconds);
    }

    /**
     * The rows of phase 1 alone, as {@link #run} computes them for {@code options}, and the events read: what the
     * benchmarks time against DuckDB over the same files (issue "Speed to lead", P3). The runtime mode is set to BATCH.
     *
     * @param train   features as of T − 2H (and the days before it with {@code --samples}), sorted by user
     * @param holdout features as of T − H, sorted by user
     * @param current features as of T, sorted by user
     * @param events  the history's events read (before any privacy exclusion)
     */
    public record Features(List<TrainingRow> train, List<TrainingRow> holdout, List<TrainingRow> current,
                           long events) {
    }

    /** Phase 1 of {@link #run} on its own: the point-in-time rows over {@code options}' history, nothing trained. */
    public static Features features(StreamExecutionEnvironment env, TrainingOptions options, PrintStream out)
            throws Exception {
        FeatureConfig features = featureConfig(options);
        env.setRuntimeMode(RuntimeExecutionMode.BATCH);
        HistoryRows.Rows rows = HistoryRows.compute(env, options.history(), privacy(options),
                examples(options, features, labels(options, features)), options.maxRows(), options.seed(),
                PROGRESS_EVERY, out, System.nanoTime());
        return new Features(rows.train(), rows.holdout(), rows.current(), rows.events());
    }

    private static FeatureConfig featureConfig(TrainingOptions options) {
        return options.features() == null ? FeatureConfig.defaults() : FeatureConfig.load(options.features());
    }

    private static ChurnLabels labels(TrainingOptions options, FeatureConfig features) {
        return new ChurnLabels(options.horizon(), features.activityEvents(), options.bundleWindow(), options.lookback());
    }

    private static PrivacyExclusion privacy(TrainingOptions options) {
        return options.bootstrapServers() == null ? PrivacyExclusion.none()
                : PrivacyExclusion.load(options.bootstrapServers(), options.privacyTopic(), options.statusTopic(),
                        options.history());
    }

    private static ExamplesFunction examples(TrainingOptions options, FeatureConfig features, ChurnLabels labels) {
        List<String> names = EventTaxonomy.defaults().canonicalNames().stream().sorted().toList();
        return new ExamplesFunction(labels, options.cutoff(), features, names, options.samples());
    }

    /** Who the run scored: the rows of each set, and the churn rate among them. */
    public record Population(List<TrainingRow> train, List<TrainingRow> holdout, List<TrainingRow> current) {
        public double trainChurnRate() {
            return rate(train);
        }

        public double holdoutChurnRate() {
            return rate(holdout);
        }

        private static double rate(List<TrainingRow> rows) {
            return rows.isEmpty() ? Double.NaN : rows.stream().filter(TrainingRow::churned).count() / (double) rows.size();
        }
    }

    /** "90 days", "36 hours": a duration as a reader says it. */
    static String days(Duration d) {
        return d.toHours() % 24 == 0 ? d.toDays() + " days" : d.toHours() + " hours";
    }

    /**
     * Trains and evaluates one outcome, or skips it with the reason when its training label has a single class: one
     * model that cannot be trained does not sink the others.
     */
    private static TrainingReport.Outcome outcome(String title, String score, List<TrainingRow> train,
                                                  List<TrainingRow> holdout,
                                                  java.util.function.Predicate<TrainingRow> label, double threshold,
                                                  long seed, ModelInputs inputs, PrintStream out, long started) {
        long positives = train.stream().filter(label).count();
        if (positives == 0 || positives == train.size()) {
            String why = String.format("the training rows have a single outcome (%,d of %,d positive): nothing to "
                    + "learn, no model published for it", positives, train.size());
            out.println("      WARNING skipped: " + why);
            return new TrainingReport.Outcome(title, score, List.of(), why);
        }
        List<OutcomeTrainer.Trained> candidates = OutcomeTrainer.compare(train, holdout, label, threshold,
                MIN_AUC_GAIN, seed, inputs);
        for (OutcomeTrainer.Trained t : candidates) {
            OutcomeTrainer.Metrics m = t.metrics();
            out.printf("      %-30s AUC %.3f, precision %.3f, recall %.3f at %.2f, Brier %.3f%s%n", t.kind().description,
                    m.auc(), m.precision(), m.recall(), m.threshold(), m.brier(), t == candidates.get(0) ? "  <- chosen" : "");
        }
        out.printf("      (%,d holdout rows, %,d positive; %.1f s)%n", candidates.get(0).metrics().examples(),
                candidates.get(0).metrics().positives(), seconds(started));
        return new TrainingReport.Outcome(title, score, candidates, null);
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
