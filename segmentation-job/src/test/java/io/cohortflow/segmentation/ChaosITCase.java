package io.cohortflow.segmentation;

import io.cohortflow.core.config.TopicsConfig;
import io.cohortflow.core.segment.SegmentChange;
import io.cohortflow.kafka.local.LocalKafkaBroker;
import io.cohortflow.testkit.KafkaTestSupport;
import io.cohortflow.testkit.MiniClusters;
import org.apache.flink.api.common.JobID;
import org.apache.flink.api.common.JobStatus;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.ExternalizedCheckpointRetention;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.configuration.TaskManagerOptions;
import org.apache.flink.configuration.MemorySize;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.runtime.jobgraph.SavepointRestoreSettings;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.minicluster.MiniClusterConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.graph.StreamGraph;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Exactly-once, proven: the live segmentation job over a merge-heavy input fed in chunks, with failures in between,
 * against a clean run over the same input. The failures:
 * <ol>
 *   <li>three TaskManagers killed mid-run (each time one running the job's tasks; a fresh one joins, the job restarts
 *       from its last checkpoint);</li>
 *   <li>a crash: the job cancelled with no savepoint, as a JVM dies, and a new job started from the last retained
 *       checkpoint;</li>
 *   <li>the broker stopped for several seconds and restarted on the same directory and ports while the job runs; the
 *       job rides it out and works off the backlog.</li>
 * </ol>
 * Then the changes, read with read_committed, must be exactly the clean run's: same change ids and contents, no
 * duplicates, none missing. The broker and the Flink cluster are this test's own (both are taken down).
 */
class ChaosITCase {
    private static final int CHUNKS = 8;

    @TempDir
    Path dir;

    @Test
    void failuresACrashAndABrokerRestartLeaveTheChangesExactlyAsACleanRun() throws Exception {
        int port = LocalKafkaBroker.freePort();
        int controllerPort = LocalKafkaBroker.freePort();
        Path kafkaDir = dir.resolve("kafka");
        LocalKafkaBroker broker = LocalKafkaBroker.start(kafkaDir, false, port, controllerPort);
        MiniCluster cluster = new MiniCluster(new MiniClusterConfiguration.Builder()
                .setNumTaskManagers(2).setNumSlotsPerTaskManager(1).setConfiguration(clusterConfig()).build());
        cluster.start();
        try {
            LoopedRuns.Input input = LoopedRuns.mergeHeavyInput(broker, "chaos", 150, 3);
            long links = input.mergedLinks();
            TopicsConfig in = KafkaTestSupport.uniqueTopics(broker, "chaos-in");
            TopicsConfig chaosOut = KafkaTestSupport.uniqueTopics(broker, "chaos-out");
            Path checkpoints = dir.resolve("checkpoints");

            // The chaos run: the input arrives in chunks, a failure after each of the first five.
            LoopedRuns.write(broker, in.name(TopicsConfig.MERGES), input.merges());
            JobID job = submit(cluster, broker, in, chaosOut, checkpoints, null);
            int size = input.unified().size();
            int taskManager = 0;
            for (int chunk = 0; chunk < CHUNKS; chunk++) {
                LoopedRuns.write(broker, in.name(TopicsConfig.UNIFIED),
                        input.unified().subList(chunk * size / CHUNKS, (chunk + 1) * size / CHUNKS));
                MiniClusters.awaitStatus(cluster, job, JobStatus.RUNNING);
                Thread.sleep(1_500); // let it work on the chunk, and checkpoint
                switch (chunk) {
                    case 0, 1, 2 -> {
                        // A TaskManager dies; a fresh one joins. Indexes grow: 0 and 1 run first, then 1 and 2...
                        cluster.terminateTaskManager(taskManager++).get(1, TimeUnit.MINUTES);
                        cluster.startTaskManager();
                        System.out.printf("chaos: TaskManager %d killed after chunk %d%n", taskManager - 1, chunk);
                    }
                    case 3 -> {
                        MiniClusters.awaitRetainedCheckpoint(checkpoints, job);
                        cluster.cancelJob(job).get(1, TimeUnit.MINUTES); // the JVM dies: no savepoint
                        MiniClusters.awaitStatus(cluster, job, JobStatus.CANCELED);
                        // The last checkpoint it completed (an older one would replay what newer ones committed).
                        Path retained = MiniClusters.awaitRetainedCheckpoint(checkpoints, job);
                        job = submit(cluster, broker, in, chaosOut, checkpoints, retained.toString());
                        System.out.printf("chaos: crashed after chunk %d, restored from %s%n", chunk, retained.getFileName());
                    }
                    case 4 -> {
                        broker.close();
                        Thread.sleep(8_000);
                        broker = LocalKafkaBroker.start(kafkaDir, false, port, controllerPort);
                        System.out.printf("chaos: broker down 8 s after chunk %d, back on the same directory%n", chunk);
                    }
                    default -> { }
                }
            }
            LoopedRuns.awaitHandoffs(broker, links, chaosOut, 300_000);
            drain(cluster, job, dir.resolve("drain-chaos"), "chaos run");
            List<SegmentChange> chaos = PipelineITCase.changes(broker, chaosOut);

            // The clean run, over the same input, now complete.
            TopicsConfig cleanOut = KafkaTestSupport.uniqueTopics(broker, "chaos-clean");
            JobID clean = submit(cluster, broker, in, cleanOut, dir.resolve("checkpoints-clean"), null);
            LoopedRuns.awaitHandoffs(broker, links, cleanOut, 300_000);
            drain(cluster, clean, dir.resolve("drain-clean"), "clean run");
            List<SegmentChange> expected = PipelineITCase.changes(broker, cleanOut);

            Set<String> expectedLines = LoopedRuns.comparable(expected);
            List<String> difference = LoopedRuns.difference(expectedLines, LoopedRuns.comparable(chaos));
            System.out.printf("chaos: %d changes in the clean run, %d in the chaos run, %d duplicate ids, "
                            + "set difference %d%n", expected.size(), chaos.size(),
                    chaos.size() - chaos.stream().map(SegmentChange::changeId).distinct().count(), difference.size());
            if (!difference.isEmpty()) {
                LoopedRuns.printFirstDifferentUser(broker, in, difference, expected, chaos, cleanOut, chaosOut);
            }
            assertThat(expected).hasSizeGreaterThan(300);
            assertThat(chaos.stream().map(SegmentChange::changeId).distinct().count()).as("no duplicates")
                    .isEqualTo(chaos.size());
            assertThat(difference).as("the chaos run's changes against the clean run's").isEmpty();
            assertThat(LoopedRuns.perUserOrder(chaos)).isEqualTo(LoopedRuns.perUserOrder(expected));
        } finally {
            cluster.close();
            broker.close();
        }
    }

