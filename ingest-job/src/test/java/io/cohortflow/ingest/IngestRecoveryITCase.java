package io.cohortflow.ingest;

import io.cohortflow.core.config.TopicsConfig;
import io.cohortflow.core.event.UnifiedEvent;
import io.cohortflow.jobs.options.LocalFlinkConfig;
import io.cohortflow.kafka.local.LocalKafkaBroker;
import io.cohortflow.simulator.Delivery;
import io.cohortflow.simulator.KafkaDeliverySink;
import io.cohortflow.testkit.KafkaTestSupport;
import io.cohortflow.testkit.MiniClusters;
import io.cohortflow.testkit.Repository;
import io.cohortflow.testkit.SharedKafka;
import org.apache.flink.api.common.JobID;
import org.apache.flink.api.common.JobStatus;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.ExternalizedCheckpointRetention;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.configuration.StateChangelogOptions;
import org.apache.flink.configuration.StateRecoveryOptions;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.minicluster.MiniClusterConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The ingest job as the local run configures it ({@code conf/flink/local} and its {@code ingest-job/} settings: heap
 * state, checkpoints that write the changelog of its changes to files) crashes and is started again from its last
 * checkpoint: the dedupe window comes back whole, so redeliveries of what it had taken before the crash are dropped,
 * and events.unified holds every message exactly once. It restores as the configuration says (CLAIM: a changelog
 * cannot start a NO_CLAIM restore with the full snapshot that mode asks for, and its first checkpoint failed), from
 * files (Flink's default changelog storage, memory, keeps the changes in the TaskManager alone).
 */
@ExtendWith(SharedKafka.class)
class IngestRecoveryITCase {
    private static final int USERS = 40;
    private static final int BEFORE = 200;
    private static final int AFTER = 100;

    @TempDir
    Path dir;

    @Test
    void afterACrashTheRestoredDedupeWindowDropsRedeliveriesOfWhatCameBefore(LocalKafkaBroker broker) throws Exception {
        Path confDir = Repository.root().resolve("conf/flink/local");
        Configuration shared = LocalFlinkConfig.stateIn(LocalFlinkConfig.shared(confDir), dir);
        Configuration job = LocalFlinkConfig.forJob(shared, confDir, "ingest-job");
        assertThat(job.get(StateChangelogOptions.ENABLE_STATE_CHANGE_LOG)).as("the ingest job's changelog, as shipped")
                .isTrue();
        job.set(CheckpointingOptions.EXTERNALIZED_CHECKPOINT_RETENTION,
                ExternalizedCheckpointRetention.RETAIN_ON_CANCELLATION);
        job.set(RestartStrategyOptions.RESTART_STRATEGY, "none");
        TopicsConfig topics = KafkaTestSupport.uniqueTopics(broker, "recovery");
        String[] args = IngestITCase.args(broker, topics, dir.resolve("history"));

        Configuration clusterConfig = new Configuration(shared);
        clusterConfig.set(RestOptions.PORT, 0); // any free port: other tests' clusters may run beside it
        MiniCluster cluster = new MiniCluster(new MiniClusterConfiguration.Builder().setConfiguration(clusterConfig)
                .setNumTaskManagers(1).setNumSlotsPerTaskManager(2).build());
        cluster.start();
        try {
            JobID first = submit(cluster, job, args, null);
            List<Delivery> before = deliveries(0, BEFORE);
            send(broker, topics, before);
            awaitUserActions(broker, topics, BEFORE);
            assertThat(dir.resolve("changelog").resolve(first.toHexString()))
                    .as("the changelog of the ingest job's state").isNotEmptyDirectory();

            // The JVM dies: no savepoint. The job starts again from the last checkpoint it completed.
            cluster.cancelJob(first).get(1, TimeUnit.MINUTES);
            MiniClusters.awaitStatus(cluster, first, JobStatus.CANCELED);
            Path retained = MiniClusters.awaitRetainedCheckpoint(dir.resolve("checkpoints"), first);
            JobID second = submit(cluster, job, args, retained.toString());

            // Every message before the crash again (a sender's retries), and new ones.
            List<Delivery> after = new ArrayList<>(before);
            after.addAll(deliveries(BEFORE, AFTER));
            send(broker, topics, after);
            awaitRawConsumed(broker, topics, IngestITCase.groupOf(topics));
            // Read while the job runs: its offsets are committed as the checkpoint completes, and the transaction of
            // that checkpoint's output as well; a cancel could cut that commit off (left open, it would time out).
            List<String> messages = KafkaTestSupport.readUserActions(broker.bootstrapServers(),
                    topics.name(TopicsConfig.UNIFIED)).stream().map(UnifiedEvent::messageId).toList();
            cluster.cancelJob(second).get(1, TimeUnit.MINUTES);
            assertThat(messages).as("each message once").doesNotHaveDuplicates();
            assertThat(messages).containsExactlyInAnyOrderElementsOf(Stream.concat(before.stream(),
                    after.stream()).map(IngestRecoveryITCase::messageId).distinct().toList());
        } finally {
            cluster.close();
        }
    }

    /** Track calls {@code m-first} … of {@link #USERS} users, stamped now. */
    private static List<Delivery> deliveries(int first, int count) {
        long now = System.currentTimeMillis();
        List<Delivery> deliveries = new ArrayList<>();
        for (int i = first; i < first + count; i++) {
            String user = "u-" + (i % USERS);
            String json = "{\"type\":\"track\",\"event\":\"add_to_cart\",\"messageId\":\"m-" + i + "\",\"userId\":\""
                    + user + "\",\"timestamp\":\"" + Instant.ofEpochMilli(now + i) + "\"}";
            deliveries.add(new Delivery(user, "web", json.getBytes(StandardCharsets.UTF_8), now + i, "event"));
        }
        return deliveries;
    }

    private static String messageId(Delivery delivery) {
        String json = new String(delivery.payload(), StandardCharsets.UTF_8);
        int start = json.indexOf("\"messageId\":\"") + 13;
        return json.substring(start, json.indexOf('"', start));
    }

    private static void send(LocalKafkaBroker broker, TopicsConfig topics, List<Delivery> deliveries) {
        try (KafkaDeliverySink sink = new KafkaDeliverySink(broker.bootstrapServers(), topics.name(TopicsConfig.RAW))) {
            deliveries.forEach(sink::send);
            sink.flush();
        }
    }

    /** Submits the ingest job, restoring it from {@code restoreFrom} as its configuration says to (or none: null). */
    private static JobID submit(MiniCluster cluster, Configuration config, String[] args, String restoreFrom)
            throws Exception {
        Configuration restore = new Configuration(config);
        if (restoreFrom != null) {
            restore.set(StateRecoveryOptions.SAVEPOINT_PATH, restoreFrom);
        }
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(restore);
        IngestOptions options = IngestOptions.parse(args);
        IngestJob.configure(env, options);
        IngestJob.fromOptions(options, false).build(env);
        JobID job = cluster.submitJob(env.getStreamGraph()).get(1, TimeUnit.MINUTES).getJobID();
        MiniClusters.awaitStatus(cluster, job, JobStatus.RUNNING);
        return job;
    }

    /** Until {@code count} user actions are committed on events.unified. */
    private static void awaitUserActions(LocalKafkaBroker broker, TopicsConfig topics, int count) throws Exception {
        long deadline = System.currentTimeMillis() + 120_000;
        long seen = 0;
        while (System.currentTimeMillis() < deadline) {
            seen = KafkaTestSupport.readUserActions(broker.bootstrapServers(), topics.name(TopicsConfig.UNIFIED))
                    .size();
            if (seen >= count) {
                return;
            }
            Thread.sleep(500);
        }
        throw new AssertionError(seen + " of " + count + " user actions on events.unified after two minutes");
    }

    /**
     * Until the ingest job's committed offsets on events.raw reach its end: the source commits them when a checkpoint
     * completes, and that checkpoint committed the output of everything before them.
     */
    private static void awaitRawConsumed(LocalKafkaBroker broker, TopicsConfig topics, String group) throws Exception {
        String raw = topics.name(TopicsConfig.RAW);
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                broker.bootstrapServers()))) {
            List<TopicPartition> partitions = admin.describeTopics(List.of(raw)).allTopicNames().get().get(raw)
                    .partitions().stream().map(p -> new TopicPartition(raw, p.partition())).toList();
            Map<TopicPartition, Long> end = admin.listOffsets(partitions.stream()
                            .collect(Collectors.toMap(p -> p, p -> OffsetSpec.latest()))).all().get().entrySet()
                    .stream().collect(Collectors.toMap(Map.Entry::getKey, e -> e.getValue().offset()));
            long deadline = System.currentTimeMillis() + 120_000;
            while (System.currentTimeMillis() < deadline) {
                Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(group)
                        .partitionsToOffsetAndMetadata().get();
                if (partitions.stream().allMatch(p -> committed.get(p) != null
                        && committed.get(p).offset() >= end.get(p))) {
                    return;
                }
                Thread.sleep(500);
            }
            throw new AssertionError("the ingest job's offsets on " + raw + " did not reach " + end);
        }
    }
}
