package io.cohortflow.segmentation;

import io.cohortflow.core.config.TopicsConfig;
import io.cohortflow.core.event.DeadLetter;
import io.cohortflow.core.event.DeadLetterCodec;
import io.cohortflow.core.event.EventTaxonomy;
import io.cohortflow.core.event.UnifiedEvent;
import io.cohortflow.core.event.UnifiedEventCodec;
import io.cohortflow.core.feature.FeatureConfig;
import io.cohortflow.core.feature.FeatureSnapshot;
import io.cohortflow.core.training.ChurnLabels;
import io.cohortflow.core.segment.ChangeType;
import io.cohortflow.core.segment.SegmentChange;
import io.cohortflow.core.segment.SegmentChangeCodec;
import io.cohortflow.core.segment.SegmentProfile;
import io.cohortflow.core.segment.SegmentProfileCodec;
import io.cohortflow.ingest.IngestJob;
import io.cohortflow.ingest.IngestOptions;
import io.cohortflow.ingest.mapping.IngestMapper;
import io.cohortflow.ingest.mapping.RawEvent;
import io.cohortflow.kafka.local.LocalKafkaBroker;
import io.cohortflow.simulator.Delivery;
import io.cohortflow.simulator.KafkaDeliverySink;
import io.cohortflow.simulator.Simulator;
import io.cohortflow.simulator.SimulatorConfig;
import io.cohortflow.testkit.ExpectedRejections;
import io.cohortflow.testkit.KafkaTestSupport;
import io.cohortflow.testkit.MiniClusters;
import io.cohortflow.testkit.SharedKafka;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.groups.Tuple.tuple;

/**
 * Raw payloads through the real broker, the ingest job and the segmentation job (on a MiniCluster, exactly-once),
 * and out of segments.changes and segments.profiles read with read_committed.
 */
@ExtendWith(SharedKafka.class)
class PipelineITCase {
    @RegisterExtension
    static final MiniClusterExtension FLINK = MiniClusters.extension();

    static final Instant START = Instant.parse("2026-03-02T00:00:00Z");
    private static final long DAY0 = START.toEpochMilli();
    private static final long MIN = 60_000L;
    static final long HOUR = 60 * MIN;
    /** The seed story's times, as ingest corrects them (+40 ms: the simulated SDK sends 40 ms after its clock). */
    private static final long ADDED_TO_CART = DAY0 + 10 * HOUR + 150_000 + 40;
    private static final long THIRD_VIEW = DAY0 + 10 * HOUR + 260_000 + 40;
    static final long IDENTIFIED = DAY0 + 19 * HOUR + 40; // she signs up that evening

