package io.cohortflow.training;

import io.cohortflow.core.feature.FeatureSnapshot;
import io.cohortflow.ingest.backfill.Backfill;
import io.cohortflow.ingest.mapping.RawEvent;
import io.cohortflow.simulator.RetailOrders;
import io.cohortflow.testkit.MiniClusters;
import io.cohortflow.testkit.Repository;
import org.apache.avro.generic.GenericRecord;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.parquet.avro.AvroParquetReader;
import org.apache.parquet.hadoop.ParquetReader;
import org.apache.parquet.io.LocalInputFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A retailer's order history as a new user brings it: an export of invoice lines (orders only, no page views, no
 * sessions, no email; cancellations, guest checkouts, ids as a spreadsheet writes them), imported with the shipped
 * recipe (conf/sources/online-retail.yaml: Backfill's reading of the file, ingest's mapping of each invoice). The
 * training must define churn over every customer of the past year, use only the features such a source can give,
 * beat recency alone, and give personas that hold still from seed to seed.
 */
class PurchaseOnlyTrainingITCase {
    @RegisterExtension
    static final MiniClusterExtension FLINK = MiniClusters.extension();

    private static final long DAY = 86_400_000L;
    private static final int DAYS = 400;
    private static final Instant START = Instant.parse("2025-01-06T00:00:00Z");

    @Test
    void churnCoversEveryCustomerOfTheYearBeatsRecencyAloneAndPersonasHoldStill(@TempDir Path dir) throws Exception {
        Path history = dir.resolve("history");
        // The simulator's retail mode: orders only, customers who buy at their own pace and drop out unannounced,
        // exported as invoice lines. The export's times are to the minute, so the expectations below are too.
        List<RetailOrders.Order> orders = RetailOrders.generate(31, 3_000, DAYS, START).stream()
                .map(o -> new RetailOrders.Order(o.customerId(), o.type(), o.orderId(), o.time() / 60_000 * 60_000,
                        o.revenue(), o.items())).toList();
        Path csv = dir.resolve("orders.csv");
        RetailOrders.Export export = RetailOrders.writeCsv(orders, csv, 31);
        long cutoff = START.toEpochMilli() + DAYS * DAY;
        Backfill.Input input = Backfill.Input.plan(csv, "csv", Backfill.Times.UTC,
                Backfill.layoutOf("online-retail", null));
        assertThat(input.warnings()).isEmpty();
        List<RawEvent> records = new ArrayList<>();
        input.each(bytes -> records.add(new RawEvent(bytes, "online-retail", cutoff, true)), rows -> { });
        assertThat(records).as("one record per invoice").hasSize((int) export.invoices());
        long written = io.cohortflow.ingest.history.HistoryFixtures.write(history, records, "events-0.parquet");
        assertThat(written).as("every order and cancellation reaches the history; guest checkouts are refused")
                .isEqualTo(orders.size() + export.cancellations());
        assertThat(export.guestInvoices()).isPositive();
        assertThat(export.cancellations()).isPositive();
        // The shipped features file as it is: an order export's only activity is its orders.
        Path features = Repository.root().resolve("conf/features.yaml");

        ByteArrayOutputStream progress = new ByteArrayOutputStream();
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(MiniClusters.jobConfig());
        env.setParallelism(2);
        TrainingJob.Result result = TrainingJob.run(env, TrainingOptions.parse(new String[] {
                "--history", history.toUri().toString(), "--registry", dir.resolve("registry").toUri().toString(),
                "--cutoff", Instant.ofEpochMilli(cutoff).toString(), "--horizon", "90d", "--features",
                features.toString(), "--clusters", "3-6", "--report", dir.resolve("report.html").toString()}),
                new PrintStream(progress));
        System.out.print(progress);
        System.out.printf("purchase-only: %,d orders and refunds of %,d customers%n", written,
                orders.stream().map(RetailOrders.Order::customerId).distinct().count());

        // The population: every customer with an order in the year before each feature time, lapsing ones included.
        assertThat(result.population().holdout()).extracting(TrainingRow::userId)
                .containsExactlyInAnyOrderElementsOf(customersBefore(orders, cutoff - 90 * DAY));
        assertThat(result.population().holdout()).as("customers whose last order is months old are in it")
                .anyMatch(r -> r.features()[0] > 60);
        Set<String> now = customersBefore(orders, cutoff);
        assertThat(result.population().current()).extracting(TrainingRow::userId).containsExactlyInAnyOrderElementsOf(now);

        // Only features that vary: what an order export cannot tell is dropped, and the models do not read it.
        assertThat(result.inputs().dropped()).contains("feature_adoption_rate", "support_tickets_60d",
                "cart_adds_30d", "email_engagement_30d");
        for (String used : result.inputs().names()) {
            int j = FeatureSnapshot.MODEL_FEATURES.indexOf(used);
            assertThat(result.population().train().stream().mapToDouble(r -> r.features()[j]).distinct().count())
                    .as(used).isGreaterThan(1);
        }
        assertThat(result.manifest().provenance().get("featuresUsed").split(","))
                .doesNotContainAnyElementsOf(result.inputs().dropped());

        // Churn beats recency alone on the same holdout, the baseline computed here.
        List<TrainingRow> holdout = result.population().holdout();
        double recencyAuc = auc(holdout.stream().mapToDouble(r -> r.features()[0]).toArray(),
                holdout.stream().map(TrainingRow::churned).toList());
        System.out.printf("churn AUC %.3f, recency alone %.3f; churn rate %.1f%% (train), %.1f%% (holdout)%n",
                result.churn().auc(), recencyAuc, 100 * result.population().trainChurnRate(),
                100 * result.population().holdoutChurnRate());
        assertThat(recencyAuc).isCloseTo(result.baseline().auc(), org.assertj.core.data.Offset.offset(1e-9));
        assertThat(result.churn().auc()).as("beats recency alone by a margin, not a rounding")
                .isGreaterThan(recencyAuc + 0.01);

        // Personas: the run's own stability, and three runs with other seeds agree with each other.
        List<double[]> rows = result.population().current().stream().map(TrainingRow::features).toList();
        ModelInputs inputs = ModelInputs.forPersonas(rows);
        int k = result.personas().k();
        List<int[]> bySeed = new ArrayList<>();
        for (long seed : new long[] {1, 2, 3}) {
            bySeed.add(PersonaTrainer.fit(rows, k, k, seed, PersonaNames.defaults(), inputs).assignments());
        }
        double lowest = 1;
        for (int a = 0; a < 3; a++) {
            for (int b = a + 1; b < 3; b++) {
                lowest = Math.min(lowest, PersonaTrainer.adjustedRandIndex(bySeed.get(a), bySeed.get(b)));
            }
        }
        System.out.printf("personas: k=%d, the run's stability %.3f, lowest ARI across seeds 1, 2, 3: %.3f%n", k,
                result.personas().stability(), lowest);
        assertThat(result.personas().stability()).isGreaterThanOrEqualTo(0.9);
        assertThat(lowest).isGreaterThanOrEqualTo(0.9);
        assertThat(result.personas().profiles()).allSatisfy(p -> {
            assertThat(p.size()).as("no cluster under 1% of the customers").isGreaterThanOrEqualTo(rows.size() / 100);
            if (p.name().contains("Non-Buying") || p.name().contains("Never-Buying")) {
                assertThat(p.centroid().get("monetary_value_365d")).as(p.name()).isLessThan(PersonaNames.NONE);
            }
        });
        String report = Files.readString(dir.resolve("report.html"));
        assertThat(report).contains("Warnings", "Constant in the training rows", "90 days", "recency alone");
        assertThat(dir.resolve(UserScores.FILE)).exists();
        List<String> scored = new ArrayList<>();
        readScores(dir.resolve(UserScores.FILE), scored);
        assertThat(scored).containsExactlyInAnyOrderElementsOf(now);
    }

