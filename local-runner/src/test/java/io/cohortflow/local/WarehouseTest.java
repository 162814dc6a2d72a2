package io.cohortflow.local;

import io.cohortflow.core.event.EventTaxonomy;
import io.cohortflow.core.event.UnifiedEvent;
import io.cohortflow.core.event.UnifiedEventAvro;
import io.cohortflow.core.feature.FeatureConfig;
import io.cohortflow.core.testing.LegacyHistory;
import io.cohortflow.core.training.ChurnLabels;
import io.cohortflow.ingest.backfill.Backfill;
import io.cohortflow.ingest.history.HistoryCompaction;
import io.cohortflow.ingest.mapping.IngestMapper;
import io.cohortflow.ingest.mapping.RawEvent;
import io.cohortflow.simulator.Delivery;
import io.cohortflow.simulator.RetailOrders;
import io.cohortflow.simulator.Simulator;
import io.cohortflow.simulator.SimulatorConfig;
import io.cohortflow.testkit.MiniClusters;
import io.cohortflow.testkit.Repository;
import io.cohortflow.training.TrainingJob;
import io.cohortflow.training.TrainingOptions;
import org.apache.avro.generic.GenericRecord;
import org.apache.parquet.avro.AvroParquetWriter;
import org.apache.parquet.hadoop.ParquetWriter;
import org.apache.parquet.io.LocalOutputFile;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * The warehouse as an analyst meets it: a history of many small files (as ingest commits them, one per checkpoint,
 * some in the layout before the typed columns), compacted, then every query of sql/ run over it with DuckDB and held
 * to what the same events say in Java, the training population to the training's own rule.
 */
class WarehouseTest {
    private static final long DAY = 86_400_000L;
    private static final Instant START = Instant.parse("2025-10-01T00:00:00Z");
    private static final int DAYS = 120;