    @Test
    void theSeedStoryAndAHandWrittenUserGiveExactlyTheseChanges(LocalKafkaBroker broker) throws Exception {
        TopicsConfig topics = KafkaTestSupport.uniqueTopics(broker, "exact");
        List<Delivery> deliveries = new ArrayList<>();
        new Simulator(SimulatorConfig.of(1, 0, 2, START)).forEach(deliveries::add); // only anon_123xyz
        long t = DAY0 + 14 * HOUR;
        // it_window: three product views within two minutes, then silence.
        deliveries.add(track("m-w1", "it_window", "Product Viewed", t));
        deliveries.add(track("m-w2", "it_window", "product_viewed", t + MIN + 30_000));
        deliveries.add(track("m-w3", "it_window", "Product Viewed", t + 2 * MIN));
        // it_spread: three views, never three within an hour.
        deliveries.add(track("m-s1", "it_spread", "Product Viewed", t));
        deliveries.add(track("m-s2", "it_spread", "Product Viewed", t + 40 * MIN));
        deliveries.add(track("m-s3", "it_spread", "Product Viewed", t + 100 * MIN));
        // Bad input goes to the DLQ and changes nothing.
        deliveries.add(new Delivery(null, "web", "{\"type\":\"track\",".getBytes(StandardCharsets.UTF_8), t, "malformed:x"));
        produce(broker, topics, deliveries);

        runBounded(ingest(broker, topics));
        runBounded(segmentation(broker, topics, topics, 2));

        assertThat(KafkaTestSupport.readAllCommitted(broker.bootstrapServers(), topics.name(TopicsConfig.DLQ),
                new DeadLetterCodec())).extracting(DeadLetter::reason).containsExactly("INVALID_JSON");
        List<SegmentChange> changes = changes(broker, topics);
        assertThat(changes)
                .extracting(SegmentChange::userId, SegmentChange::segmentId, SegmentChange::type, SegmentChange::eventTime)
                .containsExactlyInAnyOrder(
                        // anon_123xyz: search, running-shoe view, add to cart -> high intent, footwear
                        tuple("anon_123xyz", "high_intent_1h", ChangeType.ENTER, ADDED_TO_CART),
                        tuple("anon_123xyz", "high_intent_footwear", ChangeType.ENTER, ADDED_TO_CART),
                        // ...then three jackets: the third product view within the hour
                        tuple("anon_123xyz", "product_viewer_3x_1h", ChangeType.ENTER, THIRD_VIEW),
                        // she leaves: 30 minutes after the last add, the cart is abandoned
                        tuple("anon_123xyz", "cart_abandoner", ChangeType.ENTER, ADDED_TO_CART + 30 * MIN),
                        // timer exits, no event needed: her 10:04 minute leaves the hour at 11:04 (views at 10:05, 10:06 remain)
                        tuple("anon_123xyz", "high_intent_1h", ChangeType.EXIT, DAY0 + 11 * HOUR + 4 * MIN),
                        tuple("anon_123xyz", "high_intent_footwear", ChangeType.EXIT, DAY0 + 11 * HOUR + 4 * MIN),
                        tuple("anon_123xyz", "product_viewer_3x_1h", ChangeType.EXIT, DAY0 + 11 * HOUR + 4 * MIN),
                        // that evening she signs up: the anonymous id leaves, its state goes to user_jane
                        tuple("anon_123xyz", "cart_abandoner", ChangeType.EXIT, IDENTIFIED),
                        tuple("it_window", "high_intent_1h", ChangeType.ENTER, t + 2 * MIN),
                        tuple("it_window", "product_viewer_3x_1h", ChangeType.ENTER, t + 2 * MIN),
                        tuple("it_window", "high_intent_1h", ChangeType.EXIT, t + HOUR),
                        tuple("it_window", "product_viewer_3x_1h", ChangeType.EXIT, t + HOUR));
        // Each membership here goes ENTER then EXIT once: ordinals 0 and 1.
        assertThat(changes).allSatisfy(c -> assertThat(c.changeId()).isEqualTo(SegmentChange.idFor(c.userId(),
                c.segmentId(), c.type(), c.eventTime(), c.type() == ChangeType.ENTER ? 0 : 1)));
        assertThat(changes.stream().filter(c -> c.type() == ChangeType.EXIT && c.userId().equals("anon_123xyz")
                && c.segmentId().equals("cart_abandoner")).findFirst().orElseThrow().cause().kind()).isEqualTo("identity");
    }

