package io.cohortflow.segmentation;

import io.cohortflow.core.config.TopicsConfig;
import io.cohortflow.core.event.DeadLetter;
import io.cohortflow.core.event.DeadLetterCodec;
import io.cohortflow.core.event.UnifiedEvent;
import io.cohortflow.core.event.UnifiedEventCodec;
import io.cohortflow.core.segment.ChangeType;
import io.cohortflow.core.segment.SegmentChange;
import io.cohortflow.core.segment.SegmentChangeCodec;
import io.cohortflow.ingest.IngestJob;
import io.cohortflow.ingest.IngestOptions;
import io.cohortflow.kafka.local.LocalKafkaBroker;
import io.cohortflow.simulator.Delivery;
import io.cohortflow.simulator.KafkaDeliverySink;
import io.cohortflow.simulator.Simulator;
import io.cohortflow.simulator.SimulatorConfig;
import io.cohortflow.testkit.ExpectedRejections;
import io.cohortflow.testkit.KafkaTestSupport;
import io.cohortflow.testkit.MiniClusters;
import io.cohortflow.testkit.SharedKafka;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.groups.Tuple.tuple;

/**
 * Raw payloads through the real broker, the ingest job and the segmentation job (both on a MiniCluster at
 * parallelism 2, exactly-once), and out of segments.changes read with read_committed.
 */
@ExtendWith(SharedKafka.class)
class PipelineITCase {
    @RegisterExtension
    static final MiniClusterExtension FLINK = MiniClusters.extension();

    private static final Instant START = Instant.parse("2026-03-02T00:00:00Z");
    private static final long DAY0 = START.toEpochMilli();
    private static final long MIN = 60_000L;
    private static final long HOUR = 60 * MIN;
    @Test
    void theSeedStoryAndHandWrittenUsersGiveExactlyTheseChanges(LocalKafkaBroker broker) throws Exception {
        TopicsConfig topics = KafkaTestSupport.uniqueTopics(broker, "exact");
        List<Delivery> deliveries = new ArrayList<>();
        new Simulator(SimulatorConfig.of(1, 0, 2, START)).forEach(deliveries::add); // only anon_123xyz
        long t = DAY0 + 14 * HOUR;
        // it_window: three product views within two minutes, then silence.
        deliveries.add(track("m-w1", "it_window", "Product Viewed", t));
        deliveries.add(track("m-w2", "it_window", "product_viewed", t + MIN + 30_000));
        deliveries.add(track("m-w3", "it_window", "Product Viewed", t + 2 * MIN));
        // it_spread: three views, but never three within an hour.
        deliveries.add(track("m-s1", "it_spread", "Product Viewed", t));
        deliveries.add(track("m-s2", "it_spread", "Product Viewed", t + 40 * MIN));
        deliveries.add(track("m-s3", "it_spread", "Product Viewed", t + 100 * MIN));
        // Bad input goes to the DLQ and changes nothing.
        deliveries.add(new Delivery(null, "web", "{\"type\":\"track\",".getBytes(StandardCharsets.UTF_8), t, "malformed:x"));
        deliveries.add(new Delivery(null, "web", ("{\"type\":\"track\",\"event\":\"Product Viewed\",\"messageId\":\"m-x\","
                + "\"timestamp\":\"" + Instant.ofEpochMilli(t) + "\"}").getBytes(StandardCharsets.UTF_8), t, "malformed:y"));
        produce(broker, topics, deliveries);

        runIngest(broker, topics);
        runSegmentation(broker, topics);

        List<DeadLetter> dlq = KafkaTestSupport.readAllCommitted(broker.bootstrapServers(),
                topics.name(TopicsConfig.DLQ), new DeadLetterCodec());
        assertThat(dlq).extracting(DeadLetter::reason).containsExactlyInAnyOrder("INVALID_JSON", "MISSING_ID");

        long janeAddedToCart = DAY0 + 10 * HOUR + 20_000 + 25_000 + 15_000 + 90_000 + 40; // + sentAt skew correction
        List<SegmentChange> changes = changes(broker, topics);
        assertThat(changes)
                .extracting(SegmentChange::userId, SegmentChange::segmentId, SegmentChange::type, SegmentChange::eventTime)
                .containsExactlyInAnyOrder(
                        // anon_123xyz: search, product view, add to cart -> high intent; she leaves, and when the
                        // hour since her fourth counted minute passes, fewer than three actions remain.
                        tuple("anon_123xyz", "high_intent_1h", ChangeType.ENTER, janeAddedToCart),
                        tuple("anon_123xyz", "high_intent_1h", ChangeType.EXIT, DAY0 + 11 * HOUR + 3 * MIN),
                        tuple("it_window", "high_intent_1h", ChangeType.ENTER, t + 2 * MIN),
                        // it_window's counted minutes are t, t+1, t+2: the first leaving at t+1h drops her to two.
                        tuple("it_window", "high_intent_1h", ChangeType.EXIT, t + HOUR));
        assertThat(changes).allSatisfy(c -> assertThat(c.changeId())
                .isEqualTo(SegmentChange.idFor(c.userId(), c.segmentId(), c.type(), c.eventTime())));
    }

