package io.cohortflow.testkit;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.configuration.StateBackendOptions;
import org.apache.flink.configuration.TaskManagerOptions;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.flink.configuration.CheckpointingOptions;

import java.time.Duration;

/** The Flink MiniCluster the integration tests share: two task managers of two slots, as on a small real cluster. */
public final class MiniClusters {
    public static final int PARALLELISM = 2;

    private MiniClusters() {
    }

    public static MiniClusterExtension extension() {
        return new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
                .setNumberTaskManagers(2)
                .setNumberSlotsPerTaskManager(2)
                .setConfiguration(clusterConfig())
                .build());
    }

    static Configuration clusterConfig() {
        Configuration config = new Configuration();
        config.set(TaskManagerOptions.MANAGED_MEMORY_SIZE, org.apache.flink.configuration.MemorySize.parse("64m"));
        return config;
    }

    /**
     * Job settings for tests: frequent checkpoints (exactly-once sinks commit on them) to files in a temporary
     * directory (the JobManager's memory storage caps state at 5 MB), and no restarts, so a failing job fails the test
     * instead of restarting forever.
     */
    public static Configuration jobConfig() {
        Configuration config = new Configuration();
        config.set(CheckpointingOptions.CHECKPOINTING_INTERVAL, Duration.ofMillis(500));
        config.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY,
                KafkaTestSupport.tempDir("checkpoints-").toUri().toString());
        config.set(RestartStrategyOptions.RESTART_STRATEGY, "none");
        config.set(StateBackendOptions.STATE_BACKEND, "hashmap");
        return config;
    }
}
