package io.cohortflow.benchmarks;

import io.cohortflow.testkit.KafkaTestSupport;
import io.cohortflow.testkit.Repository;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.GlobalConfiguration;
import org.apache.flink.configuration.RestartStrategyOptions;

/**
 * The Flink configuration the benchmarks run the jobs under: the local run's, as shipped ({@code conf/flink/local}:
 * parallelism 2, exactly-once checkpoints every 2 s, heap state, a 5 ms buffer timeout), so that a figure is the one a
 * user of {@code run-local.sh} gets. Two things differ: each run checkpoints into a fresh directory, and a failure
 * fails the run (no restart strategy) instead of being retried into its time.
 */
public final class LocalFlink {
    private LocalFlink() {
    }

    /** The local run's configuration, as shipped. */
    public static Configuration shipped() {
        return GlobalConfiguration.loadConfiguration(Repository.root().resolve("conf/flink/local").toString());
    }

    /** The configuration a benchmark's job runs under, checkpointing into a fresh directory named {@code prefix}…. */
    public static Configuration forRun(String prefix) {
        Configuration config = shipped();
        config.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY, KafkaTestSupport.tempDir(prefix).toUri().toString());
        config.set(RestartStrategyOptions.RESTART_STRATEGY, "none");
        return config;
    }
}
