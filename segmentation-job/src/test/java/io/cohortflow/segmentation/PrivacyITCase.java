package io.cohortflow.segmentation;

import io.cohortflow.core.config.TopicsConfig;
import io.cohortflow.core.engine.UserSegments;
import io.cohortflow.core.privacy.PrivacyRequest;
import io.cohortflow.core.privacy.PrivacyStatus;
import io.cohortflow.core.privacy.RegulationStatus;
import io.cohortflow.ingest.history.HistoryErasure;
import io.cohortflow.ingest.history.HistoryFixtures;
import io.cohortflow.jobs.kafka.PrivacyTopics;
import io.cohortflow.segmentation.functions.SegmentFunction;
import io.cohortflow.simulator.Simulator;
import io.cohortflow.simulator.SimulatorConfig;
import io.cohortflow.training.TrainingJob;
import io.cohortflow.training.TrainingOptions;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.runtime.state.hashmap.HashMapStateBackend;
import org.apache.flink.state.api.OperatorIdentifier;
import org.apache.flink.state.api.SavepointReader;
import org.apache.flink.state.api.functions.KeyedStateReaderFunction;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.util.Collector;
import org.junit.jupiter.api.io.TempDir;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.concurrent.TimeUnit;
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
            // Her sign-up's own profile can come before her anonymous history is folded in: wait for the fold.
            PipelineITCase.awaitProfile(broker, topics, "user_jane", p -> p.segments().contains("cart_abandoner"),
                    90_000);

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

            Map<String, byte[]> latest = awaitTombstones(broker, topics, List.of("user_jane", "anon_123xyz"));
            long tombstoned = System.nanoTime();
            SegmentProfile jane = lastProfile(broker, topics, "user_jane");
            assertThat(jane.segments()).contains("cart_abandoner");
            List<SegmentChange> erased = awaitChanges(broker, topics,
                    c -> c.cause().equals(new Cause("privacy", "req-jane", null)), jane.segments().size());
            long exited = System.nanoTime();
            assertThat(erased).allSatisfy(c -> {
                assertThat(c.userId()).isEqualTo("user_jane");
                assertThat(c.type()).isEqualTo(ChangeType.EXIT);
                assertThat(c.features()).as("an erasure publishes nothing of what it erases").isEmpty();
            });
            assertThat(erased).extracting(SegmentChange::segmentId)
                    .as("she leaves every segment her last profile before the erasure had")
                    .containsExactlyInAnyOrderElementsOf(jane.segments());
            assertThat(latest).as("the last record of each id is a tombstone: compaction removes her profiles")
                    .containsEntry("user_jane", null).containsEntry("anon_123xyz", null);
            assertThat(latest.entrySet().stream().filter(e -> e.getValue() == null).map(Map.Entry::getKey))
                    .as("nobody else's").containsExactlyInAnyOrder("user_jane", "anon_123xyz");
            System.out.printf("privacy request to committed EXITs %.1f s, to committed tombstones %.1f s (polled every "
                    + "0.5 s; checkpoints every %s)%n", (exited - requested) / 1e9, (tombstoned - requested) / 1e9,
                    MiniClusters.jobConfig().get(org.apache.flink.configuration.CheckpointingOptions.CHECKPOINTING_INTERVAL));
        } finally {
            for (JobClient job : jobs) {
                job.cancel().get();
            }
        }
    }

    /**
     * The whole path, for SUPPRESS_WITH_DELETE of user_jane alone. She browsed anonymously (anon_123xyz), signed
     * up, and signed in on a phone (anon_phone); neither device is named. Ingest's follow-up request names them, so:
     * her EXITs (cause privacy) and the tombstones of all three profiles; her calls, her phone's and a broken payload
     * naming her afterwards reach no output; a nightly training leaves all three out (before the history is
     * rewritten); the history erasure leaves DuckDB none of their rows; a savepoint of segmentation holds no keyed state
     * of theirs (State Processor API); and every stage of the request and its follow-up reports done.
     */
    @Test
    void suppressWithDeleteForgetsHerAndHerDevicesEverywhere(LocalKafkaBroker broker, @TempDir Path dir) throws Exception {
        TopicsConfig topics = KafkaTestSupport.uniqueTopics(broker, "forget");
        Path history = dir.resolve("history");
        List<Delivery> before = new ArrayList<>(IdentityMergeITCase.seedStoryThenTraffic());
        before.add(call("m-phone-login", "{\"type\":\"identify\",\"anonymousId\":\"anon_phone\",\"userId\":\"user_jane\"",
                PipelineITCase.IDENTIFIED + 2 * PipelineITCase.HOUR));
        // Someone else who signs in too: the savepoints' checks have state of another person to find.
        before.add(call("m-other-login", "{\"type\":\"identify\",\"anonymousId\":\"it_other_linked\",\"userId\":\"user_other\"",
                PipelineITCase.IDENTIFIED + 2 * PipelineITCase.HOUR));
        before.add(call("m-phone-view", "{\"type\":\"track\",\"event\":\"Product Viewed\",\"anonymousId\":\"anon_phone\"",
                PipelineITCase.IDENTIFIED + 2 * PipelineITCase.HOUR + 60_000));
        PipelineITCase.produce(broker, topics, before);
        // Erasure memory of 3 s: the savepoint below, taken later, shows that not even the erasure time is left.
        List<JobClient> jobs = new ArrayList<>(IdentityMergeITCase.startLive(broker, topics, history,
                "--erasure-memory", "3s"));
        JobClient segmentation = jobs.get(0);
        String bs = broker.bootstrapServers();
        String privacyTopic = topics.name(TopicsConfig.PRIVACY);
        String statusTopic = topics.name(TopicsConfig.PRIVACY_STATUS);
        try {
            PipelineITCase.awaitProfile(broker, topics, "user_jane", p -> p.segments().contains("cart_abandoner"),
                    90_000);
            String ingestGroup = PipelineITCase.ingestGroup(topics);
            awaitCaughtUp(broker, ingestGroup, topics.name(TopicsConfig.RAW));
            assertThat(herRows(history)).as("her rows, and her devices', are in the history").isGreaterThan(5);

            long requested = System.nanoTime();
            assertThat(RegulationsCli.run(new String[] {"submit", "--type", "SUPPRESS_WITH_DELETE", "--ids", "user_jane",
                    "--requester", "dpo@example.com", "--request-id", "req-forget", "--bootstrap-servers", bs,
                    "--topic", privacyTopic}, System.out, System.err)).isZero();

            awaitTombstones(broker, topics, List.of("user_jane", "anon_123xyz", "anon_phone"));
            long tombstoned = System.nanoTime();
            SegmentProfile jane = lastProfile(broker, topics, "user_jane");
            List<SegmentChange> erased = awaitChanges(broker, topics,
                    c -> c.cause().equals(new Cause("privacy", "req-forget", null)), jane.segments().size());
            long exited = System.nanoTime();
            assertThat(erased).extracting(SegmentChange::segmentId)
                    .as("she leaves every segment her last profile before the erasure had")
                    .containsExactlyInAnyOrderElementsOf(jane.segments());
            assertThat(erased).allSatisfy(c -> assertThat(c.type()).isEqualTo(ChangeType.EXIT));
            PrivacyRequest followUp = PrivacyTopics.requests(bs, privacyTopic).stream()
                    .filter(r -> "req-forget".equals(r.origin())).findFirst().orElseThrow();
            assertThat(followUp.ids()).as("ingest named her devices").containsExactly("anon_123xyz", "anon_phone");
            assertThat(followUp.type()).isEqualTo(PrivacyRequest.Type.SUPPRESS_WITH_DELETE);
            awaitStages(bs, topics, "req-forget", PrivacyStatus.Stage.INGEST, PrivacyStatus.Stage.SEGMENTATION);
            long streamed = System.nanoTime();

            // From now on nothing of hers is written: her calls, her phone's, a broken payload naming her.
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
            awaitUnified(broker, topics, "m-after-other");
            Thread.sleep(3 * 500); // three checkpoint intervals more: a later commit of her calls would show now
            assertThat(awaitUnified(broker, topics, "m-after-other")).as("of the four calls after the request, only "
                    + "someone else's").containsExactly("m-after-other");
            assertThat(KafkaTestSupport.readAllCommitted(bs, topics.name(TopicsConfig.DLQ)))
                    .as("the broken payload naming her: dropped").isEmpty();
            assertThat(KafkaTestSupport.readAllCommitted(bs, topics.name(TopicsConfig.LATE),
                    new io.cohortflow.core.event.UnifiedEventCodec())).as("nor routed late").isEmpty();

            // Ingest keeps no link of hers: read from a savepoint, stitching holds no state for her devices and the
            // cap no list of devices for her. Its part is done then.
            String ingestSavepoint = jobs.get(1).triggerSavepoint(dir.resolve("ingest-savepoints").toUri().toString(),
                    SavepointFormatType.CANONICAL).get(2, TimeUnit.MINUTES);
            jobs.remove(1).cancel().get(); // its slots go to the savepoint's reading and the training
            assertThat(keysWithState(ingestSavepoint, io.cohortflow.ingest.Uids.IDENTITY_STITCH, new LinkKeys()))
                    .as("stitching: someone else's link is there to be read").contains("a:it_other_linked")
                    .doesNotContain("a:anon_123xyz", "a:anon_phone");
            assertThat(keysWithState(ingestSavepoint, io.cohortflow.ingest.Uids.IDENTITY_CAP, new DeviceListKeys()))
                    .contains("user_other").doesNotContain("user_jane");

            // The nightly training, before the history is rewritten: it leaves the three of them out itself. A
            // population around her days gives it something to learn (she would be scored now, were she in).
            HistoryFixtures.writeDeliveries(history, new Simulator(SimulatorConfig.of(23, 300, 40,
                    PipelineITCase.START.minus(Duration.ofDays(30))).withRates(0, 0, 0).withSeedStory(false)),
                    "population.parquet");
            StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(MiniClusters.jobConfig());
            env.setParallelism(2);
            ByteArrayOutputStream progress = new ByteArrayOutputStream();
            TrainingJob.Result trained = TrainingJob.run(env, TrainingOptions.parse(new String[] {
                    "--history", history.toUri().toString(), "--registry", dir.resolve("registry").toUri().toString(),
                    "--cutoff", PipelineITCase.START.plus(Duration.ofDays(10)).toString(), "--horizon", "7d",
                    "--clusters", "3", "--bootstrap-servers", bs, "--privacy-topic", privacyTopic,
                    "--status-topic", statusTopic, "--topic", topics.name(TopicsConfig.MODELS),
                    // The models stage is done when a version trained without them is in use: promoted.
                    "--promote", "--force"}), new PrintStream(progress, true, StandardCharsets.UTF_8));
            System.out.print(progress);
            assertThat(trained.manifest().metrics()).as("the manifest counts them: her id and her two devices")
                    .containsEntry("privacy_ids_excluded", 3.0);
            assertThat(trained.promotion().promoted()).isTrue();
            assertThat(trained.manifest().metrics().get("privacy_rows_excluded")).isGreaterThan(5.0);
            Path scores = dir.resolve("scores.parquet");
            Files.write(scores, new io.cohortflow.registry.ModelRegistry(dir.resolve("registry").toUri())
                    .artifact(TrainingJob.MODEL, trained.manifest().version(), "user_scores.parquet"));
            assertThat(duck("SELECT count(*) FILTER (WHERE user_id IN ('user_jane', 'anon_123xyz', 'anon_phone')), "
                    + "count(*) FROM read_parquet('" + scores + "')")).as("scored: not her, but the others")
                    .satisfies(r -> {
                        assertThat(r[0]).isZero();
                        assertThat(r[1]).isGreaterThan(100);
                    });
            long modelled = System.nanoTime();

            // The history erasure: DuckDB finds none of their rows afterwards, and everyone else's.
            long othersBefore = duck("SELECT count(*) FROM read_parquet('" + history + "/*/*.parquet')")[0]
                    - herRows(history);
            // Ingest has committed every row of theirs (it caught up after the request): no margin needed here.
            HistoryErasure.Result rewritten = HistoryErasure.run(history.toUri().toString(),
                    PrivacyTopics.requests(bs, privacyTopic), System.currentTimeMillis(), 128L << 20, System.out,
                    reports -> PrivacyTopics.report(bs, statusTopic, reports));
            assertThat(rewritten.requests()).containsExactlyInAnyOrder("req-forget", followUp.requestId());
            assertThat(herRows(history)).isZero();
            assertThat(duck("SELECT count(*) FROM read_parquet('" + history + "/*/*.parquet')")[0])
                    .isEqualTo(othersBefore);
            long historied = System.nanoTime();

            ByteArrayOutputStream status = new ByteArrayOutputStream();
            assertThat(RegulationsCli.run(new String[] {"status", "req-forget", "--bootstrap-servers", bs, "--topic",
                    privacyTopic, "--status-topic", statusTopic}, new PrintStream(status, true, StandardCharsets.UTF_8),
                    System.err)).isZero();
            System.out.print(status);
            assertThat(status.toString(StandardCharsets.UTF_8)).contains("every stage done")
                    .doesNotContain("pending", "running");

            // No keyed state of theirs in segmentation, read from a savepoint; the erasure memory (3 s) has passed.
            Thread.sleep(Math.max(0, 3_500 - (System.nanoTime() - exited) / 1_000_000));
            String savepoint = segmentation.triggerSavepoint(dir.resolve("savepoints").toUri().toString(),
                    SavepointFormatType.CANONICAL).get(2, TimeUnit.MINUTES);
            List<String> keys = keysWithState(savepoint);
            assertThat(keys).as("the others' state is there to be read").contains("it_other", "it_clock");
            assertThat(keys).as("none of hers").doesNotContain("user_jane", "anon_123xyz", "anon_phone");

            System.out.printf("SUPPRESS_WITH_DELETE: request to committed EXITs %.1f s, tombstones %.1f s, ingest and "
                    + "segmentation stages done %.1f s; then a training %.1f s, the history erasure %.1f s%n",
                    (exited - requested) / 1e9, (tombstoned - requested) / 1e9, (streamed - requested) / 1e9,
                    (modelled - streamed) / 1e9 - 0, (historied - modelled) / 1e9);
        } finally {
            for (JobClient job : jobs) {
                job.cancel().get();
            }
        }
    }

    /** Waits until {@code stages} are done for the request and each of its follow-ups. */
    private static void awaitStages(String bs, TopicsConfig topics, String requestId, PrivacyStatus.Stage... stages)
            throws InterruptedException {
        long deadline = System.currentTimeMillis() + TIMEOUT_MS;
        List<String> notDone = List.of();
        while (System.currentTimeMillis() < deadline) {
            List<PrivacyStatus> reports = PrivacyTopics.reports(bs, topics.name(TopicsConfig.PRIVACY_STATUS));
            List<String> missing = new ArrayList<>();
            for (PrivacyRequest r : PrivacyTopics.requests(bs, topics.name(TopicsConfig.PRIVACY))) {
                if (r.requestId().equals(requestId) || requestId.equals(r.origin())) {
                    RegulationStatus status = RegulationStatus.of(r, reports);
                    for (PrivacyStatus.Stage stage : stages) {
                        if (status.stage(stage).progress() != RegulationStatus.Progress.DONE) {
                            missing.add(r.requestId() + " " + stage + " " + status.stage(stage).progress());
                        }
                    }
                }
            }
            if (missing.isEmpty()) {
                return;
            }
            notDone = missing;
            Thread.sleep(250);
        }
        throw new AssertionError("not done within " + TIMEOUT_MS + " ms: " + notDone);
    }

    /** The history's rows of user_jane and her two devices, by any of their ids. */
    private static long herRows(Path history) throws Exception {
        return duck("SELECT count(*) FROM read_parquet('" + history + "/*/*.parquet') WHERE userId = 'user_jane' OR "
                + "resolvedId IN ('user_jane', 'anon_123xyz', 'anon_phone') OR anonymousId IN ('anon_123xyz', 'anon_phone')")[0];
    }

    /** The first row of a DuckDB query, its columns as longs. */
    private static long[] duck(String query) throws Exception {
        try (Connection duck = DriverManager.getConnection("jdbc:duckdb:"); Statement sql = duck.createStatement();
             ResultSet rs = sql.executeQuery(query)) {
            rs.next();
            long[] row = new long[rs.getMetaData().getColumnCount()];
            for (int i = 0; i < row.length; i++) {
                row[i] = rs.getLong(i + 1);
            }
            return row;
        }
    }

    /** The keys segmentation holds any keyed state or timer for in {@code savepoint} (State Processor API). */
    private static List<String> keysWithState(String savepoint) throws Exception {
        return keysWithState(savepoint, Uids.SEGMENTS, new KeysWithState());
    }

    /** The keys {@code reader} finds state for in the operator {@code uid} of {@code savepoint}. */
    private static List<String> keysWithState(String savepoint, String uid, KeyedStateReaderFunction<String, String> keys)
            throws Exception {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(MiniClusters.jobConfig());
        env.setParallelism(1);
        SavepointReader reader = SavepointReader.read(env, savepoint, new HashMapStateBackend());
        List<String> found = new ArrayList<>();
        try (var collected = reader.readKeyedState(OperatorIdentifier.forUid(uid), keys, Types.STRING, Types.STRING)
                .executeAndCollect()) {
            collected.forEachRemaining(found::add);
        }
        return found;
    }

    /** Ingest's stitching: each device key with a link (or a refused one) kept. */
    static final class LinkKeys extends KeyedStateReaderFunction<String, String> {
        private transient ValueState<String> linked;
        private transient ValueState<String> refused;

        @Override
        public void open(OpenContext openContext) {
            linked = getRuntimeContext().getState(withTtl(new org.apache.flink.api.common.state.ValueStateDescriptor<>(
                    "device-linked-user", Types.STRING)));
            refused = getRuntimeContext().getState(withTtl(new org.apache.flink.api.common.state.ValueStateDescriptor<>(
                    "device-refused-user", Types.STRING)));
        }

        @Override
        public void readKey(String key, Context ctx, Collector<String> out) throws Exception {
            if (linked.value() != null || refused.value() != null) {
                out.collect(key);
            }
        }
    }

    /** Ingest's cap: each user with a list of linked devices kept. */
    static final class DeviceListKeys extends KeyedStateReaderFunction<String, String> {
        private transient org.apache.flink.api.common.state.MapState<String, Long> devices;

        @Override
        public void open(OpenContext openContext) {
            devices = getRuntimeContext().getMapState(withTtl(new org.apache.flink.api.common.state.MapStateDescriptor<>(
                    "user-linked-ids", Types.STRING, Types.LONG)));
        }

        @Override
        public void readKey(String key, Context ctx, Collector<String> out) throws Exception {
            if (devices.keys().iterator().hasNext()) {
                out.collect(key);
            }
        }
    }

    /**
     * As the jobs declare their identity state, with a time to live (the reader must match the serializer), but
     * returning an expired value not cleaned up yet: a leftover shows.
     */
    private static <D extends org.apache.flink.api.common.state.StateDescriptor<?, ?>> D withTtl(D descriptor) {
        descriptor.enableTimeToLive(returningExpired());
        return descriptor;
    }

    private static org.apache.flink.api.common.state.StateTtlConfig returningExpired() {
        return org.apache.flink.api.common.state.StateTtlConfig.newBuilder(Duration.ofDays(400))
                .returnExpiredIfNotCleanedUp().build();
    }

    /** Each key with a value in any of the function's keyed states, or a timer. */
    static final class KeysWithState extends KeyedStateReaderFunction<String, String> {
        private transient ValueState<UserSegments> users;
        private transient ValueState<Long> erasedAt;

        @Override
        public void open(OpenContext openContext) {
            users = getRuntimeContext().getState(SegmentFunction.USERS);
            // As the job declares it, but returning an expired value not cleaned up yet: a leftover shows.
            var descriptor = SegmentFunction.erasedAt(Duration.ofSeconds(3));
            descriptor.enableTimeToLive(returningExpired());
            erasedAt = getRuntimeContext().getState(descriptor);
        }

        @Override
        public void readKey(String key, Context ctx, Collector<String> out) throws Exception {
            if (users.value() != null || erasedAt.value() != null || !ctx.registeredEventTimeTimers().isEmpty()
                    || !ctx.registeredProcessingTimeTimers().isEmpty()) {
                out.collect(key);
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

    /**
     * The last profile of {@code userId} on segments.profiles that is not a tombstone: once her tombstone is last,
     * her memberships when the erasure came (every membership change publishes her profile).
     */
    private static SegmentProfile lastProfile(LocalKafkaBroker broker, TopicsConfig topics, String userId) {
        List<SegmentProfile> hers = KafkaTestSupport.readAllCommitted(broker.bootstrapServers(),
                topics.name(TopicsConfig.PROFILES), new io.cohortflow.core.segment.SegmentProfileCodec()).stream()
                .filter(p -> p.userId().equals(userId)).toList();
        assertThat(hers).as("profiles of " + userId).isNotEmpty();
        return hers.get(hers.size() - 1);
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