    /** Checkpoints every 500 ms, kept on cancellation; restarts without end (a failure must be ridden out). */
    private static JobID submit(MiniCluster cluster, LocalKafkaBroker broker, TopicsConfig in, TopicsConfig out,
                                Path checkpoints, String restoreFrom) throws Exception {
        Configuration config = MiniClusters.jobConfig();
        config.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY, checkpoints.toUri().toString());
        config.set(CheckpointingOptions.EXTERNALIZED_CHECKPOINT_RETENTION,
                ExternalizedCheckpointRetention.RETAIN_ON_CANCELLATION);
        config.set(RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");
        config.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, 1_000);
        config.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY, Duration.ofMillis(500));
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(config);
        // No partition goes idle in the pauses a failure makes: event time moves with the input alone.
        PipelineITCase.segmentation(broker, in, out, 2, "--idleness", "10m").addTo(env, false);
        StreamGraph graph = env.getStreamGraph();
        if (restoreFrom != null) {
            graph.setSavepointRestoreSettings(SavepointRestoreSettings.forPath(restoreFrom));
        }
        return cluster.submitJob(graph).get(1, TimeUnit.MINUTES).getJobID();
    }

    private static Configuration clusterConfig() {
        Configuration config = new Configuration();
        config.set(TaskManagerOptions.MANAGED_MEMORY_SIZE, MemorySize.parse("64m"));
        return config;
    }

    /**
     * Stops a run with a savepoint once its tasks all run. After the broker came back, a task of the chaos run can
     * still fail on a transaction the restart cut off and be restarted by its region's failover, while the job's status
     * stays RUNNING: a savepoint refused then ("not all required tasks are currently running") is asked for again, up
     * to a minute, as an operator would. Each refusal prints what was not running and the job's last failure, so it
     * says why (that is how an empty input, a clean run still waiting for slots, was found). A restart changes no
     * output of an exactly-once job: what the runs wrote is what the test checks.
     */
    private static void drain(MiniCluster cluster, JobID job, Path savepoint, String run) throws Exception {
        long deadline = System.currentTimeMillis() + 60_000;
        while (true) {
            MiniClusters.awaitStatus(cluster, job, JobStatus.RUNNING);
            try {
                cluster.stopWithSavepoint(job, savepoint.toUri().toString(), true, SavepointFormatType.CANONICAL)
                        .get(2, TimeUnit.MINUTES);
                return;
            } catch (java.util.concurrent.ExecutionException e) {
                boolean restarting = org.apache.flink.util.ExceptionUtils.findThrowableWithMessage(e,
                        "Not all required tasks are currently running").isPresent();
                System.out.printf("chaos: the %s's savepoint was refused; %s%n", run, notRunning(cluster, job));
                if (!restarting || System.currentTimeMillis() > deadline) {
                    throw e;
                }
                Thread.sleep(1_000);
            }
        }
    }

    /** The job's tasks that are not running, with their attempt numbers, and the job's last failure. */
    private static String notRunning(MiniCluster cluster, JobID job) throws Exception {
        var graph = cluster.getExecutionGraph(job).get(30, TimeUnit.SECONDS);
        List<String> tasks = new java.util.ArrayList<>();
        for (var vertex : graph.getAllExecutionVertices()) {
            if (vertex.getExecutionState() != org.apache.flink.runtime.execution.ExecutionState.RUNNING) {
                tasks.add(vertex.getTaskNameWithSubtaskIndex() + " " + vertex.getExecutionState() + " (attempt "
                        + vertex.getCurrentExecutionAttempt().getAttemptNumber() + ")");
            }
        }
        var failure = graph.getFailureInfo();
        return "not running: " + tasks + "; last failure: "
                + (failure == null ? "none" : failure.getExceptionAsString());
    }
}