    @Test
    void aSimulatedPopulationReconcilesAndAlternates(LocalKafkaBroker broker) throws Exception {
        TopicsConfig topics = KafkaTestSupport.uniqueTopics(broker, "population");
        List<Delivery> deliveries = new ArrayList<>();
        new Simulator(SimulatorConfig.of(42, 300, 3, START).withRates(0.01, 0.02, 0.02)).forEach(deliveries::add);
        produce(broker, topics, deliveries);
        Map<String, Long> kinds = new TreeMap<>();
        deliveries.forEach(d -> kinds.merge(d.isMalformed() ? "malformed" : d.kind(), 1L, Long::sum));

        runBounded(ingest(broker, topics));
        runBounded(segmentation(broker, topics, topics, 2));

        String bs = broker.bootstrapServers();
        List<UnifiedEvent> unified = KafkaTestSupport.readUserActions(bs, topics.name(TopicsConfig.UNIFIED));
        List<DeadLetter> dlq = KafkaTestSupport.readAllCommitted(bs, topics.name(TopicsConfig.DLQ), new DeadLetterCodec());
        List<UnifiedEvent> late = KafkaTestSupport.readAllCommitted(bs, topics.name(TopicsConfig.LATE), new UnifiedEventCodec());
        assertThat(unified.size() + dlq.size() + kinds.get("duplicate") + late.size()).isEqualTo(deliveries.size());
        assertThat(dlq).extracting(DeadLetter::reason).containsExactlyInAnyOrderElementsOf(ExpectedRejections.of(deliveries));

        List<SegmentChange> changes = changes(broker, topics);
        assertThat(changes).extracting(SegmentChange::changeId).doesNotHaveDuplicates();
        // Per user and segment, transitions alternate ENTER, EXIT in the order the job emitted them, which is the
        // order of the user's partition of segments.changes. Event time never goes back within a user, but two
        // transitions can share a millisecond (an event applied behind the watermark is evaluated as of the time the
        // user was already evaluated to), so sorting by event time would not recover that order.
        Map<String, List<SegmentChange>> byMembership = changes.stream()
                .collect(Collectors.groupingBy(c -> c.userId() + "/" + c.segmentId()));
        byMembership.forEach((membership, list) -> {
            for (int i = 0; i < list.size(); i++) {
                assertThat(list.get(i).type()).as(membership + " change " + i + " of " + list)
                        .isEqualTo(i % 2 == 0 ? ChangeType.ENTER : ChangeType.EXIT);
            }
        });
        changes.stream().collect(Collectors.groupingBy(SegmentChange::userId)).forEach((user, list) ->
                assertThat(list).as("event times of " + user + "'s changes in topic order")
                        .isSortedAccordingTo(Comparator.comparingLong(SegmentChange::eventTime)));
        Set<String> segments = changes.stream().map(SegmentChange::segmentId).collect(Collectors.toSet());
        assertThat(segments).contains("high_intent_1h", "product_viewer_3x_1h", "cart_abandoner",
                "email_engaged_no_trial", "feature_x_not_y");

        System.out.printf("population: %d deliveries %s -> %d unified, %d changes in %d segments%n",
                deliveries.size(), kinds, unified.size(), changes.size(), segments.size());
    }

