package io.cohortflow.benchmarks;

import io.cohortflow.jobs.options.LocalFlinkConfig;
import io.cohortflow.testkit.KafkaTestSupport;
import io.cohortflow.testkit.Repository;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.configuration.StateBackendOptions;
import org.apache.flink.configuration.StateChangelogOptions;

import java.nio.file.Path;
import java.util.List;

/**
 * The Flink configuration the benchmarks run the jobs under: the local run's, as shipped ({@code conf/flink/local}:
 * parallelism 2, exactly-once checkpoints every 2 s, heap state, a 5 ms buffer timeout; and a job's own settings over
 * it, {@code conf/flink/local/<job>}: the ingest job's checkpoints write the changelog of its state's changes), so that
 * a figure is the one a user of {@code run-local.sh} gets. Two things differ: each run checkpoints (and keeps its
 * changelog) in a fresh directory, and a failure fails the run (no restart strategy) instead of being retried into its
 * time.
 */
public final class LocalFlink {
    /** The settings of how the local run keeps state: the backend, and the changelog a job's checkpoints may write. */
    private static final List<ConfigOption<?>> STATE = List.of(StateBackendOptions.STATE_BACKEND,
            StateChangelogOptions.ENABLE_STATE_CHANGE_LOG, StateChangelogOptions.STATE_CHANGE_LOG_STORAGE,
            StateChangelogOptions.PERIODIC_MATERIALIZATION_INTERVAL);

    private LocalFlink() {
    }

    private static Path dir() {
        return Repository.root().resolve("conf/flink/local");
    }

    /** The local run's configuration, as shipped (what every job and the MiniCluster get). */
    public static Configuration shipped() {
        return LocalFlinkConfig.shared(dir());
    }

    /** {@code config} with {@code job}'s own settings in the local run over it ({@code conf/flink/local/<job>}). */
    public static Configuration forJob(Configuration config, String job) {
        return LocalFlinkConfig.forJob(config, dir(), job);
    }

    /**
     * The configuration {@code job} ({@code ingest-job}, {@code segmentation-job}) runs under in a benchmark's run,
     * checkpointing into a fresh directory named {@code prefix}….
     */
    public static Configuration forRun(String job, String prefix) {
        Configuration config = LocalFlinkConfig.stateIn(forJob(shipped(), job), KafkaTestSupport.tempDir(prefix));
        config.set(RestartStrategyOptions.RESTART_STRATEGY, "none");
        return config;
    }

    /**
     * {@code config} with the local run's shared state settings as shipped (the backend, where a job's changelog goes),
     * its checkpoints and changelog in a fresh directory named {@code prefix}…, for a benchmark that sets the rest
     * itself and runs each job with its own settings ({@link #forJob}).
     */
    public static Configuration withShippedState(Configuration config, String prefix) {
        Configuration shipped = shipped();
        for (ConfigOption<?> option : STATE) {
            copy(shipped, option, config);
        }
        return LocalFlinkConfig.stateIn(config, KafkaTestSupport.tempDir(prefix));
    }

    private static <T> void copy(Configuration from, ConfigOption<T> option, Configuration to) {
        to.set(option, from.get(option));
    }
}
