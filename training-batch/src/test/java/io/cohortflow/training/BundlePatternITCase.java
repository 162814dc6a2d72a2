package io.cohortflow.training;

import io.cohortflow.simulator.Simulator;
import io.cohortflow.simulator.SimulatorConfig;
import io.cohortflow.testkit.MiniClusters;
import org.apache.avro.generic.GenericRecord;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.parquet.avro.AvroParquetReader;
import org.apache.parquet.hadoop.ParquetReader;
import org.apache.parquet.io.LocalInputFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The seed's bundle pattern, learnt: in a population simulated with a seed of its own, some people view a high-value
 * product, add it to the cart and browse related but different categories, and most of them come back within 72 hours
 * to buy a bundle. Trained on the history, the bundle-propensity model must score the people showing the pattern at
 * the cutoff who never bought anything clearly above the people who show none of it: the pattern itself, not a
 * purchase history, is what it learnt. No id of the seed story is involved.
 */
class BundlePatternITCase {
    @RegisterExtension
    static final MiniClusterExtension FLINK = MiniClusters.extension();

    private static final Instant START = Instant.parse("2026-02-02T00:00:00Z");
    private static final long DAY = 86_400_000L;
    private static final int DAYS = 35;

    @Test
    void peopleBuildingALookScoreAboveThoseWhoDoNot(@TempDir Path dir) throws Exception {
        Path history = dir.resolve("history");
        TrainingJobITCase.writeHistory(history, new Simulator(SimulatorConfig.of(61, 3_000, DAYS, START)
                .withRates(0, 0, 0).withSeedStory(false)));
        TrainingJob.Result result = TrainingJobITCase.train(
                "--history", history.toUri().toString(), "--registry", dir.resolve("registry").toUri().toString(),
                "--cutoff", Instant.ofEpochMilli(START.toEpochMilli() + DAYS * DAY).toString(), "--horizon", "7d",
                "--bundle-window", "72h", "--samples", "7", "--report", dir.resolve("report.html").toString());

        List<Double> pattern = new ArrayList<>();
        List<Double> none = new ArrayList<>();
        try (ParquetReader<GenericRecord> reader = AvroParquetReader.<GenericRecord>builder(
                new LocalInputFile(dir.resolve(UserScores.FILE))).build()) {
            for (GenericRecord r = reader.read(); r != null; r = reader.read()) {
                if ((Double) r.get("purchases_365d") > 0) {
                    continue; // never bought: what they do now is all there is to go on
                }
                double score = (Double) r.get("bundle_propensity");
                double cart = (Double) r.get("cart_value");
                double dearest = (Double) r.get("max_price_viewed_24h");
                double around = (Double) r.get("categories_after_cart_24h");
                if (cart >= 139 && dearest >= 139 && around >= 1) {
                    pattern.add(score);
                } else if (cart == 0 && around == 0) {
                    none.add(score);
                }
            }
        }
        double patternMean = pattern.stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
        double noneMean = none.stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
        long likely = pattern.stream().filter(p -> p >= 0.6).count();
        System.out.printf("bundle pattern: %d people showing it, never bought, mean bundle propensity %.3f (%d of them"
                        + " at 0.6 or more); %d showing none of it, never bought, %.3f; bundle AUC %.3f (holdout), churn"
                        + " AUC %.3f%n", pattern.size(), patternMean, likely, none.size(), noneMean,
                result.bundle().auc(), result.churn().auc());
        for (double threshold : new double[] {0.1, 0.15, 0.2, 0.25}) {
            System.out.printf("  at bundle propensity >= %.2f: %d of %d showing the pattern, %d of %d showing none%n",
                    threshold, pattern.stream().filter(p -> p >= threshold).count(), pattern.size(),
                    none.stream().filter(p -> p >= threshold).count(), none.size());
        }
        assertThat(pattern).as("people at the cutoff showing the pattern, never bought").hasSizeGreaterThanOrEqualTo(10);
        assertThat(none).hasSizeGreaterThanOrEqualTo(100);
        assertThat(patternMean).as("clearly higher").isGreaterThan(0.2).isGreaterThan(10 * noneMean);
        assertThat(result.bundle().auc()).isGreaterThan(0.9);
        // conf/segments.yaml's bundle_buyer_high_propensity threshold is set from these figures.
        assertThat(pattern.stream().filter(p -> p >= 0.15).count()).as("most of the pattern's prospects at 0.15")
                .isGreaterThanOrEqualTo(Math.round(0.8 * pattern.size()));
        assertThat(none.stream().filter(p -> p >= 0.15).count()).as("almost nobody else").isLessThanOrEqualTo(none.size() / 200);
    }
}
