package io.cohortflow.segmentation;

import io.cohortflow.core.config.TopicsConfig;
import io.cohortflow.core.segment.Cause;
import io.cohortflow.core.segment.ChangeType;
import io.cohortflow.core.segment.SegmentChange;
import io.cohortflow.core.segment.SegmentProfile;
import io.cohortflow.jobs.kafka.PipelineLag;
import io.cohortflow.jobs.kafka.TopicReader;
import io.cohortflow.kafka.local.LocalKafkaBroker;
import io.cohortflow.segmentation.cli.RegulationsCli;
import io.cohortflow.simulator.Delivery;
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
import java.util.ArrayList;
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

        List<JobClient> jobs = IdentityMergeITCase.startLive(broker, topics);
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
            for (JobClient job : jobs) {
                job.cancel().get();
            }
        }
    }

    /**
     * SUPPRESS_WITH_DELETE for user_jane alone. Her second device (a phone she signed in on) is not named: it
     * resolves to her, so its events go too. After ingest has taken the request in, her calls, her phone's, and a
     * broken payload naming her reach no output; someone else's do.
     */
    @Test
    void aSuppressedUserAndHerDevicesWriteNothingMore(LocalKafkaBroker broker) throws Exception {
        TopicsConfig topics = KafkaTestSupport.uniqueTopics(broker, "suppress");
        List<Delivery> before = new ArrayList<>(IdentityMergeITCase.seedStoryThenTraffic());
        before.add(call("m-phone-login", "{\"type\":\"identify\",\"anonymousId\":\"anon_phone\",\"userId\":\"user_jane\"",
                PipelineITCase.IDENTIFIED + 2 * PipelineITCase.HOUR));
        PipelineITCase.produce(broker, topics, before);
        List<JobClient> jobs = IdentityMergeITCase.startLive(broker, topics);
        try {
            PipelineITCase.awaitProfile(broker, topics, "user_jane", 90_000);
            String ingestGroup = PipelineITCase.ingestGroup(topics);
            awaitCaughtUp(broker, ingestGroup, topics.name(TopicsConfig.RAW));

            assertThat(RegulationsCli.run(new String[] {"submit", "--type", "SUPPRESS_WITH_DELETE", "--ids", "user_jane",
                    "--requester", "dpo@example.com", "--request-id", "req-suppress", "--bootstrap-servers",
                    broker.bootstrapServers(), "--topic", topics.name(TopicsConfig.PRIVACY)}, System.out, System.err))
                    .isZero();
            // Ingest has taken the request in once a checkpoint after it has completed (its offset is committed then).
            awaitCaughtUp(broker, ingestGroup + "-privacy", topics.name(TopicsConfig.PRIVACY));

            long t = PipelineITCase.IDENTIFIED + 3 * PipelineITCase.HOUR;
            PipelineITCase.produce(broker, topics, List.of(
                    call("m-after-1", "{\"type\":\"track\",\"event\":\"Product Viewed\",\"userId\":\"user_jane\"", t),
                    call("m-after-2", "{\"type\":\"track\",\"event\":\"Product Viewed\",\"anonymousId\":\"anon_phone\"", t + 1_000),
                    new Delivery("user_jane", "web", ("{\"type\":\"track\",\"event\":\"Product Viewed\",\"userId\":"
                            + "\"user_jane\",\"timestamp\":\"" + java.time.Instant.ofEpochMilli(t) + "\"}")
                            .getBytes(StandardCharsets.UTF_8), t + 2_000, "event"), // no messageId: a dead letter
                    call("m-after-other", "{\"type\":\"track\",\"event\":\"Product Viewed\",\"anonymousId\":\"it_other\"",
                            t + 3_000)));
            awaitCaughtUp(broker, ingestGroup, topics.name(TopicsConfig.RAW));
            // Someone else's call is in; the sinks' transactions of the same checkpoints commit about then.
            List<String> after = awaitUnified(broker, topics, "m-after-other");
            Thread.sleep(3 * 500); // three checkpoint intervals more: a later commit of her calls would show now

            after = awaitUnified(broker, topics, "m-after-other");
            assertThat(after).as("of the four calls after the request, only someone else's").containsExactly("m-after-other");
            assertThat(KafkaTestSupport.readAllCommitted(broker.bootstrapServers(), topics.name(TopicsConfig.DLQ)))
                    .as("the broken payload naming her: dropped").isEmpty();
            assertThat(KafkaTestSupport.readAllCommitted(broker.bootstrapServers(), topics.name(TopicsConfig.LATE),
                    new io.cohortflow.core.event.UnifiedEventCodec())).as("nor routed late").isEmpty();
            // Her profile is erased as well (the DELETE half).
            awaitTombstones(broker, topics, List.of("user_jane"));
        } finally {
            for (JobClient job : jobs) {
                job.cancel().get();
            }
        }
    }

    private static Delivery call(String messageId, String jsonStart, long at) {
        String json = jsonStart + ",\"messageId\":\"" + messageId + "\",\"timestamp\":\""
                + java.time.Instant.ofEpochMilli(at) + "\"}";
        String key = json.contains("anonymousId") ? json.replaceAll(".*\"anonymousId\":\"([^\"]+)\".*", "$1")
                : "user_jane";
        return new Delivery(key, "web", json.getBytes(StandardCharsets.UTF_8), at + 200, "event");
    }

    /** The message ids of committed unified events sent after the request, once {@code expected} is among them. */
    private static List<String> awaitUnified(LocalKafkaBroker broker, TopicsConfig topics, String expected)
            throws InterruptedException {
        long deadline = System.currentTimeMillis() + TIMEOUT_MS;
        while (true) {
            List<String> after = KafkaTestSupport.readAllCommitted(broker.bootstrapServers(),
                            topics.name(TopicsConfig.UNIFIED), new io.cohortflow.core.event.UnifiedEventCodec()).stream()
                    .map(io.cohortflow.core.event.UnifiedEvent::messageId)
                    .filter(id -> id != null && id.startsWith("m-after")).toList();
            if (after.contains(expected) || System.currentTimeMillis() > deadline) {
                return after;
            }
            Thread.sleep(200);
        }
    }

    /** Waits until {@code group} has committed offsets at the end of every partition of {@code topic}. */
    private static void awaitCaughtUp(LocalKafkaBroker broker, String group, String topic) throws Exception {
        long deadline = System.currentTimeMillis() + TIMEOUT_MS;
        try (org.apache.kafka.clients.admin.Admin admin = broker.admin()) {
            while (System.currentTimeMillis() < deadline) {
                if (PipelineLag.caughtUp(PipelineLag.lag(admin, group, topic), 0)) {
                    return;
                }
                Thread.sleep(200);
            }
        }
        throw new AssertionError(group + " did not catch up with " + topic + " within " + TIMEOUT_MS + " ms");
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