    /**
     * The same input at parallelism 1 and 2 gives the same changes, ids included, and every user's features in the
     * job equal those core's engine computes from the same events (parity of stream and batch). The input is written to
     * events.unified directly, in event-time order (mapped by the real ingest mapper, duplicates dropped): within
     * the out-of-orderness bound results depend on event time only. Events later than the bound are applied as of
     * the watermark when they arrive, and which events are that late depends on when watermarks were emitted.
     */
    @Test
    void theSameInputGivesTheSameChangesAtParallelismOneAndTwo(LocalKafkaBroker broker) throws Exception {
        TopicsConfig topics = KafkaTestSupport.uniqueTopics(broker, "determinism");
        IngestMapper mapper = new IngestMapper(EventTaxonomy.defaults(), IngestMapper.loadMappings(null), 32 * 1024,
                java.time.Duration.ofHours(1), java.time.Duration.ofDays(3650));
        Map<String, UnifiedEvent> unique = new java.util.LinkedHashMap<>();
        for (Delivery d : new Simulator(SimulatorConfig.of(9, 200, 2, START))) {
            mapper.map(new RawEvent(d.payload(), d.source(), d.deliveredAt())).events()
                    .forEach(e -> unique.putIfAbsent(e.source() + "/" + e.messageId(), e));
        }
        List<UnifiedEvent> ordered = unique.values().stream().sorted(Comparator.comparingLong(UnifiedEvent::timestamp)).toList();
        UnifiedEventCodec codec = new UnifiedEventCodec();
        try (var producer = new org.apache.kafka.clients.producer.KafkaProducer<byte[], byte[]>(Map.<String, Object>of(
                "bootstrap.servers", broker.bootstrapServers(), "max.in.flight.requests.per.connection", 1,
                "enable.idempotence", false), new org.apache.kafka.common.serialization.ByteArraySerializer(),
                new org.apache.kafka.common.serialization.ByteArraySerializer())) {
            for (UnifiedEvent e : ordered) {
                producer.send(new org.apache.kafka.clients.producer.ProducerRecord<>(topics.name(TopicsConfig.UNIFIED),
                        e.resolvedId().getBytes(StandardCharsets.UTF_8), codec.encode(e)));
            }
        }

        TopicsConfig second = KafkaTestSupport.uniqueTopics(broker, "determinism-p1");
        runBounded(segmentation(broker, topics, topics, 2));
        runBounded(segmentation(broker, topics, second, 1));
        Set<String> atTwo = changes(broker, topics).stream().map(PipelineITCase::describe).collect(Collectors.toSet());
        Set<String> atOne = changes(broker, second).stream().map(PipelineITCase::describe).collect(Collectors.toSet());
        assertThat(atTwo).hasSizeGreaterThan(100).isEqualTo(atOne);

        // Parity: the features of each user's last profile are what the training computes from the same events.
        String bs = broker.bootstrapServers();
        List<UnifiedEvent> unified = ordered;
        Map<String, SegmentProfile> lastProfile = new HashMap<>();
        KafkaTestSupport.readAllCommitted(bs, topics.name(TopicsConfig.PROFILES), new SegmentProfileCodec())
                .forEach(p -> lastProfile.merge(p.userId(), p, (a, b) -> b.asOf() >= a.asOf() ? b : a));
        Map<String, List<UnifiedEvent>> eventsByUser = unified.stream().collect(Collectors.groupingBy(UnifiedEvent::resolvedId));
        FeatureConfig config = FeatureConfig.defaults();
        List<String> names = EventTaxonomy.defaults().canonicalNames().stream().sorted().toList();
        int compared = 0;
        for (SegmentProfile profile : lastProfile.values()) {
            if (profile.mergedInto() != null) {
                continue; // merged away: its history moved on
            }
            FeatureSnapshot batch = ChurnLabels.featuresAsOf(
                    eventsByUser.getOrDefault(profile.userId(), List.of()), profile.asOf(), config, names);
            assertThat(batch.numeric()).as("features of " + profile.userId()).isEqualTo(profile.features());
            compared++;
        }
        assertThat(compared).isGreaterThan(50);
        System.out.printf("determinism: %d changes equal at parallelism 1 and 2; feature parity with core on %d users%n",
                atTwo.size(), compared);
    }

    // ---- helpers ---------------------------------------------------------------------------------------------------

    private static String describe(SegmentChange c) {
        return c.changeId() + " " + c.userId() + " " + c.segmentId() + " " + c.type() + " " + Instant.ofEpochMilli(c.eventTime());
    }

    static Delivery track(String messageId, String anonymousId, String event, long at) {
        String json = "{\"type\":\"track\",\"event\":\"" + event + "\",\"messageId\":\"" + messageId
                + "\",\"anonymousId\":\"" + anonymousId + "\",\"timestamp\":\"" + Instant.ofEpochMilli(at)
                + "\",\"receivedAt\":\"" + Instant.ofEpochMilli(at + 200) + "\",\"properties\":{\"product_id\":\"p1\"}}";
        return new Delivery(anonymousId, "web", json.getBytes(StandardCharsets.UTF_8), at + 200, "event");
    }

    static void produce(LocalKafkaBroker broker, TopicsConfig topics, List<Delivery> deliveries) {
        try (KafkaDeliverySink sink = new KafkaDeliverySink(broker.bootstrapServers(), topics.name(TopicsConfig.RAW))) {
            deliveries.forEach(sink::send);
            sink.flush();
        }
    }

    interface Topology {
        void addTo(StreamExecutionEnvironment env, boolean bounded);
    }

    static Topology ingest(LocalKafkaBroker broker, TopicsConfig topics) {
        return ingest(broker, topics, KafkaTestSupport.tempDir("history-"));
    }