    @Test
    void smallFilesCompactAndTheExampleQueriesAgreeWithTheEvents(@TempDir Path dir) throws Exception {
        List<UnifiedEvent> events = events(dir);
        Path history = dir.resolve("history");
        int small = writeSmallFiles(history, events);
        long asOf = START.toEpochMilli() + DAYS * DAY;
        assertThat(small).isGreaterThan(3 * DAYS);

        // The training reads the history as it is, both layouts mixed.
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(MiniClusters.jobConfig());
        env.setParallelism(2);
        TrainingJob.Result trained = TrainingJob.run(env, TrainingOptions.parse(new String[] {"--history",
                history.toUri().toString(), "--registry", dir.resolve("registry").toUri().toString(), "--cutoff",
                Instant.ofEpochMilli(asOf).toString(), "--horizon", "30d", "--clusters", "3"}), new PrintStream(
                new ByteArrayOutputStream()));
        assertThat(trained.population().current()).isNotEmpty();

        // Compaction: one file per partition (the last day is left to live traffic), the same rows, old layout upgraded.
        ByteArrayOutputStream progress = new ByteArrayOutputStream();
        HistoryCompaction.Result compacted = HistoryCompaction.run(history.toUri().toString(), Duration.ofDays(1),
                128L << 20, 2, LocalDate.ofInstant(Instant.ofEpochMilli(asOf), ZoneOffset.UTC),
                new PrintStream(progress));
        System.out.print(progress);
        System.out.printf("compaction: %s%n", compacted);
        assertThat(compacted.filesIn()).isGreaterThan(compacted.filesOut() * 2);
        assertThat(compacted.rows()).isLessThanOrEqualTo(events.size());
        try (Stream<Path> files = Files.walk(history)) {
            Map<Path, Long> perPartition = new HashMap<>();
            files.filter(f -> f.toString().endsWith(".parquet")).forEach(f -> perPartition.merge(f.getParent(), 1L, Long::sum));
            String last = "dt=" + LocalDate.ofInstant(Instant.ofEpochMilli(asOf - 1), ZoneOffset.UTC);
            assertThat(perPartition).allSatisfy((partition, n) -> {
                if (!partition.getFileName().toString().equals(last)) {
                    assertThat(n).as(partition.toString()).isEqualTo(1L);
                }
            });
        }
        try (Connection duck = DriverManager.getConnection("jdbc:duckdb:"); Statement sql = duck.createStatement();
             ResultSet rs = sql.executeQuery("SELECT count(*), count(revenue), count(*) FILTER (WHERE properties LIKE '%products%') FROM read_parquet('"
                     + history + "/dt=*/*.parquet', hive_partitioning = true)")) {
            rs.next();
            assertThat(rs.getLong(1)).as("every event, once").isEqualTo(events.size());
            assertThat(rs.getLong(2)).as("revenue is a typed column, old files included")
                    .isEqualTo(events.stream().filter(e -> e.properties().get("revenue") instanceof Number).count());
            assertThat(rs.getLong(3)).isPositive();
        }

        String asOfText = Instant.ofEpochMilli(asOf).toString();
        Path sqlDir = Repository.root().resolve("sql");

        // Revenue by day: the orders and their revenue, to the penny.
        Sql.Result revenue = Sql.run(sqlDir.resolve("revenue_by_day.sql"), history, asOfText, 10_000);
        print("revenue_by_day", revenue);
        List<UnifiedEvent> orders = events.stream().filter(e -> "order_completed".equals(e.event())).toList();
        assertThat(revenue.rows().stream().mapToLong(r -> Long.parseLong(r.get(1))).sum()).isEqualTo(orders.size());
        assertThat(revenue.rows().stream().mapToDouble(r -> Double.parseDouble(r.get(2))).sum())
                .isCloseTo(orders.stream().mapToDouble(e -> e.numberProperty("revenue", 0)).sum(), within(0.01 * DAYS));
        assertThat(revenue.rows().stream().mapToDouble(r -> Double.parseDouble(r.get(3))).sum()).as("refunds")
                .isPositive();

        // RFM: every customer with an order in the year, scored.
        Sql.Result rfm = Sql.run(sqlDir.resolve("rfm.sql"), history, asOfText, 5);
        print("rfm", rfm);
        assertThat(rfm.total()).isEqualTo(orders.stream().filter(e -> e.timestamp() > asOf - 365 * DAY && e.timestamp() <= asOf)
                .map(UnifiedEvent::resolvedId).distinct().count());
        assertThat(rfm.rows().get(0).subList(4, 8)).containsExactly("5", "5", "5", "champion");

        // The training population: the training's own rule (ChurnLabels), person by person, in SQL.
        Sql.Result population = Sql.run(sqlDir.resolve("training_population.sql"), history, asOfText, 10);
        print("training_population", population);
        FeatureConfig config = FeatureConfig.defaults();
        ChurnLabels labels = new ChurnLabels(Duration.ofDays(30), config.activityEvents(), ChurnLabels.DEFAULT_BUNDLE_WINDOW,
                ChurnLabels.DEFAULT_LOOKBACK);
        Map<String, List<UnifiedEvent>> byUser = new TreeMap<>();
        events.forEach(e -> byUser.computeIfAbsent(e.resolvedId(), k -> new ArrayList<>()).add(e));
        long inPopulation = byUser.values().stream()
                .filter(userEvents -> labels.current(userEvents, asOf, config, List.of()).isPresent()).count();
        assertThat(population.rows().stream().mapToLong(r -> Long.parseLong(r.get(1))).sum()).isEqualTo(inPopulation)
                .as("the training's own population, read before compaction").isEqualTo(trained.population().current().size());
        assertThat(population.rows()).extracting(r -> r.get(0)).as("the lapsing are in it")
                .contains("c: last active 90-365 days ago");

        // Sessions: the web people's visits, split at 30 minutes without an active event.
        Sql.Result sessions = Sql.run(sqlDir.resolve("sessions.sql"), history, asOfText, 10_000);
        print("sessions", sessions);
        assertThat(sessions.rows().stream().mapToLong(r -> Long.parseLong(r.get(1))).sum()).isEqualTo(sessions(events));

        ByteArrayOutputStream table = new ByteArrayOutputStream();
        Sql.print(rfm, new PrintStream(table));
        assertThat(table.toString()).startsWith("customer").contains("champion", "rows, the first 5 shown");
    }

