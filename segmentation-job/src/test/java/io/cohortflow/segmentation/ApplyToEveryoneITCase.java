package io.cohortflow.segmentation;

import io.cohortflow.core.config.TopicsConfig;
import io.cohortflow.core.event.UnifiedEvent;
import io.cohortflow.core.event.UnifiedEventCodec;
import io.cohortflow.core.segment.Cause;
import io.cohortflow.core.segment.ChangeType;
import io.cohortflow.core.segment.SegmentChange;
import io.cohortflow.core.segment.SegmentDefinition;
import io.cohortflow.core.segment.SegmentProfile;
import io.cohortflow.core.segment.SegmentProfileCodec;
import io.cohortflow.core.segment.SegmentRules;
import io.cohortflow.core.testing.Events;
import io.cohortflow.kafka.local.LocalKafkaBroker;
import io.cohortflow.registry.Announcer;
import io.cohortflow.registry.ModelRegistry;
import io.cohortflow.segmentation.cli.SegmentsCli;
import io.cohortflow.testkit.KafkaTestSupport;
import io.cohortflow.testkit.MiniClusters;
import io.cohortflow.testkit.Repository;
import io.cohortflow.testkit.SharedKafka;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Rules and models apply to everyone at once, through the real broker and a running (unbounded) segmentation job at
 * parallelism 2: a segment published with the segments CLI takes its members, and a model promoted on
 * models.published rescores every user, with no new event of theirs. The rescoring is the same evaluation an event
 * would have made: "twins" sent afterwards with the same events get the same scores and persona.
 */
@ExtendWith(SharedKafka.class)
class ApplyToEveryoneITCase {
    @RegisterExtension
    static final MiniClusterExtension FLINK = MiniClusters.extension();

    private static final long T0 = Instant.parse("2026-03-02T10:00:00Z").toEpochMilli();
    private static final long MIN = 60_000L;
    private static final int USERS = 40;
    private static final long TIMEOUT_MS = 120_000;

    @Test
    void aPublishedSegmentAndASwappedModelReachEveryUserWithoutAnEvent(LocalKafkaBroker broker) throws Exception {
        TopicsConfig topics = KafkaTestSupport.uniqueTopics(broker, "apply-to-everyone");
        write(broker, topics, IntStream.range(0, USERS).mapToObj(i -> "u" + i).toList());
        JobClient job = PipelineITCase.start(PipelineITCase.segmentation(broker, topics, topics, 2));
        try {
            awaitProfiles(broker, topics, p -> p.userId().startsWith("u") && p.asOf() == lastEvent(p.userId()), USERS);
            int before = changes(broker, topics).size();

            // A new segment, published as a marketer would: with the CLI, from a file.
            Path file = Files.createTempFile("big-spenders", ".yaml");
            Files.writeString(file, """
                    segments:
                      - id: big_spender
                        name: Big spender
                        condition: monetary_value_90d >= 210.0
                    """);
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            int exit = SegmentsCli.run(new String[] {"publish", file.toString(), "--bootstrap-servers",
                    broker.bootstrapServers(), "--topic", topics.name(TopicsConfig.DEFINITIONS)},
                    new PrintStream(out, true, StandardCharsets.UTF_8), System.err);
            assertThat(exit).isZero();
            String version = SegmentRules.compile(SegmentRules.load(file.toString()).get(0)).version();
            // u20..u39 spent 210 or more; nobody sends anything.
            List<SegmentChange> entered = await(broker, topics, c -> c.segmentId().equals("big_spender"), USERS / 2);
            assertThat(entered).extracting(SegmentChange::userId).containsExactlyInAnyOrderElementsOf(
                    IntStream.range(USERS / 2, USERS).mapToObj(i -> "u" + i).toList());
            assertThat(entered).allSatisfy(c -> {
                assertThat(c.type()).isEqualTo(ChangeType.ENTER);
                assertThat(c.cause()).isEqualTo(Cause.rule("big_spender", version));
                assertThat(c.eventTime()).as("as of the user's own clock: their last event").isEqualTo(lastEvent(c.userId()));
            });

            // Deleted: every member EXITs, at once.
            assertThat(SegmentsCli.run(new String[] {"delete", "big_spender", "--bootstrap-servers",
                    broker.bootstrapServers(), "--topic", topics.name(TopicsConfig.DEFINITIONS)},
                    new PrintStream(out, true, StandardCharsets.UTF_8), System.err)).isZero();
            List<SegmentChange> left = await(broker, topics,
                    c -> c.segmentId().equals("big_spender") && c.type() == ChangeType.EXIT, USERS / 2);
            assertThat(left).allSatisfy(c -> assertThat(c.cause()).isEqualTo(new Cause("rule", "big_spender", "removed")));

            // A model promoted in the registry and announced: every user is rescored and enters a persona.
            Path registryDir = KafkaTestSupport.copyTree(
                    Repository.root().resolve("model-registry/src/test/resources/current-registry"),
                    KafkaTestSupport.tempDir("apply-registry-").resolve("registry"));
            ModelRegistry registry = new ModelRegistry(registryDir.toUri());
            Announcer.announce(broker.bootstrapServers(), topics.name(TopicsConfig.MODELS), registry,
                    registry.manifest("bundle", 1), "test");
            List<SegmentChange> personas = await(broker, topics,
                    c -> c.segmentId().startsWith("persona_") && c.type() == ChangeType.ENTER, USERS);
            assertThat(personas).extracting(SegmentChange::userId).doesNotHaveDuplicates();
            assertThat(personas).allSatisfy(c -> {
                assertThat(c.cause()).isEqualTo(new Cause("model", "persona", "bundle@v1"));
                assertThat(c.eventTime()).isEqualTo(lastEvent(c.userId()));
            });
            Map<String, SegmentProfile> rescored = awaitProfiles(broker, topics,
                    p -> p.userId().startsWith("u") && "bundle@v1".equals(p.model()), USERS);

            // The same events under other ids, sent after the swap: each twin is scored at its last event as u_i was
            // rescored at hers.
            write(broker, topics, IntStream.range(0, USERS).mapToObj(i -> "twin_u" + i).toList());
            Map<String, SegmentProfile> twins = awaitProfiles(broker, topics,
                    p -> p.userId().startsWith("twin_") && p.asOf() == lastEvent(p.userId()), USERS);
            for (int i = 0; i < USERS; i++) {
                SegmentProfile original = rescored.get("u" + i);
                SegmentProfile twin = twins.get("twin_u" + i);
                assertThat(twin.scores()).as("u%d", i).isEqualTo(original.scores());
                assertThat(twin.persona()).as("u%d", i).isNotBlank().isEqualTo(original.persona());
                assertThat(twin.asOf() - original.asOf()).isEqualTo(7 * 24 * 60 * MIN);
                assertThat(twin.segments()).as("u%d", i).isEqualTo(original.segments());
            }
            assertThat(changes(broker, topics).size()).isGreaterThan(before);
        } finally {
            job.cancel().get();
        }
    }

