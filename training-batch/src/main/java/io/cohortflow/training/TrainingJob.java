package io.cohortflow.training;

import io.cohortflow.core.config.CommandLine;
import io.cohortflow.core.event.EventTaxonomy;
import io.cohortflow.core.event.UnifiedEvent;
import io.cohortflow.core.event.UnifiedEventAvro;
import io.cohortflow.core.feature.FeatureConfig;
import io.cohortflow.core.feature.FeatureSnapshot;
import io.cohortflow.core.model.ModelManifest;
import io.cohortflow.core.training.ChurnLabels;
import io.cohortflow.jobs.types.JsonRecordTypeInfo;
import io.cohortflow.registry.Gate;
import io.cohortflow.registry.ModelRegistry;
import org.apache.flink.api.common.RuntimeExecutionMode;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.connector.file.src.FileSource;
import org.apache.flink.core.fs.Path;
import org.apache.flink.formats.parquet.avro.AvroParquetReaders;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.util.CloseableIterator;
import org.tribuo.Model;
import org.tribuo.classification.Label;
import org.tribuo.clustering.ClusterID;

import java.io.PrintStream;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
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
 * the time-based holdout. The rows come back to the client, which trains the churn model and the persona clusters
 * (Tribuo), evaluates on the holdout, publishes one bundle version to the registry, and promotes it when it passes the
 * gate (or when {@code --force}).
 *
 * <pre>
 * --history URI --registry URI [--cutoff ISO-8601 (default now)] [--horizon 14d] [--clusters 6] [--seed 42]
 * [--floor 0.75] [--max-regression 0.02] [--promote] [--force]
 * </pre>
 * Exit code 0 promoted (or published without --promote), 2 refused by the gate, 1 error.
 */
public final class TrainingJob {
    public static final String MODEL = "bundle";
    private static final Set<String> KEYS = Set.of("history", "registry", "cutoff", "horizon", "clusters", "seed",
            "floor", "max-regression", "promote", "force");

    /** What a run did. */
    public record Result(ModelManifest manifest, ChurnTrainer.Metrics churn, ModelRegistry.Promotion promotion) {
    }

    private TrainingJob() {
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> options = CommandLine.parse(args, KEYS);
        Result result = run(StreamExecutionEnvironment.getExecutionEnvironment(), options, System.out);
        System.exit(result.promotion() != null && !result.promotion().promoted() ? 2 : 0);
    }

