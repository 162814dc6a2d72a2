package io.cohortflow.training;

import io.cohortflow.core.model.ModelManifest;
import io.cohortflow.ingest.history.HistoryFixtures;
import io.cohortflow.core.feature.FeatureSnapshot;
import io.cohortflow.core.scoring.Scores;
import io.cohortflow.registry.ModelBundle;
import io.cohortflow.registry.ModelRegistry;
import io.cohortflow.simulator.Simulator;
import io.cohortflow.simulator.SimulatorConfig;
import io.cohortflow.testkit.KafkaTestSupport;
import io.cohortflow.testkit.MiniClusters;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The training job in BATCH mode on a MiniCluster, over a Parquet history laid out as ingest writes it. */
class TrainingJobITCase {
    @RegisterExtension
    static final MiniClusterExtension FLINK = MiniClusters.extension();

    private static final Instant START = Instant.parse("2026-01-05T00:00:00Z");
    private static final long DAY = 86_400_000L;

    @Test
    void trainsFromTheParquetHistoryPublishesAndPromotesThroughTheGate(@TempDir Path dir) throws Exception {
        Path history = dir.resolve("history");
        long written = writeHistory(history, 800, 56);

        ByteArrayOutputStream progress = new ByteArrayOutputStream();
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(MiniClusters.jobConfig());
        env.setParallelism(2);
        TrainingJob.Result result = TrainingJob.run(env, TrainingOptions.parse(new String[] {
                "--history", history.toUri().toString(), "--registry", dir.resolve("registry").toUri().toString(),
                "--cutoff", Instant.ofEpochMilli(START.toEpochMilli() + 56 * DAY).toString(), "--horizon", "14d",
                "--promote", "--floor", "0.85", "--report", dir.resolve("report.html").toString()}),
                new PrintStream(progress));
        System.out.print(progress);

        assertThat(progress.toString()).contains("[1/5]", "[2/5]", "[3/5]", "[4/5]", "[5/5]", "promoted")
                .as("the job's own count of what it read").contains(String.format("%,d events read;", written));
        assertThat(result.churn().auc()).isGreaterThanOrEqualTo(0.85);
        assertThat(result.promotion().promoted()).isTrue();
        ModelRegistry registry = new ModelRegistry(dir.resolve("registry").toUri());
        ModelManifest current = registry.current(TrainingJob.MODEL).orElseThrow();
        assertThat(current.version()).isEqualTo(1);
        assertThat(current.artifacts()).containsOnlyKeys(ModelBundle.CHURN, ModelBundle.BUNDLE_PROPENSITY,
                ModelBundle.PERSONAS, ModelBundle.PERSONA_NAMES, ModelBundle.REPORT, UserScores.FILE);
        assertThat(current.metrics()).containsKeys("churn_auc", "churn_brier", "bundle_auc", "persona_silhouette",
                "persona_stability_ari", "churn_auc_recency_baseline", "churn_rate_train", "churn_rate_holdout",
                "population_now");
        assertThat(current.provenance()).containsEntry("horizon", "14 days").containsEntry("lookback", "365 days")
                .containsKey("featuresUsed");
        assertThat(progress.toString()).contains("population: everyone with", "recency alone: AUC");

        ModelBundle bundle = ModelBundle.load(registry, TrainingJob.MODEL, 1,
                ModelManifest.schemaHash(FeatureSnapshot.MODEL_FEATURES));
        Scores gone = bundle.score(new double[] {45, 0, 0, 0, 2, 0, 0, 0, 0, 0, 50, 0, 0, 0, 0});
        Scores loyal = bundle.score(new double[] {0, 12, 200, 0.8, 0, 20, 1, 2, 4, 400, 50, 0, 0, 0, 0});
        assertThat(gone.scores().get("churn")).as("long gone, tickets: likely churn")
                .isGreaterThan(loyal.scores().get("churn"));
        assertThat(gone.model()).isEqualTo("bundle@v1");
        assertThat(result.personas().profiles()).extracting(ModelBundle.Persona::name).contains(gone.persona());

        String report = Files.readString(dir.resolve("report.html"));
        assertThat(report).isEqualTo(new String(registry.artifact(TrainingJob.MODEL, 1, ModelBundle.REPORT),
                java.nio.charset.StandardCharsets.UTF_8));
        assertThat(report).contains("bundle v1", "ROC curve", "Calibration", "Feature weights", "Cluster sizes",
                "Cluster profiles", "<svg", "recency alone", "14 days", "stability").doesNotContain("<script", "PT336H");
        assertThat(dir.resolve(UserScores.FILE)).as("the per-user scores next to the report's copy")
                .hasBinaryContent(registry.artifact(TrainingJob.MODEL, 1, UserScores.FILE));
        for (ModelBundle.Persona p : result.personas().profiles()) {
            assertThat(report).contains(p.name().replace("&", "&amp;"));
        }
        // How model-registry's saved-bundle fixture (a bundle of an earlier build that must keep loading) was made.
        String fixture = System.getProperty("cohortflow.save-bundle-fixture");
        if (fixture != null) {
            KafkaTestSupport.copyTree(dir.resolve("registry"), Path.of(fixture));
        }
    }

