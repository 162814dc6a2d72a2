package io.cohortflow.benchmarks;

import io.cohortflow.core.config.TopicsConfig;
import io.cohortflow.core.engine.Ruleset;
import io.cohortflow.core.engine.UserSegments;
import io.cohortflow.core.event.EventTaxonomy;
import io.cohortflow.core.event.UnifiedEvent;
import io.cohortflow.core.feature.FeatureConfig;
import io.cohortflow.core.scoring.Scorer;
import io.cohortflow.core.segment.SegmentRules;
import io.cohortflow.ingest.bench.IngestThroughputBenchmark;
import io.cohortflow.kafka.local.LocalKafkaBroker;
import io.cohortflow.segmentation.bench.HotPathBenchmark;
import io.cohortflow.segmentation.bench.LatencyBenchmark;
import io.cohortflow.testkit.KafkaTestSupport;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The product's speed and size, each measure with its peer in the same run on the same machine over the same data,
 * printed as a table of figures, ratios and goals (issue "Speed to lead"). Each measure prints its own progress as it
 * goes.
 *
 * <ul>
 *   <li><b>P1</b> the per-event path in JMH ({@link HotPathBenchmark#enginePass}: whole passes over 2,000 simulated
 *       people's 7 days, each event decoded and applied: features, every shipped segment, changes and profile), µs
 *       per event and events/s per core; goal ≤ 6.7 µs. And the segmentation
 *       job end to end (events.unified in, changes and profiles out, exactly-once, a real broker, a MiniCluster)
 *       against a Flink SQL job computing windowed counts and RFM features over the same topic
 *       ({@link SegmentationThroughput}), each one's best run, in rounds until neither gets faster: goal ≥ 3× the SQL
 *       job's events/s.</li>
 *   <li><b>P1b</b> the same JMH path with 1,000 generated segments against the shipped 11: throughput ratio, goal
 *       ≥ 0.5.</li>
 *   <li><b>P2</b> event → change latency at half the peak of ingest and segmentation together
 *       ({@link LatencyBenchmark}): p99 at-least-once (goal ≤ 50 ms) and exactly-once (goal ≤ the checkpoint
 *       interval + 0.5 s).</li>
 *   <li><b>P3</b> the training's feature build over a simulated Parquet history ({@link FeatureBuildBenchmark}: phase 1
 *       of the training, BATCH on a MiniCluster) against DuckDB computing the same rows with SQL over the same
 *       files, every row compared: goal ≤ 2× DuckDB's time.</li>
 *   <li><b>P5</b> ingest deliveries/s exactly-once against {@link KafkaCopy} copying the same records on the same
 *       broker, the best of four runs of each: goal ≥ 50,000/s and ≥ 0.5× the copy.</li>
 *   <li><b>P6</b> the segmentation job's keyed state per user (the bytes RocksDB keeps), after 30 simulated days:
 *       goal ≤ 1 KB mean.</li>
 * </ul>
 *
 * <pre>
 * mvn -q -DskipTests install
 * mvn -q -pl benchmarks exec:exec -Dexec.executable=java \
 *     -Dexec.args="-Xmx6g -XX:MaxTenuringThreshold=2 -cp %classpath io.cohortflow.benchmarks.Suite"
 * </pre>
 * Options: {@code --only P1,P5} runs some measures; {@code --quick} runs each on a sliver of its data, to check that
 * the suite works (its figures mean nothing).
 */
public final class Suite {
    /** The machine's cores, which the end-to-end run's broker, jobs and load share: its figure per core. */
    private static final int CORES = Runtime.getRuntime().availableProcessors();
    /** P5's runs of each side (see {@link #ingest}). */
    private static final int INGEST_RUNS = 4;
    /** P5's simulated people (3 days each: 540,462 deliveries). */
    private static final int INGEST_USERS = 30_000;

    /** One line of the table. {@code met} is null where there is no goal. */
    public record Row(String id, String measure, String figure, String peer, String ratio, String goal, Boolean met) {
    }

    private final boolean quick;
    private final PrintStream out;
    private final List<Row> rows = new ArrayList<>();

    private Suite(boolean quick, PrintStream out) {
        this.quick = quick;
        this.out = out;
    }

    public static void main(String[] args) throws Exception {
        run(args, System.out);
        System.exit(0); // the MiniClusters' and Kafka clients' non-daemon threads
    }

    /** Runs the measures {@code args} select and prints the table; returns its rows. */
    public static List<Row> run(String[] args, PrintStream out) throws Exception {
        boolean quick = false;
        Set<String> only = new LinkedHashSet<>(List.of("P1", "P1b", "P2", "P3", "P5", "P6"));
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--quick" -> quick = true;
                case "--only" -> only = new LinkedHashSet<>(Arrays.asList(args[++i].split(",")));
                default -> throw new IllegalArgumentException("unknown option " + args[i]
                        + " (options: --only P1,P1b,P2,P3,P5,P6; --quick)");
            }
        }
        Suite suite = new Suite(quick, out);
        long start = System.nanoTime();
        if (only.contains("P1") || only.contains("P1b")) {
            suite.hotPath(only.contains("P1"), only.contains("P1b"));
        }
        if (only.contains("P1")) {
            suite.segmentation();
        }
        if (only.contains("P2")) {
            suite.latency();
        }
        if (only.contains("P3")) {
            suite.featureBuild();
        }
        if (only.contains("P5")) {
            suite.ingest();
        }
        if (only.contains("P6")) {
            suite.state();
        }
        suite.print(Duration.ofNanos(System.nanoTime() - start));
        return List.copyOf(suite.rows);
    }

    // ---- P1, P1b: the per-event path -------------------------------------------------------------------------------

    private void hotPath(boolean single, boolean many) throws Exception {
        out.println("== P1/P1b: the per-event path (JMH, one thread)");
        OptionsBuilder options = new OptionsBuilder();
        // Whole passes: each invocation applies the same events to fresh engines, so every iteration does the same work
        // (a pass of 1,000 segments takes several seconds: an iteration is then one pass).
        int users = quick ? 200 : 2_000;
        int events = HotPathBenchmark.passEvents(users);
        out.printf(Locale.ROOT, "one pass: %,d events of %,d people over 7 days%n", events, users);
        options.include(HotPathBenchmark.class.getName() + ".enginePass$")
                .param("segmentSet", many ? new String[] {"shipped", "1000"} : new String[] {"shipped"})
                .param("passUsers", String.valueOf(users))
                .forks(quick ? 0 : 1)
                .warmupIterations(quick ? 1 : 3).warmupTime(TimeValue.seconds(quick ? 1 : 3))
                .measurementIterations(quick ? 1 : 5).measurementTime(TimeValue.seconds(quick ? 1 : 4))
                .shouldDoGC(true);
        Map<String, Double> nanos = new HashMap<>();
        for (RunResult result : new Runner(options.build()).run()) {
            nanos.put(result.getParams().getParam("segmentSet"), result.getPrimaryResult().getScore() / events);
        }
        double shipped = nanos.get("shipped") / 1000;
        if (single) {
            rows.add(new Row("P1", "per event, shipped segments (JMH enginePass)",
                    String.format(Locale.ROOT, "%.1f µs = %,.0f events/s/core", shipped, 1e6 / shipped), "—", "—",
                    "≤ 6.7 µs", shipped <= 6.7));
        }
        if (many) {
            double thousand = nanos.get("1000") / 1000;
            double ratio = shipped / thousand;
            rows.add(new Row("P1b", "per event, 1,000 generated segments",
                    String.format(Locale.ROOT, "%.1f µs", thousand),
                    String.format(Locale.ROOT, "shipped 11: %.1f µs", shipped),
                    String.format(Locale.ROOT, "%.3f×", ratio), "≥ 0.5×", ratio >= 0.5));
        }
    }

    // ---- P1 end to end: the segmentation job against a Flink SQL job ---------------------------------------------------

    private void segmentation() throws Exception {
        int users = quick ? 300 : SegmentationThroughput.USERS;
        out.println("== P1: segmentation end to end (events.unified in, changes and profiles out, exactly-once) against "
                + "a Flink SQL job computing windowed counts and RFM over the same topic");
        try (LocalKafkaBroker broker = LocalKafkaBroker.start()) {
            int rounds = quick ? 1 : SegmentationThroughput.ROUNDS;
            SegmentationThroughput.Comparison comparison = SegmentationThroughput.compare(broker, users, 3, rounds, out);
            SegmentationThroughput.Run product = comparison.product();
            SegmentationThroughput.Run peer = comparison.peer();
            double ratio = comparison.ratio();
            String measure = String.format(Locale.ROOT, "segmentation end to end, exactly-once, %,d events, best of %d",
                    comparison.events(), comparison.productRates().size());
            rows.add(new Row("P1", measure, String.format(Locale.ROOT, "%,.0f events/s = %,.0f/s/core",
                    product.perSecond(), product.perSecond() / CORES), String.format(Locale.ROOT,
                    "Flink SQL: %,.0f events/s", peer.perSecond()), String.format(Locale.ROOT, "%.2f×", ratio),
                    "≥ 3× the SQL job", ratio >= 3));
        }
    }

    // ---- P2: latency ------------------------------------------------------------------------------------------------

    private void latency() throws Exception {
        int seconds = quick ? 3 : 20;
        int burst = quick ? 1_500 : 30_000;
        int users = quick ? 100 : 2_000;
        long checkpointMs = 1_000;
        out.println("== P2: event -> change latency (a real broker, ingest-job and segmentation-job on a MiniCluster), "
                + "exactly-once, checkpoints every " + checkpointMs + " ms");
        LatencyBenchmark.Result exactlyOnce = LatencyBenchmark.measure("exactly-once", seconds, checkpointMs, users, 0,
                burst);
        // Exactly-once, an event is visible on events.unified once ingest commits it, and its change once
        // segmentation commits: the goal holds from events.unified (one commit); from events.raw there are two.
        rows.add(new Row("P2", "event → change, exactly-once, at half the peak",
                String.format(Locale.ROOT, "from events.raw p50 %d ms, p99 %d ms; from events.unified p99 %d ms; "
                        + "at %,d/s (peak %,.0f/s, ingest and segmentation)", exactlyOnce.p50(), exactlyOnce.p99(),
                        exactlyOnce.unifiedP99(), exactlyOnce.rate(), exactlyOnce.peak()), "—", "—", "p99 ≤ " + (checkpointMs + 500) + " ms from events.unified",
                exactlyOnce.unifiedP99() <= checkpointMs + 500));
        out.println("== P2: the same, at-least-once");
        LatencyBenchmark.Result atLeastOnce = LatencyBenchmark.measure("at-least-once", seconds, checkpointMs, users, 0,
                burst);
        rows.add(new Row("P2", "event → change, at-least-once, at half the peak",
                String.format(Locale.ROOT, "from events.raw p50 %d ms, p99 %d ms; from events.unified p99 %d ms; "
                        + "at %,d/s (peak %,.0f/s)", atLeastOnce.p50(), atLeastOnce.p99(), atLeastOnce.unifiedP99(),
                        atLeastOnce.rate(), atLeastOnce.peak()), "—", "—", "p99 ≤ 50 ms from events.raw", atLeastOnce.p99() <= 50));
    }

    // ---- P3: the training's feature build against DuckDB ----------------------------------------------------------------

    private void featureBuild() throws Exception {
        int users = quick ? 300 : 5_000;
        int days = 40;
        out.printf("== P3: the training's feature build over the Parquet history of %,d people, %d days, against DuckDB "
                + "SQL computing the same rows over the same files%n", users, days);
        Path dir = Files.createTempDirectory("p3-");
        try {
            FeatureBuildBenchmark.Result result = FeatureBuildBenchmark.measure(users, days, dir, out);
            if (!result.allAgree()) {
                throw new IllegalStateException("the feature build and DuckDB disagree on " + (result.flinkRows()
                        - result.agreeing()) + " rows: the comparison is void");
            }
            rows.add(new Row("P3", String.format(Locale.ROOT, "training feature build, %,d events, %,d rows agree",
                    result.events(), result.agreeing()), String.format(Locale.ROOT, "%.2f s", result.flinkSeconds()),
                    String.format(Locale.ROOT, "DuckDB %.2f s", result.duckdbSeconds()),
                    String.format(Locale.ROOT, "%.2f×", result.ratio()), "≤ 2× DuckDB's time", result.ratio() <= 2));
        } finally {
            try (var files = Files.walk(dir)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            }
        }
    }

    // ---- P5: ingest against a bare copy ---------------------------------------------------------------------------------

    /**
     * Each side runs {@value #INGEST_RUNS} times over the same deliveries (written to events.raw once), into topics of
     * its own each time, and its best run counts: the job's first run in a fresh JVM is mostly the JIT compiling it
     * (JFR: 82 compilations of 100 ms or more, 22.7 s in all, in a 30 s run), and its runs kept getting faster up to the
     * third or fourth. Each run is timed from its start, so the job's includes starting up and its last commit, which
     * the job takes also on an empty topic; that run is printed too. There are {@value #INGEST_USERS} people's
     * deliveries: with a third of them, starting up and the last commit took about two of a run's five seconds (and
     * the copy's whole run one).
     */
    private void ingest() throws Exception {
        int users = quick ? 200 : INGEST_USERS;
        int runs = quick ? 1 : INGEST_RUNS;
        out.println("== P5: ingest exactly-once against a bare consumer -> producer copy of the same records");
        try (LocalKafkaBroker broker = LocalKafkaBroker.start()) {
            TopicsConfig input = KafkaTestSupport.uniqueTopics(broker, "p5-raw");
            String raw = input.name(TopicsConfig.RAW);
            long deliveries = IngestThroughputBenchmark.produce(broker, input, users, "P5");
            List<Double> jobRuns = new ArrayList<>();
            List<Double> copyRuns = new ArrayList<>();
            long unified = -1;
            for (int run = 1; run <= runs; run++) {
                copyRuns.add(KafkaCopy.copy(broker.bootstrapServers(), raw,
                        KafkaTestSupport.uniqueTopics(broker, "p5-copy").name(TopicsConfig.RAW), deliveries));
                IngestThroughputBenchmark.Run job = IngestThroughputBenchmark.ingest(broker,
                        readingFrom(broker, "p5", raw), deliveries, "exactly-once");
                // The same deliveries make the same events: a run that wrote another number did not read them all.
                if (job.unified() == 0 || unified >= 0 && job.unified() != unified) {
                    throw new IllegalStateException("P5 run " + run + " wrote " + job.unified()
                            + " events to events.unified" + (unified >= 0 ? ", the first run " + unified : ""));
                }
                unified = job.unified();
                jobRuns.add(deliveries / job.seconds());
                out.printf("  P5 run %d of %d: ingest %,.0f deliveries/s (%.1f CPU s), copy %,.0f/s%n", run, runs,
                        jobRuns.get(run - 1), job.cpuSeconds(), copyRuns.get(run - 1));
            }
            out.printf("  P5: the job over an empty events.raw (starting up and the last commit): %.1f s%n",
                    IngestThroughputBenchmark.ingest(broker, KafkaTestSupport.uniqueTopics(broker, "p5-empty"), 0,
                            "exactly-once").seconds());
            double job = jobRuns.stream().mapToDouble(Double::doubleValue).max().orElseThrow();
            double copy = copyRuns.stream().mapToDouble(Double::doubleValue).max().orElseThrow();
            double ratio = job / copy;
            rows.add(new Row("P5", "ingest exactly-once, " + String.format(Locale.ROOT, "%,d", deliveries)
                    + " deliveries, best of " + runs, String.format(Locale.ROOT, "%,.0f deliveries/s", job),
                    String.format(Locale.ROOT, "copy %,.0f/s", copy), String.format(Locale.ROOT, "%.3f×", ratio),
                    "≥ 50,000/s and ≥ 0.5×", job >= 50_000 && ratio >= 0.5));
        }
    }

    /** Fresh topics for one run of the job, reading the deliveries on {@code raw}. */
    private static TopicsConfig readingFrom(LocalKafkaBroker broker, String name, String raw) {
        return KafkaTestSupport.uniqueTopics(broker, name).renamed(Map.of(TopicsConfig.RAW, raw));
    }

    // ---- P6: state per user -----------------------------------------------------------------------------------------

    private void state() throws IOException {
        int users = quick ? 200 : 5_000;
        int days = quick ? 7 : 30;
        out.printf("== P6: keyed state per user after %d simulated days of %,d people%n", days, users);
        List<UnifiedEvent> events = HotPathBenchmark.events(users, days);
        Ruleset rules = Ruleset.of(FeatureConfig.defaults(),
                EventTaxonomy.defaults().canonicalNames().stream().sorted().toList(), Duration.ofDays(90),
                SegmentRules.defaults(), Scorer.NONE);
        Map<String, UserSegments> engines = new HashMap<>();
        for (UnifiedEvent e : events) {
            engines.computeIfAbsent(e.resolvedId(), id -> new UserSegments()).apply(e.resolvedId(), e, rules, 0);
        }
        long end = events.get(events.size() - 1).timestamp();
        List<Integer> sizes = new ArrayList<>();
        for (Map.Entry<String, UserSegments> user : engines.entrySet()) {
            if (!user.getValue().advanceTo(user.getKey(), end, rules, 0).cleared()) {
                ByteArrayOutputStream bytes = new ByteArrayOutputStream();
                user.getValue().writeTo(new DataOutputStream(bytes));
                sizes.add(bytes.size());
            }
        }
        int[] sorted = sizes.stream().mapToInt(Integer::intValue).sorted().toArray();
        double mean = Arrays.stream(sorted).average().orElse(0);
        out.printf("  %,d users with state, %,d events: mean %.0f B, p50 %d B, p99 %d B, max %d B%n", sorted.length,
                events.size(), mean, sorted[sorted.length / 2], sorted[(int) (sorted.length * 0.99)],
                sorted[sorted.length - 1]);
        rows.add(new Row("P6", "keyed state per user, " + days + " days",
                String.format(Locale.ROOT, "mean %.0f B, p99 %d B", mean, sorted[(int) (sorted.length * 0.99)]),
                "—", "—", "≤ 1 KB mean", mean <= 1024));
    }

    // ---- the table ------------------------------------------------------------------------------------------------------

    private void print(Duration took) {
        Runtime runtime = Runtime.getRuntime();
        out.printf("%n== cohortflow benchmarks%s: %d cores available, %s, Java %s, max heap %,d MB, "
                        + "MaxTenuringThreshold %s; %d s%n",
                quick ? " (--quick: a smoke run, the figures mean nothing)" : "", runtime.availableProcessors(),
                cpu(), System.getProperty("java.version"), runtime.maxMemory() >> 20,
                LatencyBenchmark.tenuringThreshold(), took.toSeconds());
        out.println("| # | measure | figure | peer (same run) | ratio | goal | met |");
        out.println("|---|---|---|---|---|---|---|");
        for (Row row : rows) {
            out.printf("| %s | %s | %s | %s | %s | %s | %s |%n", row.id(), row.measure(), row.figure(), row.peer(),
                    row.ratio(), row.goal(), row.met() == null ? "—" : row.met() ? "yes" : "no");
        }
    }

    /** The CPU's model name, from /proc/cpuinfo where there is one. */
    private static String cpu() {
        try {
            return java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/cpuinfo")).stream()
                    .filter(line -> line.startsWith("model name")).findFirst()
                    .map(line -> line.substring(line.indexOf(':') + 1).trim()).orElse("unknown CPU");
        } catch (IOException | RuntimeException e) {
            return "unknown CPU";
        }
    }
}
