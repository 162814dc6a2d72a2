package io.cohortflow.training.bench;

import io.cohortflow.core.event.EventTaxonomy;
import io.cohortflow.core.event.UnifiedEvent;
import io.cohortflow.core.event.UnifiedEventAvro;
import io.cohortflow.ingest.mapping.IngestMapper;
import io.cohortflow.ingest.mapping.RawEvent;
import io.cohortflow.simulator.Delivery;
import io.cohortflow.simulator.GroundTruth;
import io.cohortflow.simulator.GroundTruthFile;
import io.cohortflow.simulator.Simulator;
import io.cohortflow.simulator.SimulatorConfig;
import io.cohortflow.training.TrainingJob;
import org.apache.avro.generic.GenericRecord;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.MemorySize;
import org.apache.flink.configuration.TaskManagerOptions;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.parquet.avro.AvroParquetWriter;
import org.apache.parquet.hadoop.ParquetWriter;
import org.apache.parquet.io.LocalOutputFile;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.Map;

/**
 * Training at scale: simulates USERS people over DAYS days, maps every delivery with the ingest mapper, writes the
 * Parquet history by day (resolved ids stitched from the simulator's ground truth, standing in for ingest's identity
 * stage, which is tested on its own), then runs the training job (BATCH, local MiniCluster) against the ground truth
 * and prints the time of each phase, AUC and ARI.
 *
 * <pre>
 * mvn -q -pl training-batch exec:exec -Dexec.classpathScope=test -Dexec.executable=java \
 *   -Dexec.args="-Xmx16g -cp %classpath io.cohortflow.training.bench.TrainingScaleBenchmark 100000 35 /tmp/scale"
 * </pre>
 */
public final class TrainingScaleBenchmark {
    private TrainingScaleBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        int users = Integer.parseInt(args[0]);
        int days = Integer.parseInt(args[1]);
        Path dir = Path.of(args[2]);
        Instant start = Instant.parse("2026-01-05T00:00:00Z");
        Path history = dir.resolve("history");
        Path truthFile = dir.resolve("ground-truth.jsonl");

        long t0 = System.nanoTime();
        Simulator simulator = new Simulator(SimulatorConfig.of(7, users, days, start).withRates(0, 0, 0)
                .withSeedStory(false));
        Map<String, String> stitched = new HashMap<>();
        for (GroundTruth t : simulator.groundTruth()) {
            if (t.identifiedDay() >= 0) {
                t.anonymousIds().forEach(a -> stitched.put(a, t.userId()));
            }
        }
        GroundTruthFile.write(truthFile, simulator.groundTruth());
        IngestMapper mapper = new IngestMapper(EventTaxonomy.defaults(), IngestMapper.loadMappings(null), 32 * 1024,
                Duration.ofHours(1), Duration.ofDays(3650));
        long events = 0;
        LocalDate day = null;
        ParquetWriter<GenericRecord> writer = null;
        for (Delivery d : simulator) {
            LocalDate deliveryDay = LocalDate.ofInstant(Instant.ofEpochMilli(d.deliveredAt()), ZoneOffset.UTC);
            if (!deliveryDay.equals(day)) {
                if (writer != null) {
                    writer.close();
                    System.out.printf("  history %s written: %,d events so far (%.0f s)%n", day, events,
                            (System.nanoTime() - t0) / 1e9);
                }
                day = deliveryDay;
                Path file = history.resolve("dt=" + day).resolve("events-0.parquet");
                Files.createDirectories(file.getParent());
                writer = AvroParquetWriter.<GenericRecord>builder(new LocalOutputFile(file))
                        .withSchema(UnifiedEventAvro.SCHEMA).build();
            }
            for (UnifiedEvent e : mapper.map(new RawEvent(d.payload(), d.source(), d.deliveredAt())).events()) {
                String user = e.userId() != null ? e.userId() : stitched.getOrDefault(e.anonymousId(), e.resolvedId());
                writer.write(UnifiedEventAvro.toRecord(e.withResolvedId(user)));
                events++;
            }
        }
        if (writer != null) {
            writer.close();
        }
        double simulated = (System.nanoTime() - t0) / 1e9;
        System.out.printf("simulated and wrote %,d events of %,d people over %d days in %.0f s%n", events, users, days,
                simulated);

        Configuration conf = new Configuration();
        conf.set(TaskManagerOptions.MANAGED_MEMORY_SIZE, MemorySize.ofMebiBytes(2048));
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        env.setParallelism(2);
        TrainingJob.Result result = TrainingJob.run(env, io.cohortflow.training.TrainingOptions.parse(new String[] {
                "--history", history.toUri().toString(), "--registry", dir.resolve("registry").toUri().toString(),
                "--cutoff", start.plus(Duration.ofDays(days)).toString(), "--horizon", "14d",
                "--ground-truth", truthFile.toString(), "--report", dir.resolve("report.html").toString()}), System.out);
        System.out.printf("%n== %,d users, %d days, %,d events: training %.1f s (history written in %.0f s); "
                        + "churn AUC %.3f (precision %.3f, recall %.3f, Brier %.3f); bundle AUC %.3f; ARI %.3f; k=%d%n",
                users, days, events, result.seconds(), simulated, result.churn().auc(), result.churn().precision(),
                result.churn().recall(), result.churn().brier(), result.bundle().auc(), result.ari(), result.personas().k());
    }
}