    /**
     * User i: an order of 10·(i+1), then two emails opened, the second 5·i seconds later. The second enters
     * email_engaged_no_trial, so its evaluation publishes a profile: seeing it tells that the user's events are all in.
     * Twins live the same a week later: the same features (day boundaries included), and time-ordered after every
     * earlier event, as events.unified is (ingest sends events later than that to events.late). Everyone's events
     * span under 6 minutes, and no feature changes on its own that soon (the first is a session's end, at 30), so
     * no timer moves a user's clock past their last event.
     */
    private static List<UnifiedEvent> eventsOf(String user) {
        int i = index(user);
        long start = start(user);
        return List.of(Events.track(user, "order_completed", start).with("revenue", 10.0 * (i + 1)).build(),
                Events.track(user, "email_opened", start + MIN).build(),
                Events.track(user, "email_opened", lastEvent(user)).build());
    }

    private static long start(String user) {
        return user.startsWith("twin_") ? T0 + 7 * 24 * 60 * MIN : T0;
    }

    private static long lastEvent(String user) {
        return start(user) + 2 * MIN + index(user) * 5_000L;
    }

    private static int index(String user) {
        return Integer.parseInt(user.substring(user.lastIndexOf('u') + 1));
    }

    private static void write(LocalKafkaBroker broker, TopicsConfig topics, List<String> users) {
        UnifiedEventCodec codec = new UnifiedEventCodec();
        List<LoopedRuns.Keyed> records = users.stream().flatMap(user -> eventsOf(user).stream())
                .sorted(java.util.Comparator.comparingLong(UnifiedEvent::timestamp)) // stable: each user's order kept
                .map(event -> new LoopedRuns.Keyed(event.resolvedId().getBytes(StandardCharsets.UTF_8),
                        codec.encode(event)))
                .toList();
        LoopedRuns.write(broker, topics.name(TopicsConfig.UNIFIED), records);
    }

    private static List<SegmentChange> changes(LocalKafkaBroker broker, TopicsConfig topics) {
        return PipelineITCase.changes(broker, topics);
    }

    /** Waits for {@code count} committed changes matching {@code which}; fails with what came otherwise. */
    private static List<SegmentChange> await(LocalKafkaBroker broker, TopicsConfig topics,
                                             Predicate<SegmentChange> which, int count) throws InterruptedException {
        long deadline = System.currentTimeMillis() + TIMEOUT_MS;
        List<SegmentChange> matching = List.of();
        while (System.currentTimeMillis() < deadline) {
            matching = changes(broker, topics).stream().filter(which).toList();
            if (matching.size() >= count) {
                assertThat(matching).as("no more than expected").hasSize(count);
                return matching;
            }
            Thread.sleep(500);
        }
        throw new AssertionError("only " + matching.size() + " of " + count + " changes within " + TIMEOUT_MS
                + " ms: " + matching);
    }

    /** Waits until {@code count} users have a committed profile matching {@code which}; their latest such profile. */
    private static Map<String, SegmentProfile> awaitProfiles(LocalKafkaBroker broker, TopicsConfig topics,
                                                             Predicate<SegmentProfile> which, int count)
            throws InterruptedException {
        long deadline = System.currentTimeMillis() + TIMEOUT_MS;
        Map<String, SegmentProfile> latest = Map.of();
        while (System.currentTimeMillis() < deadline) {
            latest = KafkaTestSupport.readAllCommitted(broker.bootstrapServers(), topics.name(TopicsConfig.PROFILES),
                    new SegmentProfileCodec()).stream().filter(which)
                    .collect(Collectors.toMap(SegmentProfile::userId, p -> p, (a, b) -> b));
            if (latest.size() >= count) {
                return latest;
            }
            Thread.sleep(500);
        }
        throw new AssertionError("only " + latest.size() + " of " + count + " profiles within " + TIMEOUT_MS + " ms");
    }
}
