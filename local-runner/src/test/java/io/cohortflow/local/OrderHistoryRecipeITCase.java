package io.cohortflow.local;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.cohortflow.testkit.Repository;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The README's "Import your order history and train on it", line by line in bash as written, in a directory of its
 * own (conf/, sql/ and local-runner/ linked from the repository). Two changes only: the build line is skipped (this
 * build made the jar under test), and the local run gets ports of its own ({@code --web-ui-port 0 --collector-port
 * 0}). Then what each step made is checked against the export itself: every order and cancellation unified, every
 * guest checkout refused with its reason, one file per day after compaction, a churn model over everyone who ordered
 * in the year that beats recency alone, personas that hold still across seeds, and the query's customers.
 */
class OrderHistoryRecipeITCase {
    private static final Path ROOT = Repository.root();
    private static final DateTimeFormatter INVOICE_DATE = DateTimeFormatter.ofPattern("M/d/yyyy H:mm", Locale.ROOT);

    @Test
    void theRecipeImportsTrainsAndQueriesAsWritten(@TempDir Path dir) throws Exception {
        for (String linked : List.of("conf", "sql", "local-runner")) {
            Files.createSymbolicLink(dir.resolve(linked), ROOT.resolve(linked));
        }
        List<String> lines = Repository.readmeBashBlock("--retail-csv");
        assertThat(lines).hasSize(6).first().asString().startsWith("mvn ");
        List<String> outputs = new ArrayList<>();
        List<Double> seconds = new ArrayList<>();
        for (String line : lines.subList(1, lines.size())) {
            if (line.startsWith("java -jar local-runner/target/local-runner.jar")) {
                line += " --web-ui-port 0 --collector-port 0 --console-port 0";
            }
            long started = System.nanoTime();
            outputs.add(run(line, dir));
            seconds.add((System.nanoTime() - started) / 1e9);
        }
        System.out.printf("recipe steps (s): export %.1f, import %.1f, compaction %.1f, training %.1f, query %.1f%n",
                seconds.get(0), seconds.get(1), seconds.get(2), seconds.get(3), seconds.get(4));

        // The export, and what the import made of it.
        Matcher wrote = Pattern.compile("wrote orders.csv: ([\\d,]+) rows, ([\\d,]+) invoices \\(([\\d,]+) cancellations, "
                + "([\\d,]+) guest checkouts\\)").matcher(outputs.get(0));
        assertThat(wrote.find()).as(outputs.get(0)).isTrue();
        long invoices = number(wrote.group(2));
        long guests = number(wrote.group(4));
        Export export = Export.read(dir.resolve("orders.csv"));
        assertThat(export.invoices).isEqualTo(invoices);
        String imported = outputs.get(1);
        assertThat(imported).contains(String.format("%,d records from %,d rows", invoices, number(wrote.group(1))));
        assertThat(imported).contains(String.format("events.unified: %,d ", invoices - guests));
        assertThat(imported).contains(String.format("events.dlq: %,d {REFUSED=%d}", guests, guests));

        // Compaction: one file per day.
        assertThat(outputs.get(2)).contains("compaction done");
        try (Stream<Path> files = Files.walk(dir.resolve(".local-run/history"))) {
            Map<Path, Long> perDay = new HashMap<>();
            files.filter(f -> f.toString().endsWith(".parquet")).forEach(f -> perDay.merge(f.getParent(), 1L, Long::sum));
            assertThat(perDay).isNotEmpty().allSatisfy((day, n) -> assertThat(n).as(day.toString()).isEqualTo(1L));
        }

        // Training: everyone with an order in the year before the cutoff, no constant features, churn beyond recency,
        // personas that hold still.
        JsonNode manifest = new ObjectMapper().readTree(dir.resolve("orders-registry/bundle/versions/1/manifest.json").toFile());
        long cutoff = Instant.parse(manifest.get("trainingTo").asText()).toEpochMilli();
        JsonNode metrics = manifest.get("metrics");
        assertThat(metrics.get("population_now").asLong()).as(outputs.get(3))
                .isEqualTo(export.customersWithOrdersIn(cutoff - 365 * 86_400_000L, cutoff).size());
        assertThat(manifest.get("provenance").get("featuresUsed").asText().split(","))
                .doesNotContain("feature_adoption_rate", "support_tickets_60d", "avg_session_duration", "cart_adds_30d",
                        "email_engagement_30d");
        double auc = metrics.get("churn_auc").asDouble();
        double recency = metrics.get("churn_auc_recency_baseline").asDouble();
        double ari = metrics.get("persona_stability_ari").asDouble();
        System.out.printf("recipe: churn AUC %.3f, recency alone %.3f; personas k=%d, ARI across seeds %.3f; population %,d%n",
                auc, recency, metrics.get("persona_k").asInt(), ari, metrics.get("population_now").asLong());
        assertThat(auc).as(outputs.get(3)).isGreaterThan(recency + 0.01);
        assertThat(ari).isGreaterThanOrEqualTo(0.9);
        assertThat(dir.resolve("orders-report.html")).content().contains("90 days", "recency alone", "Warnings");
        assertThat(dir.resolve("user_scores.parquet")).exists();

        // The query: every customer with an order in the year up to the latest event, RFM-scored.
        String query = outputs.get(4);
        assertThat(query).startsWith("customer").contains("champion");
        long latest = export.latestOrder();
        assertThat(query).contains(String.format("(%,d rows, the first 20 shown)",
                export.customersWithOrdersIn(latest - 365 * 86_400_000L, latest).size()));
    }