    /** A retailer's export through the shipped recipe, and a web simulation through the ingest mapper. */
    private static List<UnifiedEvent> events(Path dir) throws Exception {
        IngestMapper mapper = new IngestMapper(EventTaxonomy.defaults(), IngestMapper.loadMappings(null), 32 * 1024,
                Duration.ofHours(1), Duration.ofDays(3650));
        List<UnifiedEvent> events = new ArrayList<>();
        Path csv = dir.resolve("orders.csv");
        RetailOrders.writeCsv(RetailOrders.generate(5, 400, DAYS, START), csv, 5);
        long now = START.toEpochMilli() + DAYS * DAY;
        Backfill.Input.plan(csv, "csv", Backfill.Times.UTC, Backfill.layoutOf("online-retail", null))
                .each(bytes -> events.addAll(mapper.map(new RawEvent(bytes, "online-retail", now, true)).events()), n -> { });
        for (Delivery d : new Simulator(SimulatorConfig.of(9, 60, 14, Instant.ofEpochMilli(now - 14 * DAY))
                .withRates(0, 0, 0).withSeedStory(false))) {
            events.addAll(mapper.map(new RawEvent(d.payload(), d.source(), d.deliveredAt())).events());
        }
        return events;
    }

    /**
     * The history as ingest leaves it: per partition, a file per "checkpoint" (here every 10 events of the day), the
     * first of each partition but the live day's in the layout before the typed columns. Returns the files written.
     */
    private static int writeSmallFiles(Path history, List<UnifiedEvent> events) throws Exception {
        Map<LocalDate, List<UnifiedEvent>> byDay = new TreeMap<>();
        events.forEach(e -> byDay.computeIfAbsent(LocalDate.ofInstant(Instant.ofEpochMilli(e.timestamp()), ZoneOffset.UTC),
                k -> new ArrayList<>()).add(e));
        int files = 0;
        LocalDate last = ((TreeMap<LocalDate, List<UnifiedEvent>>) byDay).lastKey();
        for (var day : byDay.entrySet()) {
            Path partition = Files.createDirectories(history.resolve("dt=" + day.getKey()));
            List<UnifiedEvent> rows = day.getValue();
            for (int from = 0, n = 0; from < rows.size(); from += 10, n++) {
                boolean legacy = n == 0 && day.getKey().isBefore(last); // written before an upgrade
                try (ParquetWriter<GenericRecord> writer = AvroParquetWriter.<GenericRecord>builder(
                        new LocalOutputFile(partition.resolve("events-" + n + ".parquet")))
                        .withSchema(legacy ? LegacyHistory.SCHEMA : UnifiedEventAvro.SCHEMA).build()) {
                    for (UnifiedEvent e : rows.subList(from, Math.min(rows.size(), from + 10))) {
                        writer.write(legacy ? LegacyHistory.record(e) : UnifiedEventAvro.toRecord(e));
                    }
                }
                files++;
            }
        }
        return files;
    }

    /** Sessions as sql/sessions.sql defines them, counted in Java. */
    private static long sessions(List<UnifiedEvent> events) {
        Set<String> passive = Set.of("email_opened", "payment_succeeded", "subscription_renewed", "trial_ending",
                "order_refunded");
        Map<String, List<Long>> times = new HashMap<>();
        events.stream().filter(e -> e.event() != null && !passive.contains(e.event()))
                .forEach(e -> times.computeIfAbsent(e.resolvedId(), k -> new ArrayList<>()).add(e.timestamp()));
        long sessions = 0;
        for (List<Long> t : times.values()) {
            t.sort(Long::compare);
            for (int i = 0; i < t.size(); i++) {
                sessions += i == 0 || t.get(i) - t.get(i - 1) > 30 * 60_000L ? 1 : 0;
            }
        }
        return sessions;
    }

    private static void print(String name, Sql.Result result) {
        System.out.println("-- " + name);
        Sql.print(new Sql.Result(result.columns(), result.rows().subList(0, Math.min(5, result.rows().size())),
                result.total()), System.out);
    }
}
