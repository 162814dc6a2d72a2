package io.cohortflow.testkit;

import io.cohortflow.core.codec.JsonCodec;
import io.cohortflow.core.config.TopicsConfig;
import io.cohortflow.core.event.UnifiedEvent;
import io.cohortflow.core.event.UnifiedEventCodec;
import io.cohortflow.core.identity.IdentityLink;
import io.cohortflow.kafka.local.LocalKafkaBroker;
import io.cohortflow.jobs.kafka.TopicReader;
import org.apache.kafka.clients.consumer.ConsumerRecord;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.stream.Collectors;

/** Kafka helpers for integration tests: per-test topics and read_committed reads to the end of a topic. */
public final class KafkaTestSupport {
    private KafkaTestSupport() {
    }

    /**
     * The product's topics (partitions and configs from conf/topics.yaml) under names unique to this test, created on
     * the broker. Returns a topics.yaml path the jobs can be given with {@code --topics-config}, and the config.
     */
    public static TopicsConfig uniqueTopics(LocalKafkaBroker broker, String testName) {
        String suffix = testName + "-" + UUID.randomUUID().toString().substring(0, 8);
        TopicsConfig defaults = TopicsConfig.defaults();
        TopicsConfig topics = defaults.renamed(TopicsConfig.ROLES.stream()
                .collect(Collectors.toMap(role -> role, role -> defaults.name(role) + "." + suffix)));
        broker.createTopics(topics);
        return topics;
    }

    /** The {@code --topic.<role>=<name>} arguments that point a job at {@code topics}. */
    public static List<String> topicArgs(TopicsConfig topics) {
        return TopicsConfig.ROLES.stream().map(role -> "--topic." + role + "=" + topics.name(role)).collect(Collectors.toList());
    }

    /**
     * Every committed record of {@code topic} written before the call, read from the beginning once their
     * transactions have ended ({@link TopicReader#readToEndSettled}): what a job that has just finished wrote is all
     * there, though Kafka writes its last commit's markers after the job has been told the commit is done.
     */
    public static List<ConsumerRecord<byte[], byte[]>> readAllCommitted(String bootstrapServers, String topic) {
        List<ConsumerRecord<byte[], byte[]>> records = new ArrayList<>();
        TopicReader.readToEndSettled(bootstrapServers, topic, Duration.ofSeconds(60), records::add);
        return records;
    }

    /** The user actions on events.unified (committed), without the identity link markers it also holds. */
    public static List<UnifiedEvent> readUserActions(String bootstrapServers, String topic) {
        return readAllCommitted(bootstrapServers, topic, new UnifiedEventCodec()).stream()
                .filter(event -> !IdentityLink.isMarker(event)).toList();
    }

    /** The committed values of {@code topic}, decoded. */
    public static <T> List<T> readAllCommitted(String bootstrapServers, String topic, JsonCodec<T> codec) {
        // Tombstones (no value: an erased profile) are not records of T.
        return readAllCommitted(bootstrapServers, topic).stream().filter(r -> r.value() != null)
                .map(r -> codec.decode(r.value())).toList();
    }

    /** The directories {@link #tempDir} made, removed with what they hold when the JVM exits. */
    private static final List<Path> TEMP_DIRS = new ArrayList<>();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(KafkaTestSupport::deleteTempDirs, "temp-dirs-cleanup"));
    }

    /**
     * A fresh directory for a test's or a benchmark's files (checkpoints, savepoints, a history), removed when the JVM
     * exits: a suite's runs left about 40 MB of savepoints and checkpoints each in the temporary directory, for good.
     */
    public static Path tempDir(String prefix) {
        try {
            Path dir = Files.createTempDirectory(prefix);
            synchronized (TEMP_DIRS) {
                TEMP_DIRS.add(dir);
            }
            return dir;
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** Removes the directories of {@link #tempDir}, as far as it can: a file still open is left, and said so. */
    static void deleteTempDirs() {
        List<Path> dirs;
        synchronized (TEMP_DIRS) {
            dirs = new ArrayList<>(TEMP_DIRS);
            TEMP_DIRS.clear();
        }
        for (Path dir : dirs) {
            if (!Files.exists(dir)) {
                continue;
            }
            try (var files = Files.walk(dir)) {
                for (Path f : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(f);
                }
            } catch (java.io.IOException | java.io.UncheckedIOException e) {
                System.err.println("[testkit] could not remove " + dir + ": " + e);
            }
        }
    }

    /**
     * Copies the files under {@code from} to the same places under {@code to} (a registry fixture into a test's own
     * directory), leaving out Hadoop's {@code .crc} checksum sidecars. Returns {@code to}.
     */
    public static Path copyTree(Path from, Path to) {
        try (var files = Files.walk(from)) {
            for (Path f : files.filter(Files::isRegularFile).filter(f -> !f.getFileName().toString().endsWith(".crc"))
                    .toList()) {
                Path target = to.resolve(from.relativize(f).toString());
                Files.createDirectories(target.getParent());
                Files.copy(f, target);
            }
            return to;
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
