package io.cohortflow.testkit;

import org.apache.flink.api.common.JobID;
import org.apache.flink.api.common.JobStatus;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.configuration.StateBackendOptions;
import org.apache.flink.configuration.TaskManagerOptions;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.runtime.minicluster.MiniCluster;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

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

    /** Waits up to two minutes until {@code job} on {@code cluster} has {@code status}. */
    public static void awaitStatus(MiniCluster cluster, JobID job, JobStatus status) throws Exception {
        long deadline = System.currentTimeMillis() + 120_000;
        while (cluster.getJobStatus(job).get(30, TimeUnit.SECONDS) != status) {
            if (System.currentTimeMillis() > deadline) {
                throw new AssertionError("job " + job + " not " + status + ": " + cluster.getJobStatus(job).get());
            }
            Thread.sleep(200);
        }
    }

    /**
     * The newest completed checkpoint of {@code job} under {@code checkpoints} (its {@code _metadata} written),
     * waiting up to two minutes for one.
     */
    public static Path awaitRetainedCheckpoint(Path checkpoints, JobID job) throws Exception {
        Path jobDir = checkpoints.resolve(job.toHexString());
        long deadline = System.currentTimeMillis() + 120_000;
        while (System.currentTimeMillis() < deadline) {
            if (Files.isDirectory(jobDir)) {
                try (Stream<Path> dirs = Files.list(jobDir)) {
                    Optional<Path> newest = dirs.filter(d -> d.getFileName().toString().startsWith("chk-"))
                            .filter(d -> Files.exists(d.resolve("_metadata")))
                            .max(Comparator.comparingLong(d -> Long.parseLong(d.getFileName().toString()
                                    .substring(4))));
                    if (newest.isPresent()) {
                        return newest.get();
                    }
                }
            }
            Thread.sleep(200);
        }
        throw new AssertionError("no completed checkpoint of " + job + " under " + checkpoints);
    }
}
