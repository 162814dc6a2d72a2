package io.cohortflow.activation;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.cohortflow.core.config.TopicsConfig;
import io.cohortflow.core.segment.ChangeType;
import io.cohortflow.core.segment.SegmentChange;
import io.cohortflow.core.segment.SegmentChangeCodec;
import io.cohortflow.core.segment.SegmentProfile;
import io.cohortflow.core.segment.SegmentProfileCodec;
import io.cohortflow.kafka.local.LocalKafkaBroker;
import io.cohortflow.testkit.KafkaTestSupport;
import io.cohortflow.testkit.MiniClusters;
import io.cohortflow.testkit.SharedKafka;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.StateRecoveryOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The activation job through the real broker on a MiniCluster, delivering to a real HTTP receiver that fails, times
 * out and answers slowly by design, and restarted from a savepoint mid-run. Every change is delivered or
 * dead-lettered with its reason; a change delivered twice came with the same Idempotency-Key (or, batched, the same
 * messageId); each user's changes arrive in their order.
 */
@ExtendWith(SharedKafka.class)
class ActivationITCase {
    @RegisterExtension
    static final MiniClusterExtension FLINK = MiniClusters.extension();
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int USERS = 120;

    @Test
    void everyChangeIsDeliveredOrDeadLetteredInEachUsersOrderThroughFailuresAndARestart(LocalKafkaBroker broker)
            throws Exception {
        TopicsConfig topics = KafkaTestSupport.uniqueTopics(broker, "activation");
        // The n-th request: some 503s, some 429s with Retry-After, some past the client's 1 s timeout, some slow, and
        // every request carrying the "refused" segment answered 400.
        try (Receiver receiver = new Receiver(Script::answer)) {
            Path destinations = writeDestinations(receiver);
            List<SegmentChange> changes = new ArrayList<>();
            List<SegmentProfile> profiles = new ArrayList<>();
            makeChanges(changes, profiles);
            write(broker, topics.name(TopicsConfig.PROFILES), profiles, SegmentProfile::userId, new SegmentProfileCodec());
            write(broker, topics.name(TopicsConfig.CHANGES), changes, SegmentChange::userId, new SegmentChangeCodec());

            ActivationOptions options = ActivationOptions.parse(args(broker, topics, destinations));
            JobClient job = start(options, null);
            awaitAccepted(receiver, changes.size() / 3);
            String savepoint = job.stopWithSavepoint(false, KafkaTestSupport.tempDir("activation-sp-").toUri().toString(),
                    SavepointFormatType.CANONICAL).get(2, TimeUnit.MINUTES);
            int beforeRestart = receiver.requests().size();
            job = start(options, savepoint);
            try {
                Map<String, Integer> expected = expectedDeliveries(changes);
                awaitSettled(broker, topics, receiver, expected, 180_000);
            } finally {
                job.cancel().get(1, TimeUnit.MINUTES);
            }
            assertThat(beforeRestart).as("the restart came mid-run").isLessThan(receiver.requests().size());

            // ---- what the destinations got ----
            Map<String, List<String>> hookKeys = new HashMap<>(); // change id -> the keys it came with
            Map<String, List<Long>> hookArrivals = new HashMap<>();
            Set<String> adsMessages = new HashSet<>();
            for (Receiver.Request request : receiver.accepted()) {
                JsonNode body = JSON.readTree(request.body());
                if (body.has("changes")) {
                    assertThat(body.get("changes")).as("the hook takes changes one by one").hasSize(1);
                    String id = body.at("/changes/0/changeId").asText();
                    hookKeys.computeIfAbsent(id, k -> new ArrayList<>()).add(request.header("Idempotency-Key"));
                    hookArrivals.computeIfAbsent(id, k -> new ArrayList<>()).add(request.receivedAt());
                    assertThat(request.header("Authorization")).isEqualTo("Bearer hook-token");
                } else {
                    body.get("batch").forEach(m -> adsMessages.add(m.get("messageId").asText()));
                }
            }
            List<Undelivered> dead = KafkaTestSupport.readAllCommitted(broker.bootstrapServers(),
                    topics.name(TopicsConfig.UNDELIVERED), new Undelivered.Codec());
            Map<String, Undelivered> deadByKey = dead.stream()
                    .collect(Collectors.toMap(u -> u.destination() + "/" + u.changeId(), u -> u, (a, b) -> a));
            for (SegmentChange change : changes) {
                boolean refused = change.segmentId().equals("refused");
                String hookKey = "hook/" + change.changeId();
                if (refused) {
                    assertThat(deadByKey).as("refused by the hook: " + change.changeId()).containsKey(hookKey);
                    assertThat(deadByKey.get(hookKey).reason()).startsWith("refused: HTTP 400");
                    assertThat(deadByKey.get(hookKey).payload()).contains(change.changeId());
                    assertThat(hookKeys).doesNotContainKey(change.changeId());
                } else {
                    assertThat(hookKeys.containsKey(change.changeId()) || deadByKey.containsKey(hookKey))
                            .as("hook: delivered or dead-lettered " + change.changeId()).isTrue();
                }
                if (change.segmentId().equals("audience")) {
                    assertThat(adsMessages.contains(change.changeId() + "-track")
                            || deadByKey.containsKey("ads/" + change.changeId()))
                            .as("ads: delivered or dead-lettered " + change.changeId()).isTrue();
                }
            }
            hookKeys.forEach((id, keys) -> assertThat(keys).as("duplicates of " + id + " carry its key").containsOnly(id));
            long duplicates = hookKeys.values().stream().filter(keys -> keys.size() > 1).count();
            System.out.printf("activation: %d requests (%d before the restart), %d changes to the hook delivered,"
                            + " %d of them more than once, %d dead letters (%s)%n", receiver.requests().size(),
                    beforeRestart, hookKeys.size(), duplicates, dead.size(),
                    dead.stream().map(Undelivered::reason).map(r -> r.length() > 40 ? r.substring(0, 40) : r)
                            .distinct().toList());
            assertThat(dead).allSatisfy(u -> assertThat(u.reason()).startsWith("refused: HTTP 400"));

            // Each user's changes reached the hook in their order (first arrivals; refused ones never arrive).
            Map<String, List<SegmentChange>> byUser = changes.stream().filter(c -> !c.segmentId().equals("refused"))
                    .collect(Collectors.groupingBy(SegmentChange::userId, TreeMap::new, Collectors.toList()));
            byUser.forEach((user, own) -> {
                List<Long> firsts = own.stream().map(c -> hookArrivals.get(c.changeId()).get(0)).toList();
                assertThat(firsts).as(user + "'s changes in order").isSortedAccordingTo(Comparator.naturalOrder());
            });
        }
    }

