package io.cohortflow.training.bench;

import io.cohortflow.core.event.EventTaxonomy;
import io.cohortflow.core.event.UnifiedEvent;
import io.cohortflow.core.event.UnifiedEventAvro;
import io.cohortflow.ingest.history.ParquetHistory;
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
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

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
     * The most people one simulator holds: a larger population is simulated in parts of this many ({@link
     * Simulator#people}), at most {@link #SIDE_BY_SIDE} at once, so that what the simulators hold (their people, and
     * a day of their deliveries, sorted by delivery time) stays the same whatever the population.
     */
    public static final int PART = 50_000;

    /**
     * The most parts written at once (fewer on fewer cores): each holds its simulator and a Parquet writer's row
     * group, so the heap the history needs is this many parts' whatever the machine. Two on 2 cores wrote 1M people's
     * history at 91,000 events/s; one at a time wrote 300,000 people's at 60,000 (README, P4).
     */
    public static final int SIDE_BY_SIDE = 2;

    /**
     * Simulates {@code users} people over {@code days} days (seed 7, no dirty data, no seed story), maps every delivery
     * with the ingest mapper and writes the unified events to {@code dir}/history as ingest writes them ({@link
     * ParquetHistory#writer}: Snappy, ingest's dictionaries), one Parquet file per UTC day and part of the population
     * ({@link #PART} people: {@code events-<part>.parquet}), and the ground truth to {@code dir}/ground-truth.jsonl.
     * Prints a line per day written to {@code out}.
     *
     * @throws IllegalArgumentException when {@code dir}/history exists (a file of an earlier run would be read too)
     */
    public static History write(int users, int days, Path dir, PrintStream out) throws IOException {
        return write(users, days, dir, out, PART,
                Math.min(SIDE_BY_SIDE, Runtime.getRuntime().availableProcessors()));
    }

    /** {@link #write(int, int, Path, PrintStream)} in parts of {@code part} people, {@code sideBySide} at once. */
    static History write(int users, int days, Path dir, PrintStream out, int part, int sideBySide)
            throws IOException {
        Path history = dir.resolve("history");
        Path truthFile = dir.resolve("ground-truth.jsonl");
        if (Files.exists(history)) {
            throw new IllegalArgumentException(history + " exists already: give a directory without a history");
        }
        long t0 = System.nanoTime();
        SimulatorConfig config = SimulatorConfig.of(7, users, days, START).withRates(0, 0, 0).withSeedStory(false);
        Files.createDirectories(dir);
        int parts = Math.max(1, (users + part - 1) / part);
        int threads = Math.min(parts, Math.max(1, sideBySide));
        AtomicLong written = new AtomicLong();
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<List<GroundTruth>>> results = new ArrayList<>(parts);
            for (int i = 0; i < parts; i++) {
                int p = i;
                results.add(pool.submit(() -> {
                    Simulator simulator = Simulator.people(config, p * part, Math.min(users, (p + 1) * part));
                    writePart(simulator, history, "events-" + p + ".parquet",
                            parts == 1 ? "" : "part " + (p + 1) + " of " + parts + ", ", written, t0, out);
                    return simulator.groundTruth();
                }));
            }
            // The truth in the parts' order, whichever part finishes first: the file is the same on any machine.
            for (int i = 0; i < parts; i++) {
                List<GroundTruth> truth = results.get(i).get();
                results.set(i, null); // a part's truth is let go once written, as when the parts ran in turn
                if (i == 0) {
                    GroundTruthFile.write(truthFile, truth);
                } else {
                    GroundTruthFile.append(truthFile, truth);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while writing the history", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof IOException io) {
                throw io;
            } else if (e.getCause() instanceof RuntimeException runtime) {
                throw runtime;
            } else if (e.getCause() instanceof Error error) {
                throw error;
            }
            throw new IllegalStateException("writing a part of the history failed", e.getCause());
        } finally {
            // A part that failed stops the others; none is left writing under dir once this returns.
            pool.shutdownNow();
            try {
                if (!pool.awaitTermination(1, TimeUnit.MINUTES)) {
                    out.println("  WARNING parts of the history were still being written a minute after a failure");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        long events = written.get();
        double seconds = (System.nanoTime() - t0) / 1e9;
        out.printf("simulated and wrote %,d events of %,d people over %d days in %.0f s%n", events, users, days,
                seconds);
        return new History(history, START, START.plus(Duration.ofDays(days)), events, truthFile, seconds);
    }

    /**
     * Writes one part's deliveries, mapped (a mapper of its own: parts are written side by side), as a file per day,
     * adding them to {@code written}. Resolved ids are stitched from the part's ground truth.
     */
    private static void writePart(Simulator simulator, Path history, String fileName, String label,
                                  AtomicLong written, long t0, PrintStream out) throws IOException {
        IngestMapper mapper = new IngestMapper(EventTaxonomy.defaults(), IngestMapper.loadMappings(null), 32 * 1024,
                Duration.ofHours(1), Duration.ofDays(3650));
        Map<String, String> stitched = new HashMap<>();
        for (GroundTruth t : simulator.groundTruth()) {
            if (t.identifiedDay() >= 0) {
                t.anonymousIds().forEach(a -> stitched.put(a, t.userId()));
            }
        }
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
                                written.addAndGet(events), (System.nanoTime() - t0) / 1e9);
                        events = 0;
                    }
                    day = deliveryDay;
                    Path file = history.resolve("dt=" + day).resolve(fileName);
                    Files.createDirectories(file.getParent());
                    writer = ParquetHistory.writer(new LocalOutputFile(file)); // ingest's layout
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
            written.addAndGet(events);
        }
    }
}
