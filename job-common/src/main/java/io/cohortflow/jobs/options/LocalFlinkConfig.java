package io.cohortflow.jobs.options;

import org.apache.flink.changelog.fs.FsStateChangelogOptions;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.GlobalConfiguration;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The Flink configuration of the local run, {@code conf/flink/local}: {@code config.yaml} for the MiniCluster and every
 * job, and a job's own settings over it in {@code <job>/config.yaml} (today {@code ingest-job/}), as each job's
 * FlinkDeployment in {@code k8s/base} carries its own. The local run and the benchmarks read it here, so that a
 * benchmark runs a job as the local run does.
 */
public final class LocalFlinkConfig {
    private LocalFlinkConfig() {
    }

    /** {@code dir}'s {@code config.yaml} ({@code conf/flink/local}). */
    public static Configuration shared(Path dir) {
        return GlobalConfiguration.loadConfiguration(dir.toString());
    }

    /**
     * {@code base} with {@code job}'s own settings over it ({@code dir/<job>/config.yaml}, if there is one), as a new
     * configuration.
     */
    public static Configuration forJob(Configuration base, Path dir, String job) {
        Configuration config = new Configuration(base);
        Path own = dir.resolve(job);
        if (Files.isRegularFile(own.resolve(GlobalConfiguration.FLINK_CONF_FILENAME))) {
            config.addAll(GlobalConfiguration.loadConfiguration(own.toString()));
        }
        return config;
    }

    /**
     * Points {@code config}'s checkpoints, and the changelog of state changes that a job's checkpoints may write
     * ({@code state.changelog.enabled}), into {@code dir} ({@code checkpoints/}, {@code changelog/}).
     */
    public static Configuration stateIn(Configuration config, Path dir) {
        config.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY, dir.resolve("checkpoints").toUri().toString());
        config.set(FsStateChangelogOptions.BASE_PATH, dir.resolve("changelog").toUri().toString());
        return config;
    }
}