    @Test
    void aSimulatedPopulationFlowsThroughBothJobsAndCountsReconcile(LocalKafkaBroker broker) throws Exception {
        TopicsConfig topics = KafkaTestSupport.uniqueTopics(broker, "population");
        List<Delivery> deliveries = new ArrayList<>();
        new Simulator(SimulatorConfig.of(42, 300, 2, START).withRates(0.01, 0.02, 0.02)).forEach(deliveries::add);
        produce(broker, topics, deliveries);
        Map<String, Long> kinds = new TreeMap<>();
        deliveries.forEach(d -> kinds.merge(d.isMalformed() ? "malformed" : d.kind(), 1L, Long::sum));

        runIngest(broker, topics);
        runSegmentation(broker, topics);

        List<UnifiedEvent> unified = KafkaTestSupport.readAllCommitted(broker.bootstrapServers(),
                topics.name(TopicsConfig.UNIFIED), new UnifiedEventCodec());
        List<DeadLetter> dlq = KafkaTestSupport.readAllCommitted(broker.bootstrapServers(),
                topics.name(TopicsConfig.DLQ), new DeadLetterCodec());
        List<UnifiedEvent> late = KafkaTestSupport.readAllCommitted(broker.bootstrapServers(),
                topics.name(TopicsConfig.LATE), new UnifiedEventCodec());
        // Nothing lost: every delivery is unified, dead-lettered, a dropped duplicate, or late.
        assertThat(unified.size() + dlq.size() + kinds.get("duplicate") + late.size()).isEqualTo(deliveries.size());
        assertThat(dlq).hasSize(kinds.get("malformed").intValue());
        // Each kind of broken payload the simulator sends is dead-lettered with its own reason.
        List<String> expectedReasons = ExpectedRejections.of(deliveries);
        assertThat(dlq).extracting(DeadLetter::reason).containsExactlyInAnyOrderElementsOf(expectedReasons);
        assertThat(new HashSet<>(expectedReasons)).hasSizeGreaterThanOrEqualTo(8);
        assertThat(unified).allSatisfy(e -> assertThat(e.event() == null
                || e.event().equals(e.event().toLowerCase())).isTrue());

        List<SegmentChange> changes = changes(broker, topics);
        assertThat(changes).isNotEmpty();
        assertThat(changes).extracting(SegmentChange::changeId).doesNotHaveDuplicates();
        // Per user, transitions alternate ENTER, EXIT, ... and, once input ends and time runs out, everyone has left.
        Map<String, List<SegmentChange>> byUser = new HashMap<>();
        changes.forEach(c -> byUser.computeIfAbsent(c.userId(), k -> new ArrayList<>()).add(c));
        Set<String> entered = new HashSet<>();
        byUser.forEach((user, list) -> {
            list.sort(java.util.Comparator.comparingLong(SegmentChange::eventTime));
            for (int i = 0; i < list.size(); i++) {
                assertThat(list.get(i).type()).as(user + " change " + i)
                        .isEqualTo(i % 2 == 0 ? ChangeType.ENTER : ChangeType.EXIT);
            }
            assertThat(list.get(list.size() - 1).type()).isEqualTo(ChangeType.EXIT);
            entered.add(user);
        });
        assertThat(entered).contains("anon_123xyz");
        System.out.printf("population: %d deliveries %s -> %d unified, %d dead letters, %d changes for %d users%n",
                deliveries.size(), kinds, unified.size(), dlq.size(), changes.size(), entered.size());
    }

    private static Delivery track(String messageId, String anonymousId, String event, long at) {
        String json = "{\"type\":\"track\",\"event\":\"" + event + "\",\"messageId\":\"" + messageId
                + "\",\"anonymousId\":\"" + anonymousId + "\",\"timestamp\":\"" + Instant.ofEpochMilli(at)
                + "\",\"receivedAt\":\"" + Instant.ofEpochMilli(at + 200) + "\",\"properties\":{\"product_id\":\"p1\"}}";
        return new Delivery(anonymousId, "web", json.getBytes(StandardCharsets.UTF_8), at + 200, "event");
    }

    private static void produce(LocalKafkaBroker broker, TopicsConfig topics, List<Delivery> deliveries) {
        try (KafkaDeliverySink sink = new KafkaDeliverySink(broker.bootstrapServers(), topics.name(TopicsConfig.RAW))) {
            deliveries.forEach(sink::send);
            sink.flush();
        }
    }

    private static List<String> args(LocalKafkaBroker broker, TopicsConfig topics) {
        List<String> args = new ArrayList<>(List.of("--bootstrap-servers", broker.bootstrapServers(),
                "--transaction-timeout", "60s", "--group-id", "it-" + topics.name(TopicsConfig.RAW)));
        args.addAll(KafkaTestSupport.topicArgs(topics));
        return args;
    }

    private static void runIngest(LocalKafkaBroker broker, TopicsConfig topics) throws Exception {
        List<String> args = args(broker, topics);
        args.addAll(List.of("--history-path", KafkaTestSupport.tempDir("history-").toUri().toString()));
        IngestOptions options = IngestOptions.parse(args.toArray(String[]::new));
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(MiniClusters.jobConfig());
        env.setParallelism(MiniClusters.PARALLELISM);
        IngestJob.configure(env, options);
        IngestJob.fromOptions(options, true).build(env);
        env.execute("ingest (bounded)");
    }

    private static void runSegmentation(LocalKafkaBroker broker, TopicsConfig topics) throws Exception {
        SegmentationOptions options = SegmentationOptions.parse(args(broker, topics).toArray(String[]::new));
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(MiniClusters.jobConfig());
        env.setParallelism(MiniClusters.PARALLELISM);
        SegmentationJob.configure(env, options);
        SegmentationJob.fromOptions(options, true).build(env);
        env.execute("segmentation (bounded)");
    }

    private static List<SegmentChange> changes(LocalKafkaBroker broker, TopicsConfig topics) {
        return KafkaTestSupport.readAllCommitted(broker.bootstrapServers(), topics.name(TopicsConfig.CHANGES),
                new SegmentChangeCodec());
    }
}