    @Test
    void pastMaxRowsTheModelsLearnFromASampleOfThePeople(@TempDir Path dir) throws Exception {
        Path history = dir.resolve("history");
        writeHistory(history, 400, 35);
        ByteArrayOutputStream progress = new ByteArrayOutputStream();
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(MiniClusters.jobConfig());
        env.setParallelism(2);

        TrainingJob.run(env, TrainingOptions.parse(new String[] {"--history", history.toUri().toString(),
                "--registry", dir.resolve("registry").toUri().toString(), "--cutoff",
                Instant.ofEpochMilli(START.toEpochMilli() + 35 * DAY).toString(), "--horizon", "14d",
                "--max-rows", "150"}), new PrintStream(progress));
        System.out.print(progress);

        ModelManifest version = new ModelRegistry(dir.resolve("registry").toUri()).manifest(TrainingJob.MODEL, 1);
        assertThat(version.metrics()).containsEntry("training_rows", 150.0).containsEntry("population_holdout", 150.0);
        assertThat(version.metrics().get("training_rows_all")).isGreaterThan(150.0);
        assertThat(version.metrics().get("population_holdout_all")).isGreaterThan(150.0);
        assertThat(progress.toString()).contains("the models learn from 150 of the ", "a sample of the people "
                + "(--max-rows 150)", "fitted on 150 of the ");
        // The personas are fitted on 150 people, and everyone now is assigned and profiled.
        assertThat(version.metrics()).containsEntry("persona_fit_rows", 150.0);
        double now = version.metrics().get("population_now");
        assertThat(now).isGreaterThan(150.0);
        List<ModelBundle.Persona> personas = ModelBundle.personas(new ModelRegistry(dir.resolve("registry").toUri()),
                version);
        assertThat(personas.stream().mapToLong(ModelBundle.Persona::size).sum()).isEqualTo((long) now);
    }

    /** Simulated behaviour through the real ingest mapper, written as dt=YYYY-MM-DD/events.parquet; returns the count. */
    private static long writeHistory(Path history, int users, int days) throws Exception {
        return HistoryFixtures.writeDeliveries(history, new Simulator(SimulatorConfig.of(23, users, days, START)
                .withRates(0, 0, 0).withSeedStory(false)), "events-0.parquet");
    }

    /** Every delivery of {@code simulator}, through the real ingest mapper into {@code history}. */
    static void writeHistory(Path history, Simulator simulator) throws Exception {
        HistoryFixtures.writeDeliveries(history, simulator, "events-0.parquet");
    }

    /** A training run on the test's MiniCluster (parallelism 2) with {@code args}; its progress is printed. */
    static TrainingJob.Result train(String... args) throws Exception {
        ByteArrayOutputStream progress = new ByteArrayOutputStream();
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(MiniClusters.jobConfig());
        env.setParallelism(2);
        TrainingJob.Result result = TrainingJob.run(env, TrainingOptions.parse(args), new PrintStream(progress));
        System.out.print(progress);
        return result;
    }
}