    /** Runs one line in bash in {@code dir}; fails with its output unless it exits 0. */
    private static String run(String line, Path dir) throws Exception {
        Process bash = new ProcessBuilder("bash", "-c", line).directory(dir.toFile()).redirectErrorStream(true).start();
        String[] output = new String[1];
        Thread reader = new Thread(() -> {
            try {
                output[0] = new String(bash.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            } catch (java.io.IOException e) {
                output[0] = e.toString();
            }
        });
        reader.start();
        boolean done = bash.waitFor(10, TimeUnit.MINUTES);
        if (!done) {
            bash.destroyForcibly();
        }
        reader.join();
        System.out.println("$ " + line + "\n" + output[0]);
        assertThat(done).as("in time: " + line).isTrue();
        assertThat(bash.exitValue()).as(line + "\n" + output[0]).isZero();
        return output[0];
    }

    private static long number(String text) {
        return Long.parseLong(text.replace(",", ""));
    }

    /** The export read back: invoices, and each order's customer and time (London, to the minute). */
    private record Export(long invoices, List<String> customers, List<Long> times) {
        static Export read(Path csv) throws java.io.IOException {
            Set<String> invoices = new HashSet<>();
            List<String> customers = new ArrayList<>();
            List<Long> times = new ArrayList<>();
            List<String> rows = Files.readAllLines(csv);
            for (String row : rows.subList(1, rows.size())) {
                String[] cells = row.split(",(?=(?:[^\"]*\"[^\"]*\")*[^\"]*$)");
                if (invoices.add(cells[0]) && !cells[0].startsWith("C") && !cells[6].isEmpty()) {
                    customers.add(cells[6].replace(".0", ""));
                    times.add(LocalDateTime.parse(cells[4], INVOICE_DATE).atZone(ZoneId.of("Europe/London"))
                            .toInstant().toEpochMilli());
                }
            }
            return new Export(invoices.size(), customers, times);
        }

        Set<String> customersWithOrdersIn(long after, long upTo) {
            Set<String> found = new HashSet<>();
            for (int i = 0; i < customers.size(); i++) {
                if (times.get(i) > after && times.get(i) <= upTo) {
                    found.add(customers.get(i));
                }
            }
            return found;
        }

        long latestOrder() {
            return times.stream().mapToLong(Long::longValue).max().orElseThrow();
        }
    }
}
