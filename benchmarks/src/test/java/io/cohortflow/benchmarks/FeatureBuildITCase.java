package io.cohortflow.benchmarks;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * P3 small: the training's feature build on a real MiniCluster and DuckDB's SQL over the same simulated Parquet
 * history give the same rows, every one of them, features and labels. The SQL is written from core's feature code
 * independently, so this is also a parity test of {@code UserFeatures}, {@code ProfileTraits} and
 * {@code ChurnLabels} against a second implementation. 40 days, so that T − 2H (H = 14 days) has four weeks of
 * history behind it. The timings at this size mean nothing.
 */
class FeatureBuildITCase {
    @Test
    void flinkAndDuckDbComputeTheSameRows(@TempDir Path dir) throws Exception {
        FeatureBuildBenchmark.Result result = FeatureBuildBenchmark.measure(300, 40, dir, System.out);

        assertThat(result.events()).isGreaterThan(10_000);
        assertThat(result.flinkRows()).as("TRAIN, HOLDOUT and CURRENT rows of about 300 people").isGreaterThan(600);
        assertThat(result.duckdbRows()).isEqualTo(result.flinkRows());
        assertThat(result.agreeing()).as("rows that agree on every feature and label").isEqualTo(result.flinkRows());
        assertThat(result.flinkRuns()).hasSize(FeatureBuildBenchmark.RUNS).allSatisfy(s -> assertThat(s).isPositive());
        assertThat(result.duckdbRuns()).hasSize(FeatureBuildBenchmark.RUNS).allSatisfy(s -> assertThat(s).isPositive());
    }
}
