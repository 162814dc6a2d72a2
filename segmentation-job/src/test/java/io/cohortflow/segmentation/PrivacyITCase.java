package io.cohortflow.segmentation;

import io.cohortflow.core.config.TopicsConfig;
import io.cohortflow.core.segment.Cause;
import io.cohortflow.core.segment.ChangeType;
import io.cohortflow.core.segment.SegmentChange;
import io.cohortflow.core.segment.SegmentProfile;
import io.cohortflow.jobs.kafka.TopicReader;
import io.cohortflow.kafka.local.LocalKafkaBroker;
import io.cohortflow.segmentation.cli.RegulationsCli;
import io.cohortflow.testkit.KafkaTestSupport;
import io.cohortflow.testkit.MiniClusters;
import io.cohortflow.testkit.SharedKafka;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A privacy request through the real broker and running jobs: the seed's visitor browses anonymously, signs up as
 * user_jane and is a cart abandoner; a DELETE request for both her ids, recorded with the regulations CLI, makes her
 * EXIT with cause {@code privacy} and replaces both ids' profiles on the compacted topic with tombstones.
 */
@ExtendWith(SharedKafka.class)
class PrivacyITCase {
    @RegisterExtension
    static final MiniClusterExtension FLINK = MiniClusters.extension();

    private static final long TIMEOUT_MS = 120_000;

    @Test
    void aDeleteRequestExitsHerEverywhereAndTombstonesHerProfiles(LocalKafkaBroker broker) throws Exception {
        TopicsConfig topics = KafkaTestSupport.uniqueTopics(broker, "privacy");
        PipelineITCase.produce(broker, topics, IdentityMergeITCase.seedStoryThenTraffic());

        JobClient ingest = PipelineITCase.start(PipelineITCase.ingest(broker, topics));
        JobClient segmentation = PipelineITCase.start(PipelineITCase.segmentation(broker, topics, topics, 2,
                "--idleness", "2s"));
        try {
            SegmentProfile jane = PipelineITCase.awaitProfile(broker, topics, "user_jane", 90_000);
            assertThat(jane.segments()).contains("cart_abandoner");

            ByteArrayOutputStream out = new ByteArrayOutputStream();
            long requested = System.nanoTime();
            String[] common = {"--bootstrap-servers", broker.bootstrapServers(), "--topic",
                    topics.name(TopicsConfig.PRIVACY)};
            int exit = RegulationsCli.run(with(new String[] {"submit", "--type", "DELETE", "--ids",
                    "user_jane, anon_123xyz", "--requester", "dpo@example.com", "--request-id", "req-jane"}, common),
                    new PrintStream(out, true, StandardCharsets.UTF_8), System.err);
            assertThat(exit).isZero();
            assertThat(out.toString(StandardCharsets.UTF_8)).contains("recorded DELETE request req-jane for 2 ids");
            out.reset();
            assertThat(RegulationsCli.run(with(new String[] {"show", "req-jane"}, common),
                    new PrintStream(out, true, StandardCharsets.UTF_8), System.err)).isZero();
            assertThat(out.toString(StandardCharsets.UTF_8)).contains("req-jane DELETE: 2 ids", "by dpo@example.com");

            List<SegmentChange> erased = awaitChanges(broker, topics,
                    c -> c.cause().equals(new Cause("privacy", "req-jane", null)), jane.segments().size());
            assertThat(erased).allSatisfy(c -> {
                assertThat(c.userId()).isEqualTo("user_jane");
                assertThat(c.type()).isEqualTo(ChangeType.EXIT);
                assertThat(c.features()).as("an erasure publishes nothing of what it erases").isEmpty();
            });
            assertThat(erased).extracting(SegmentChange::segmentId).containsExactlyInAnyOrderElementsOf(jane.segments());
            long exited = System.nanoTime();

            Map<String, byte[]> latest = awaitTombstones(broker, topics, List.of("user_jane", "anon_123xyz"));
            assertThat(latest).as("the last record of each id is a tombstone: compaction removes her profiles")
                    .containsEntry("user_jane", null).containsEntry("anon_123xyz", null);
            assertThat(latest.entrySet().stream().filter(e -> e.getValue() == null).map(Map.Entry::getKey))
                    .as("nobody else's").containsExactlyInAnyOrder("user_jane", "anon_123xyz");
            System.out.printf("privacy request to committed EXITs %.1f s, to committed tombstones %.1f s (polled every "
                    + "0.5 s; checkpoints every %s)%n", (exited - requested) / 1e9, (System.nanoTime() - requested) / 1e9,
                    MiniClusters.jobConfig().get(org.apache.flink.configuration.CheckpointingOptions.CHECKPOINTING_INTERVAL));
        } finally {
            segmentation.cancel().get();
            ingest.cancel().get();
        }
    }

    private static String[] with(String[] args, String[] more) {
        String[] all = java.util.Arrays.copyOf(args, args.length + more.length);
        System.arraycopy(more, 0, all, args.length, more.length);
        return all;
    }

    private static List<SegmentChange> awaitChanges(LocalKafkaBroker broker, TopicsConfig topics,
                                                    java.util.function.Predicate<SegmentChange> which, int count)
            throws InterruptedException {
        long deadline = System.currentTimeMillis() + TIMEOUT_MS;
        List<SegmentChange> matching = List.of();
        while (System.currentTimeMillis() < deadline) {
            matching = PipelineITCase.changes(broker, topics).stream().filter(which).toList();
            if (matching.size() >= count) {
                return matching;
            }
            Thread.sleep(500);
        }
        throw new AssertionError("only " + matching.size() + " of " + count + " changes: " + matching);
    }

    /** The latest committed value per key of segments.profiles, once each of {@code ids} has a tombstone last. */
    private static Map<String, byte[]> awaitTombstones(LocalKafkaBroker broker, TopicsConfig topics, List<String> ids)
            throws InterruptedException {
        long deadline = System.currentTimeMillis() + TIMEOUT_MS;
        Map<String, byte[]> latest = new HashMap<>();
        while (System.currentTimeMillis() < deadline) {
            latest.clear();
            TopicReader.readToEnd(broker.bootstrapServers(), topics.name(TopicsConfig.PROFILES), Duration.ofMinutes(1),
                    r -> latest.put(new String(r.key(), StandardCharsets.UTF_8), r.value()));
            if (ids.stream().allMatch(id -> latest.containsKey(id) && latest.get(id) == null)) {
                return latest;
            }
            Thread.sleep(500);
        }
        throw new AssertionError("no tombstone for all of " + ids + " within " + TIMEOUT_MS + " ms; latest keys "
                + latest.keySet());
    }
}
