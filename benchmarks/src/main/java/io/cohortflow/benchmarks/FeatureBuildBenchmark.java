package io.cohortflow.benchmarks;

import io.cohortflow.core.config.ConfFiles;
import io.cohortflow.core.feature.FeatureSnapshot;
import io.cohortflow.training.TrainingJob;
import io.cohortflow.training.TrainingOptions;
import io.cohortflow.training.TrainingRow;
import io.cohortflow.training.bench.TrainingScaleBenchmark;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.MemorySize;
import org.apache.flink.configuration.TaskManagerOptions;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.minicluster.MiniClusterConfiguration;
import org.apache.flink.streaming.util.TestStreamEnvironment;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * P3 of issue "Speed to lead": the training's feature build (phase 1 of {@link TrainingJob}: read the Parquet history,
 * key it by user, compute every user's point-in-time rows) against DuckDB computing the same rows with SQL over the
 * same files, in the same run, and the two row sets compared one by one.
 *
 * <p>The history is simulated and written once ({@link TrainingScaleBenchmark#write}); the cutoff T is its end, the
 * horizon H 14 days, the bundle window 72 hours, the lookback 365 days (the training's defaults). Each side runs
 * five times, one after the other, and its best run counts: the first of each pays for class loading and JIT (Flink
 * keeps getting faster over its first four or so runs in a fresh JVM: with three, the figure still measured its
 * warm-up) or a cold start (DuckDB).
 * <ul>
 *   <li>Flink: {@link TrainingJob#features}, BATCH, parallelism 2 on a local MiniCluster (one task manager, two
 *       slots, 2 GB managed memory, as {@link TrainingScaleBenchmark} runs the training), started before the clock
 *       starts, as a cluster is already up when the nightly job is submitted. Timed from the job's build to the last
 *       row collected in the client.</li>
 *   <li>DuckDB: in-process (JDBC, an in-memory database, {@value #PARALLELISM} threads), the query of
 *       feature-build.sql next to this class, timed from opening the connection to the last row read into the
 *       client. The query is the features, labels and population written again from core's Java code
 *       ({@code UserFeatures}, {@code ProfileTraits}, {@code ChurnLabels}), not Java results handed to DuckDB, so the
 *       comparison also tests the feature code against an independent implementation.</li>
 * </ul>
 * A row agrees when both sides have it (same user and split), its 15 {@link FeatureSnapshot#MODEL_FEATURES} agree
 * within a relative 1e-9 (sums of money add up in another order), and so do its two labels.
 *
 * <pre>
 * mvn -q -DskipTests install
 * mvn -q -pl benchmarks exec:exec -Dexec.executable=java \
 *     -Dexec.args="-Xmx6g -cp %classpath io.cohortflow.benchmarks.FeatureBuildBenchmark 5000 40 /tmp/p3"
 * </pre>
 * Arguments: people, days, and a directory for the history (its {@code history} folder must not exist yet).
 */
public final class FeatureBuildBenchmark {
    /** The training's horizon H (its default), for which T − 2H needs about 4 weeks of history. */
    public static final Duration HORIZON = Duration.ofDays(14);
    static final String SQL_RESOURCE = "feature-build.sql";
    private static final double TOLERANCE = 1e-9;
    static final int RUNS = 5;
    /** Flink's parallelism and DuckDB's threads: the same on any machine. */
    static final int PARALLELISM = 2;
    /** Disagreements printed in full; the rest are counted by feature. */
    private static final int SHOWN = 10;

    /**
     * What a run measured.
     *
     * @param events        the history's events (as the Flink job read them)
     * @param flinkSeconds  the Flink feature build's best run
     * @param duckdbSeconds DuckDB's best run
     * @param ratio         flinkSeconds / duckdbSeconds (goal ≤ 2)
     * @param flinkRows     rows (TRAIN, HOLDOUT and CURRENT) the Flink job produced
     * @param duckdbRows    rows the SQL produced
     * @param agreeing      rows both sides have that agree on every model feature and both labels
     * @param flinkRuns     each Flink run's seconds, in order
     * @param duckdbRuns    each DuckDB run's seconds, in order
     */
    public record Result(int users, long events, double flinkSeconds, double duckdbSeconds, double ratio,
                         int flinkRows, int duckdbRows, int agreeing, List<Double> flinkRuns,
                         List<Double> duckdbRuns) {
        /** Every row of each side is in the other, and agrees with it. */
        public boolean allAgree() {
            return flinkRows == duckdbRows && agreeing == flinkRows;
        }
    }

    /** One row of either side: the model features by {@link FeatureSnapshot#MODEL_FEATURES} order, and the labels. */
    record Row(String user, TrainingRow.Split split, double[] features, boolean churned, boolean boughtBundle) {
        String key() {
            return split + " " + user;
        }
    }

    private FeatureBuildBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 3) {
            throw new IllegalArgumentException("arguments: people days directory");
        }
        Result result = measure(Integer.parseInt(args[0]), Integer.parseInt(args[1]), Path.of(args[2]), System.out);
        System.out.println(result);
        System.exit(0); // the MiniCluster's non-daemon threads
    }

    /**
     * Writes the history of {@code users} people over {@code days} days under {@code dir}, runs the Flink feature build
     * and DuckDB over it five times each, and compares their rows; prints progress, the timings and the first
     * disagreements to {@code out}.
     */
    public static Result measure(int users, int days, Path dir, PrintStream out) throws Exception {
        out.printf("== P3: feature build over the Parquet history (%,d people, %d days) against DuckDB%n", users, days);
        TrainingScaleBenchmark.History history = TrainingScaleBenchmark.write(users, days, dir, out);
        long cutoff = history.cutoff().toEpochMilli();
        TrainingOptions options = TrainingOptions.parse(new String[] {"--history", history.path().toUri().toString(),
                "--registry", dir.resolve("registry").toUri().toString(), "--cutoff", history.cutoff().toString(),
                "--horizon", HORIZON.toDays() + "d"});

        List<Double> flinkRuns = new ArrayList<>();
        TrainingJob.Features features = null;
        Configuration conf = new Configuration();
        conf.set(TaskManagerOptions.MANAGED_MEMORY_SIZE, MemorySize.ofMebiBytes(2048));
        long clusterStart = System.nanoTime();
        try (MiniCluster cluster = new MiniCluster(new MiniClusterConfiguration.Builder().setConfiguration(conf)
                .setNumTaskManagers(1).setNumSlotsPerTaskManager(PARALLELISM).build())) {
            cluster.start();
            out.printf("flink: local cluster up in %.1f s (not timed)%n", seconds(clusterStart));
            for (int run = 1; run <= RUNS; run++) {
                long start = System.nanoTime();
                features = TrainingJob.features(new TestStreamEnvironment(cluster, PARALLELISM), options, out);
                flinkRuns.add(seconds(start));
                out.printf("flink run %d: %,d events read, %,d + %,d + %,d rows in %.2f s%n", run, features.events(),
                        features.train().size(), features.holdout().size(), features.current().size(),
                        flinkRuns.get(run - 1));
            }
        }
        List<Row> flink = new ArrayList<>();
        for (List<TrainingRow> split : List.of(features.train(), features.holdout(), features.current())) {
            split.forEach(r -> flink.add(new Row(r.userId(), r.split(), r.features(), r.churned(), r.boughtBundle())));
        }

        List<Double> duckdbRuns = new ArrayList<>();
        List<Row> duckdb = null;
        String sql = sql(history.path(), cutoff, options);
        for (int run = 1; run <= RUNS; run++) {
            long start = System.nanoTime();
            duckdb = duckdb(sql);
            duckdbRuns.add(seconds(start));
            out.printf("duckdb run %d: %,d rows in %.2f s (%d threads)%n", run, duckdb.size(),
                    duckdbRuns.get(run - 1), PARALLELISM);
        }

        int agreeing = compare(flink, duckdb, out);
        double flinkBest = flinkRuns.stream().mapToDouble(Double::doubleValue).min().orElseThrow();
        double duckdbBest = duckdbRuns.stream().mapToDouble(Double::doubleValue).min().orElseThrow();
        Result result = new Result(users, features.events(), flinkBest, duckdbBest, flinkBest / duckdbBest,
                flink.size(), duckdb.size(), agreeing, List.copyOf(flinkRuns), List.copyOf(duckdbRuns));
        out.printf("P3: %,d people, %,d events: flink %.2f s (runs %s), duckdb %.2f s (runs %s): %.1f× (goal ≤ 2×); "
                        + "rows flink %,d, duckdb %,d, agreeing %,d%n", users, result.events(), flinkBest,
                runs(flinkRuns), duckdbBest, runs(duckdbRuns), result.ratio(), flink.size(), duckdb.size(), agreeing);
        return result;
    }

    /**
     * The query of {@link #SQL_RESOURCE} for this history and these options, with conf/features.yaml's lists and settings read
     * from the file itself (not through {@code FeatureConfig}, whose sets the query is meant to check).
     */
    static String sql(Path history, long cutoff, TrainingOptions options) {
        if (options.samples() != 1 || options.features() != null) {
            throw new IllegalArgumentException("the SQL computes one training row per user, with the shipped features");
        }
        Map<?, ?> features = ConfFiles.read(ConfFiles.defaultLocation("features.yaml"), Map.class);
        List<?> keyFeatures = (List<?>) features.get("keyFeatures");
        Map<String, String> values = new HashMap<>();
        values.put("files", history.toAbsolutePath().toString().replace("'", "''") + "/**/*.parquet");
        values.put("T", millis(cutoff));
        values.put("H", millis(options.horizon().toMillis()));
        values.put("lookback", millis(options.lookback().toMillis()));
        values.put("bundleWindow", millis(options.bundleWindow().toMillis()));
        values.put("sessionGap", millis(Duration.ofMinutes(((Number) features.get("sessionGapMinutes"))
                .longValue()).toMillis()));
        values.put("passive", list(features.get("passiveEvents")));
        values.put("revenue", list(features.get("revenueEvents")));
        values.put("activity", list(features.get("activityEvents")));
        values.put("keyFeatures", list(keyFeatures));
        values.put("keyFeatureCount", Integer.toString(keyFeatures.size()));
        Matcher m = Pattern.compile("\\$\\{(\\w+)}").matcher(resource(SQL_RESOURCE));
        StringBuilder sql = new StringBuilder();
        while (m.find()) {
            String value = values.get(m.group(1));
            if (value == null) {
                throw new IllegalStateException(SQL_RESOURCE + " has a placeholder with no value: " + m.group());
            }
            m.appendReplacement(sql, Matcher.quoteReplacement(value));
        }
        return m.appendTail(sql).toString();
    }

    /** Runs {@code sql} (its macros, then the query) on a fresh in-memory DuckDB; returns the query's rows. */
    static List<Row> duckdb(String sql) throws SQLException {
        List<String> statements = Arrays.stream(sql.split(";\\s*(\\n|$)")).map(String::strip)
                .filter(s -> !s.lines().allMatch(line -> line.isBlank() || line.strip().startsWith("--"))).toList();
        List<Row> rows = new ArrayList<>();
        try (Connection duck = DriverManager.getConnection("jdbc:duckdb:"); Statement statement = duck.createStatement()) {
            statement.execute("SET threads = " + PARALLELISM);
            for (String s : statements.subList(0, statements.size() - 1)) {
                statement.execute(s);
            }
            try (ResultSet rs = statement.executeQuery(statements.get(statements.size() - 1))) {
                List<String> names = FeatureSnapshot.MODEL_FEATURES;
                while (rs.next()) {
                    double[] values = new double[names.size()];
                    for (int i = 0; i < values.length; i++) {
                        values[i] = rs.getDouble(names.get(i));
                        if (rs.wasNull()) { // read as 0, it could agree with a 0 it is not
                            throw new IllegalStateException("the SQL gave no " + names.get(i) + " for "
                                    + rs.getString("user_id") + " " + rs.getString("split"));
                        }
                    }
                    rows.add(new Row(rs.getString("user_id"), TrainingRow.Split.valueOf(rs.getString("split")), values,
                            rs.getBoolean("churned"), rs.getBoolean("bought_bundle")));
                }
            }
        }
        return rows;
    }

    /**
     * Matches the rows by user and split; prints how many each side has, which are missing on either, and the first
     * disagreements (user, split, feature, both values) with a count by feature. Returns the rows that agree.
     */
    static int compare(List<Row> flink, List<Row> duckdb, PrintStream out) {
        Map<String, Row> sql = new LinkedHashMap<>();
        duckdb.forEach(r -> sql.put(r.key(), r));
        List<String> names = new ArrayList<>(FeatureSnapshot.MODEL_FEATURES);
        names.addAll(List.of("churned", "bought_bundle"));
        Map<String, Integer> byFeature = new LinkedHashMap<>();
        int agreeing = 0;
        int onlyFlink = 0;
        int shown = 0;
        for (Row f : flink) {
            Row d = sql.remove(f.key());
            if (d == null) {
                if (onlyFlink++ < SHOWN) {
                    out.printf("  only in flink: %s%n", f.key());
                }
                continue;
            }
            boolean agrees = true;
            for (int i = 0; i < names.size(); i++) {
                double a = value(f, i);
                double b = value(d, i);
                boolean same = Double.isNaN(a) ? Double.isNaN(b) // NaN is no number: it agrees only with NaN
                        : Math.abs(a - b) <= TOLERANCE * Math.max(1, Math.max(Math.abs(a), Math.abs(b)));
                if (!same) {
                    agrees = false;
                    byFeature.merge(names.get(i), 1, Integer::sum);
                    if (shown++ < SHOWN) {
                        out.printf("  disagree: %s %s: flink %s, duckdb %s%n", f.key(), names.get(i), a, b);
                    }
                }
            }
            agreeing += agrees ? 1 : 0;
        }
        sql.keySet().stream().limit(SHOWN).forEach(k -> out.printf("  only in duckdb: %s%n", k));
        out.printf("rows: flink %,d, duckdb %,d; %,d only in flink, %,d only in duckdb; %,d agree on all %d features "
                        + "and both labels%s%n", flink.size(), duckdb.size(), onlyFlink, sql.size(), agreeing,
                FeatureSnapshot.MODEL_FEATURES.size(), byFeature.isEmpty() ? ""
                        : "; disagreements by feature: " + byFeature.entrySet().stream()
                        .map(e -> e.getKey() + " " + e.getValue()).collect(Collectors.joining(", ")));
        return agreeing;
    }

    /** The i-th compared value: a model feature, then the two labels as 0 or 1. */
    private static double value(Row row, int i) {
        int n = row.features().length;
        if (i < n) {
            return row.features()[i];
        }
        boolean label = i == n ? row.churned() : row.boughtBundle();
        return label ? 1 : 0;
    }

    /** Milliseconds as a BIGINT literal: products of two INTEGER literals overflow in DuckDB. */
    private static String millis(long ms) {
        return "CAST(" + ms + " AS BIGINT)";
    }

    /**
     * A YAML list as the items of an SQL {@code IN (...)}; an empty list as a query of no rows, for which {@code IN} is
     * false and {@code NOT IN} true (a NULL would make {@code NOT IN} unknown).
     */
    static String list(Object yamlList) {
        List<?> items = yamlList == null ? List.of() : (List<?>) yamlList;
        return items.isEmpty() ? "SELECT NULL::VARCHAR WHERE false" : items.stream().map(item -> "'" + item.toString().replace("'", "''") + "'")
                .collect(Collectors.joining(", "));
    }

    private static String resource(String name) {
        try (InputStream in = FeatureBuildBenchmark.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException(name + " is not on the classpath next to " + FeatureBuildBenchmark.class);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String runs(List<Double> runs) {
        return runs.stream().map(s -> String.format("%.2f", s)).collect(Collectors.joining(", "));
    }

    private static double seconds(long startNanos) {
        return (System.nanoTime() - startNanos) / 1e9;
    }
}