    /** The customers with an order in the year up to {@code time}. */
    private static Set<String> customersBefore(List<RetailOrders.Order> orders, long time) {
        Set<String> customers = new HashSet<>();
        orders.stream().filter(o -> o.time() <= time && o.time() > time - 365 * DAY)
                .forEach(o -> customers.add(o.customerId()));
        return customers;
    }

    private static void readScores(Path file, List<String> users) throws Exception {
        try (ParquetReader<GenericRecord> reader = AvroParquetReader.<GenericRecord>builder(new LocalInputFile(file))
                .build()) {
            for (GenericRecord r = reader.read(); r != null; r = reader.read()) {
                users.add(r.get("user_id").toString());
                assertThat(r.get("persona").toString()).isNotBlank();
                assertThat((Double) r.get("churn")).isBetween(0.0, 1.0);
            }
        }
    }

    /** ROC AUC by ranks (Mann-Whitney), ties counted half: independent of the trainer's own evaluation. */
    static double auc(double[] scores, List<Boolean> positive) {
        long pos = positive.stream().filter(b -> b).count();
        long neg = positive.size() - pos;
        double wins = 0;
        for (int i = 0; i < scores.length; i++) {
            if (!positive.get(i)) {
                continue;
            }
            for (int j = 0; j < scores.length; j++) {
                if (!positive.get(j)) {
                    wins += scores[i] > scores[j] ? 1 : scores[i] == scores[j] ? 0.5 : 0;
                }
            }
        }
        return wins / (pos * neg);
    }
}
