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
import io.cohortflow.training.TrainingOptions;
import org.apache.avro.generic.GenericRecord;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.MemorySize;
import org.apache.flink.configuration.TaskManagerOptions;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.parquet.avro.AvroParquetWriter;
import org.apache.parquet.hadoop.ParquetWriter;
import org.apache.parquet.io.LocalOutputFile;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Training at scale: simulates USERS people over DAYS days, maps every delivery with the ingest mapper, writes the
 * Parquet history by day (resolved ids stitched from the simulator's ground truth, standing in for ingest's identity
 * stage, which is tested on its own), then runs the training job (BATCH, local MiniCluster) against the ground truth
 * and prints the time of each phase, AUC and ARI. {@link #write} is the history on its own, for the benchmarks that
 * read it (the feature build against DuckDB).
 *
 * <pre>
 * mvn -q -DskipTests install
 * mvn -q -pl benchmarks exec:exec -Dexec.executable=java \
 *   -Dexec.args="-Xmx16g -cp %classpath io.cohortflow.training.bench.TrainingScaleBenchmark 100000 35 /tmp/scale"
 * </pre>
 */
public final class TrainingScaleBenchmark {
    /** Where every simulated history starts: the simulator's days are UTC days from here. */
    public static final Instant START = Instant.parse("2026-01-05T00:00:00Z");

    /**
     * A simulated history as written.
     *
     * @param path   the history's root (dt=YYYY-MM-DD partitions of Parquet files), what {@code --history} takes
     * @param start  the first simulated day's start
     * @param cutoff the end of the last simulated day: the training's cutoff T over the whole history
     * @param events the unified events written
     * @param truth  the simulator's ground truth (JSON lines), for the training's ARI
     * @param seconds how long simulating and writing took
     */
    public record History(Path path, Instant start, Instant cutoff, long events, Path truth, double seconds) {
    }

    private TrainingScaleBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        int users = Integer.parseInt(args[0]);
        int days = Integer.parseInt(args[1]);
        Path dir = Path.of(args[2]);
        History history = write(users, days, dir, System.out);

        Configuration conf = new Configuration();
        conf.set(TaskManagerOptions.MANAGED_MEMORY_SIZE, MemorySize.ofMebiBytes(2048));
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        env.setParallelism(2);
        TrainingJob.Result result = TrainingJob.run(env, TrainingOptions.parse(new String[] {
                "--history", history.path().toUri().toString(), "--registry", dir.resolve("registry").toUri().toString(),
                "--cutoff", history.cutoff().toString(), "--horizon", "14d",
                "--ground-truth", history.truth().toString(), "--report", dir.resolve("report.html").toString()}),
                System.out);
        System.out.printf("%n== %,d users, %d days, %,d events: training %.1f s (history written in %.0f s); "
                        + "churn AUC %.3f (precision %.3f, recall %.3f, Brier %.3f); bundle AUC %.3f; ARI %.3f; k=%d%n",
                users, days, history.events(), result.seconds(), history.seconds(), result.churn().auc(),
                result.churn().precision(), result.churn().recall(), result.churn().brier(), result.bundle().auc(),
                result.ari(), result.personas().k());
    }

    /**
     * The most people simulated at once: a larger population is simulated in parts of this many ({@link
     * Simulator#people}), one after the other, so that what the simulator holds (its people, and a day of their
     * deliveries, sorted by delivery time) stays the same whatever the population.
     */
    public static final int PART = 50_000;

    /**
     * Simulates {@code users} people over {@code days} days (seed 7, no dirty data, no seed story), maps every
     * delivery with the ingest mapper and writes the unified events to {@code dir}/history, one Parquet file per UTC
     * day and part of the population ({@link #PART} people: {@code events-<part>.parquet}), and the ground truth to
     * {@code dir}/ground-truth.jsonl. Prints a line per day written to {@code out}.
     *
     * @throws IllegalArgumentException when {@code dir}/history exists (a file of an earlier run would be read too)
     */
    public static History write(int users, int days, Path dir, PrintStream out) throws IOException {
        Path history = dir.resolve("history");
        Path truthFile = dir.resolve("ground-truth.jsonl");
        if (Files.exists(history)) {
            throw new IllegalArgumentException(history + " exists already: give a directory without a history");
        }
        long t0 = System.nanoTime();
        SimulatorConfig config = SimulatorConfig.of(7, users, days, START).withRates(0, 0, 0).withSeedStory(false);
        Files.createDirectories(dir);
        IngestMapper mapper = new IngestMapper(EventTaxonomy.defaults(), IngestMapper.loadMappings(null), 32 * 1024,
                Duration.ofHours(1), Duration.ofDays(3650));
        long events = 0;
        int parts = Math.max(1, (users + PART - 1) / PART);
        for (int part = 0; part < parts; part++) {
            Simulator simulator = Simulator.people(config, part * PART, Math.min(users, (part + 1) * PART));
            List<GroundTruth> truth = simulator.groundTruth();
            Map<String, String> stitched = new HashMap<>();
            for (GroundTruth t : truth) {
                if (t.identifiedDay() >= 0) {
                    t.anonymousIds().forEach(a -> stitched.put(a, t.userId()));
                }
            }
            if (part == 0) {
                GroundTruthFile.write(truthFile, truth);
            } else {
                GroundTruthFile.append(truthFile, truth);
            }
            events += writePart(simulator, mapper, stitched, history, "events-" + part + ".parquet",
                    parts == 1 ? "" : "part " + (part + 1) + " of " + parts + ", ", events, t0, out);
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        out.printf("simulated and wrote %,d events of %,d people over %d days in %.0f s%n", events, users, days,
                seconds);
        return new History(history, START, START.plus(Duration.ofDays(days)), events, truthFile, seconds);
    }

    /** Writes one part's deliveries, mapped, as a file per day; returns the events written. */
    private static long writePart(Simulator simulator, IngestMapper mapper, Map<String, String> stitched, Path history,
                                  String fileName, String label, long before, long t0, PrintStream out)
            throws IOException {
        long events = 0;
        LocalDate day = null;
        ParquetWriter<GenericRecord> writer = null;
        try {
            for (Delivery d : simulator) {
                LocalDate deliveryDay = LocalDate.ofInstant(Instant.ofEpochMilli(d.deliveredAt()), ZoneOffset.UTC);
                if (!deliveryDay.equals(day)) {
                    if (writer != null) {
                        writer.close();
                        out.printf("  history %s%s written: %,d events so far (%.0f s)%n", label, day,
                                before + events, (System.nanoTime() - t0) / 1e9);
                    }
                    day = deliveryDay;
                    Path file = history.resolve("dt=" + day).resolve(fileName);
                    Files.createDirectories(file.getParent());
                    writer = AvroParquetWriter.<GenericRecord>builder(new LocalOutputFile(file))
                            .withSchema(UnifiedEventAvro.SCHEMA).build();
                }
                for (UnifiedEvent e : mapper.map(new RawEvent(d.payload(), d.source(), d.deliveredAt())).events()) {
                    String user = e.userId() != null ? e.userId()
                            : stitched.getOrDefault(e.anonymousId(), e.resolvedId());
                    writer.write(UnifiedEventAvro.toRecord(e.withResolvedId(user)));
                    events++;
                }
            }
        } finally {
            if (writer != null) {
                writer.close();
            }
        }
        return events;
    }
}