    /** The receiver's answers: a fixed pattern over request numbers, so every run meets the same mix of failures. */
    static final class Script {
        static Receiver.Answer answer(int n, byte[] body) {
            if (new String(body, StandardCharsets.UTF_8).contains("\"segmentId\":\"refused\"")) {
                return Receiver.Answer.status(400);
            }
            if (n % 17 == 0) {
                return Receiver.Answer.status(503);
            }
            if (n % 29 == 0) {
                return new Receiver.Answer(429, 0, Map.of("Retry-After", "1"));
            }
            if (n % 41 == 0) {
                return Receiver.Answer.slow(1_500); // past the client's 1 s timeout: it retries, the receiver has it
            }
            if (n % 7 == 0) {
                return Receiver.Answer.slow(150);
            }
            return Receiver.Answer.ok();
        }
    }

    /** 120 users; each ENTERs and EXITs "audience" twice, and every tenth also ENTERs "refused". */
    private static void makeChanges(List<SegmentChange> changes, List<SegmentProfile> profiles) {
        for (int u = 0; u < USERS; u++) {
            String user = "user" + u;
            int ordinal = 0;
            for (ChangeType type : List.of(ChangeType.ENTER, ChangeType.EXIT, ChangeType.ENTER, ChangeType.EXIT)) {
                SegmentChange change = DestinationClientTest.change(user, "audience", type, ordinal++);
                changes.add(change);
                profiles.add(profile(change, type == ChangeType.ENTER ? List.of("audience") : List.of()));
            }
            if (u % 10 == 0) {
                SegmentChange change = DestinationClientTest.change(user, "refused", ChangeType.ENTER, ordinal);
                changes.add(change);
                profiles.add(profile(change, List.of("refused")));
            }
        }
    }

    private static SegmentProfile profile(SegmentChange change, List<String> segments) {
        return new SegmentProfile(change.userId(), change.eventTime(), segments, Map.of("recency", 1.0), Map.of(),
                null, "none", null, Map.of("cart_items", List.of(Map.of("product_id", "p-" + change.userId()))),
                Map.of());
    }

    /** Change id -> destinations that take it. */
    private static Map<String, Integer> expectedDeliveries(List<SegmentChange> changes) {
        Map<String, Integer> expected = new HashMap<>();
        for (SegmentChange change : changes) {
            expected.put(change.changeId(), change.segmentId().equals("audience") ? 2 : 1);
        }
        return expected;
    }