    /** Ingest writing its Parquet history under {@code history}. */
    static Topology ingest(LocalKafkaBroker broker, TopicsConfig topics, java.nio.file.Path history) {
        List<String> args = new ArrayList<>(List.of("--bootstrap-servers", broker.bootstrapServers(),
                "--transaction-timeout", "60s", "--group-id", ingestGroup(topics),
                "--history-path", history.toUri().toString()));
        args.addAll(KafkaTestSupport.topicArgs(topics));
        IngestOptions options = IngestOptions.parse(args.toArray(String[]::new));
        return (env, bounded) -> {
            IngestJob.configure(env, options);
            IngestJob.fromOptions(options, bounded).build(env);
        };
    }

    /** Segmentation reading {@code in}'s unified, merges and definitions, writing to {@code out}'s topics. */
    static Topology segmentation(LocalKafkaBroker broker, TopicsConfig in, TopicsConfig out, int parallelism,
                                 String... extraArgs) {
        List<String> args = new ArrayList<>(List.of("--bootstrap-servers", broker.bootstrapServers(),
                "--transaction-timeout", "60s", "--group-id", segmentationGroup(out)));
        args.addAll(List.of(extraArgs));
        args.addAll(KafkaTestSupport.topicArgs(in));
        for (String role : List.of(TopicsConfig.CHANGES, TopicsConfig.PROFILES, TopicsConfig.HANDOFF)) {
            args.add("--topic." + role + "=" + out.name(role));
        }
        SegmentationOptions options = SegmentationOptions.parse(args.toArray(String[]::new));
        return (env, bounded) -> {
            env.setParallelism(parallelism);
            SegmentationJob.configure(env, options);
            SegmentationJob.fromOptions(options, bounded).build(env);
        };
    }

    /** The consumer group of an ingest run on {@code topics} (its privacy source adds {@code -privacy}). */
    static String ingestGroup(TopicsConfig topics) {
        return "it-ingest-" + topics.name(TopicsConfig.RAW);
    }

    /** The consumer group of a segmentation run writing to {@code out}. */
    static String segmentationGroup(TopicsConfig out) {
        return "it-segmentation-" + out.name(TopicsConfig.CHANGES);
    }

    static StreamExecutionEnvironment env() {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(MiniClusters.jobConfig());
        env.setParallelism(MiniClusters.PARALLELISM);
        return env;
    }

    static void runBounded(Topology topology) throws Exception {
        StreamExecutionEnvironment env = env();
        topology.addTo(env, true);
        env.execute();
    }

    static JobClient start(Topology topology) throws Exception {
        StreamExecutionEnvironment env = env();
        topology.addTo(env, false);
        return env.executeAsync();
    }

    /**
     * The latest committed profile of {@code userId} once it satisfies {@code until}. A profile is published whenever
     * one of its inputs moves, so a user's first profile can come before the state that a test waits for (her
     * anonymous history folded in, say): a test names what it waits for rather than taking whichever came first.
     */
    static SegmentProfile awaitProfile(LocalKafkaBroker broker, TopicsConfig topics, String userId,
                                       java.util.function.Predicate<SegmentProfile> until, long timeoutMs)
            throws InterruptedException {
        long deadline = System.currentTimeMillis() + timeoutMs;
        SegmentProfile latest = null;
        while (System.currentTimeMillis() < deadline) {
            List<SegmentProfile> profiles = KafkaTestSupport.readAllCommitted(broker.bootstrapServers(),
                    topics.name(TopicsConfig.PROFILES), new SegmentProfileCodec()).stream()
                    .filter(p -> p.userId().equals(userId)).toList();
            latest = profiles.isEmpty() ? null : profiles.get(profiles.size() - 1);
            if (latest != null && until.test(latest)) {
                return latest;
            }
            Thread.sleep(1_000);
        }
        throw new AssertionError("no profile of " + userId + " as awaited within " + timeoutMs + " ms; the latest: "
                + latest);
    }

    static List<SegmentChange> changes(LocalKafkaBroker broker, TopicsConfig topics) {
        return KafkaTestSupport.readAllCommitted(broker.bootstrapServers(), topics.name(TopicsConfig.CHANGES),
                new SegmentChangeCodec());
    }
}