    public static Result run(StreamExecutionEnvironment env, Map<String, String> options, PrintStream out) throws Exception {
        String history = required(options, "history");
        ModelRegistry registry = new ModelRegistry(URI.create(required(options, "registry")));
        long cutoff = options.containsKey("cutoff") ? Instant.parse(options.get("cutoff")).toEpochMilli()
                : System.currentTimeMillis();
        Duration horizon = org.apache.flink.util.TimeUtils.parseDuration(options.getOrDefault("horizon", "14d"));
        int clusters = Integer.parseInt(options.getOrDefault("clusters", "6"));
        long seed = Long.parseLong(options.getOrDefault("seed", "42"));
        ChurnLabels labels = new ChurnLabels(horizon, Set.of("page_view", "product_view", "product_search",
                "add_to_cart", "checkout_started", "order_completed", "feature_used"));
        FeatureConfig features = FeatureConfig.defaults();
        List<String> names = EventTaxonomy.defaults().canonicalNames().stream().sorted().toList();

        long started = System.nanoTime();
        out.printf("[1/4] computing point-in-time features from %s (cutoff %s, horizon %s)%n", history,
                Instant.ofEpochMilli(cutoff), horizon);
        env.setRuntimeMode(RuntimeExecutionMode.BATCH);
        FileSource<org.apache.avro.generic.GenericRecord> source = FileSource
                .forRecordStreamFormat(AvroParquetReaders.forGenericRecord(UnifiedEventAvro.SCHEMA), new Path(history))
                .build();
        List<TrainingRow> train = new ArrayList<>();
        List<TrainingRow> holdout = new ArrayList<>();
        try (CloseableIterator<TrainingRow> rows = env
                .fromSource(source, WatermarkStrategy.noWatermarks(), "Parquet history")
                .map(UnifiedEventAvro::fromRecord).returns(JsonRecordTypeInfo.UNIFIED_EVENT).name("to unified events")
                .keyBy(UnifiedEvent::resolvedId)
                .process(new ExamplesFunction(labels, cutoff, features, names))
                .returns(new JsonRecordTypeInfo<>(new TrainingRowCodec())).name("point-in-time rows")
                .executeAndCollect("cohortflow training: features")) {
            rows.forEachRemaining(row -> (row.holdout() ? holdout : train).add(row));
        }
        out.printf("      %,d training rows, %,d holdout rows (%.1f s)%n", train.size(), holdout.size(),
                (System.nanoTime() - started) / 1e9);
        if (train.isEmpty() || holdout.isEmpty()) {
            throw new IllegalStateException("not enough history before " + Instant.ofEpochMilli(cutoff)
                    + " for a horizon of " + horizon + ": " + train.size() + " training and " + holdout.size()
                    + " holdout rows");
        }

        out.println("[2/4] training the churn model (logistic regression, standardised)");
        Model<Label> churn = ChurnTrainer.train(train, seed);
        ChurnTrainer.Metrics metrics = ChurnTrainer.evaluate(churn, holdout);
        out.printf("      holdout AUC %.3f, precision %.3f, recall %.3f (%d rows, %d churners)%n", metrics.auc(),
                metrics.precision(), metrics.recall(), metrics.examples(), metrics.churners());

        out.printf("[3/4] clustering personas (K-Means, k=%d, k-means++, seed %d)%n", clusters, seed);
        Model<ClusterID> personas = PersonaTrainer.train(holdout.stream().map(TrainingRow::features).toList(),
                clusters, seed);

        out.println("[4/4] publishing to the registry " + registry.root());
        Map<String, Double> allMetrics = new LinkedHashMap<>(metrics.asMap());
        allMetrics.put("training_rows", (double) train.size());
        ModelManifest manifest = registry.publish(new ModelManifest(MODEL, 0, null, FeatureSnapshot.MODEL_FEATURES,
                ModelManifest.schemaHash(FeatureSnapshot.MODEL_FEATURES), allMetrics,
                Instant.ofEpochMilli(cutoff - 2 * horizon.toMillis() - Duration.ofDays(90).toMillis()).toString(),
                Instant.ofEpochMilli(cutoff).toString(), train.size() + holdout.size(), holdout.size(),
                Map.of("churnTrainer", churn.getProvenance().getTrainerProvenance().getClassName(),
                        "personaTrainer", personas.getProvenance().getTrainerProvenance().getClassName(),
                        "seed", Long.toString(seed), "clusters", Integer.toString(clusters)),
                TrainingJob.class.getPackage().getImplementationVersion() == null ? "dev"
                        : TrainingJob.class.getPackage().getImplementationVersion(),
                Map.of()), Map.of("churn.tribuo", churn.serialize().toByteArray(),
                "personas.tribuo", personas.serialize().toByteArray()));
        out.printf("      published %s v%d%n", MODEL, manifest.version());
        ModelRegistry.Promotion promotion = null;
        if (Boolean.parseBoolean(options.getOrDefault("promote", "false"))) {
            Gate gate = new Gate("auc", Double.parseDouble(options.getOrDefault("floor", "0.75")),
                    Double.parseDouble(options.getOrDefault("max-regression", "0.02")));
            promotion = registry.promote(MODEL, manifest.version(), gate,
                    Boolean.parseBoolean(options.getOrDefault("force", "false")), "nightly training");
            out.println(promotion.promoted() ? "      promoted: " + promotion.reason() : "      REFUSED: " + promotion.reason());
        }
        out.printf("training done in %.1f s%n", (System.nanoTime() - started) / 1e9);
        return new Result(manifest, metrics, promotion);
    }

    private static String required(Map<String, String> options, String key) {
        String value = options.get(key);
        if (value == null) {
            throw new IllegalArgumentException("--" + key + " is required");
        }
        return value;
    }
}