    private static Path writeDestinations(Receiver receiver) throws Exception {
        Path dir = KafkaTestSupport.tempDir("destinations-");
        Files.writeString(dir.resolve("hook.yaml"), """
                id: hook
                format: webhook
                endpoint: %s
                auth: {type: bearer, secretEnv: HOOK_TOKEN}
                segments: ["*"]
                batch: {size: 1, linger: 50ms}
                retry: {attempts: 8, maxAge: 2m, backoff: 100ms, maxBackoff: 1s}
                timeout: 1s
                profileFields: [traits, segments]
                """.formatted(receiver.uri("/hook")));
        Files.writeString(dir.resolve("ads.yaml"), """
                id: ads
                format: segment
                endpoint: %s
                auth: {type: hmac, secretEnv: ADS_SECRET}
                segments: [audience]
                changes: [ENTER, EXIT]
                batch: {size: 25, linger: 200ms}
                rateLimit: 50
                concurrency: 4
                retry: {attempts: 8, maxAge: 2m, backoff: 100ms, maxBackoff: 1s}
                timeout: 1s
                """.formatted(receiver.uri("/v1/batch")));
        return dir;
    }

    private static String[] args(LocalKafkaBroker broker, TopicsConfig topics, Path destinations) {
        List<String> args = new ArrayList<>(List.of("--bootstrap-servers", broker.bootstrapServers(),
                "--transaction-timeout", "60s", "--group-id", "it-activation-" + topics.name(TopicsConfig.CHANGES),
                "--destinations", destinations.toString(), "--profile-wait", "2s"));
        args.addAll(KafkaTestSupport.topicArgs(topics));
        return args.toArray(String[]::new);
    }

    private static JobClient start(ActivationOptions options, String savepoint) throws Exception {
        Configuration config = MiniClusters.jobConfig();
        if (savepoint != null) {
            config.set(StateRecoveryOptions.SAVEPOINT_PATH, savepoint);
        }
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(config);
        env.setParallelism(MiniClusters.PARALLELISM);
        ActivationJob.configure(env, options);
        ActivationJob.fromOptions(options, false, Map.of("HOOK_TOKEN", "hook-token", "ADS_SECRET", "ads-secret"))
                .build(env);
        return env.executeAsync("activation");
    }

    /** Writes the records in order, keyed by user (one partition per user: their order kept). */
    private static <T> void write(LocalKafkaBroker broker, String topic, List<T> records,
                                  java.util.function.Function<T, String> user,
                                  io.cohortflow.core.codec.JsonCodec<T> codec) {
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.<String, Object>of(
                "bootstrap.servers", broker.bootstrapServers(), "enable.idempotence", true, "acks", "all",
                "max.in.flight.requests.per.connection", 1), new ByteArraySerializer(), new ByteArraySerializer())) {
            for (T record : records) {
                producer.send(new ProducerRecord<>(topic, user.apply(record).getBytes(StandardCharsets.UTF_8),
                        codec.encode(record)));
            }
        }
    }

    private static void awaitAccepted(Receiver receiver, int requests) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 120_000;
        while (receiver.accepted().size() < requests && System.currentTimeMillis() < deadline) {
            Thread.sleep(100);
        }
        assertThat(receiver.accepted().size()).as("accepted before the restart").isGreaterThanOrEqualTo(requests);
    }

    /** Waits until every change has an outcome at each destination that takes it: delivered, or dead-lettered. */
    private static void awaitSettled(LocalKafkaBroker broker, TopicsConfig topics, Receiver receiver,
                                     Map<String, Integer> expected, long timeoutMs) throws Exception {
        long deadline = System.currentTimeMillis() + timeoutMs;
        int settled = 0;
        int total = expected.values().stream().mapToInt(Integer::intValue).sum();
        while (System.currentTimeMillis() < deadline) {
            Set<String> seen = new HashSet<>();
            for (Receiver.Request request : receiver.accepted()) {
                JsonNode body = JSON.readTree(request.body());
                if (body.has("changes")) {
                    seen.add("hook/" + body.at("/changes/0/changeId").asText());
                } else {
                    body.get("batch").forEach(m -> {
                        String id = m.get("messageId").asText();
                        if (id.endsWith("-track")) {
                            seen.add("ads/" + id.substring(0, id.length() - "-track".length()));
                        }
                    });
                }
            }
            KafkaTestSupport.readAllCommitted(broker.bootstrapServers(), topics.name(TopicsConfig.UNDELIVERED),
                    new Undelivered.Codec()).forEach(u -> seen.add(u.destination() + "/" + u.changeId()));
            settled = seen.size();
            if (settled >= total) {
                return;
            }
            Thread.sleep(1_000);
        }
        throw new AssertionError("only " + settled + " of " + total + " deliveries settled within " + timeoutMs + " ms");
    }
}
