package io.cohortflow.deploy;

import io.cohortflow.core.config.TopicsConfig;
import io.cohortflow.kafka.local.LocalKafkaBroker;
import io.cohortflow.testkit.KafkaTestSupport;
import io.cohortflow.testkit.Repository;
import io.cohortflow.testkit.SharedKafka;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The README's {@code java -cp <the -job jar> <main>} commands, taken from the README and run in bash with nothing but
 * the jar on the classpath: Backfill, HistoryCompaction, SegmentsCli (validate, publish), RegulationsCli (submit, show,
 * status), HistoryErasure, RegistryCli (list, promote) and AudienceSnapshot. Only the
 * addresses are the test's own: its broker for {@code kafka:9092}, a file registry for the S3 bucket, a topic of its
 * own (an added {@code --topic}); the jars' paths are made absolute, and the files the commands name are made in the
 * directory they run in.
 */
@ExtendWith(SharedKafka.class)
class DocumentedMainsITCase {
    private static final Path ROOT = Repository.root();

    @Test
    void theJobJarsRunTheirDocumentedMainsAsWritten(LocalKafkaBroker broker, @TempDir Path dir) throws Exception {
        TopicsConfig topics = KafkaTestSupport.uniqueTopics(broker, "documented-mains");
        Files.writeString(dir.resolve("orders-export.csv"), """
                type,event,userId,messageId,timestamp,properties.revenue,properties.currency
                track,Order Completed,17850,o-1,2026-03-01T08:26:00Z,15.3,GBP
                track,Order Completed,17850,o-2,2026-03-02T10:00:00Z,22.0,GBP
                track,Order Completed,13047,o-3,2026-03-02T11:30:00Z,54.1,GBP
                """);
        Files.copy(ROOT.resolve("conf/segments.yaml"), dir.resolve("my-segments.yaml"));
        KafkaTestSupport.copyTree(ROOT.resolve("model-registry/src/test/resources/current-registry"),
                dir.resolve(".local-run/registry"));

        List<String> script = new ArrayList<>(List.of("set -e"));
        for (String line : Repository.readmeBashBlock("io.cohortflow.ingest.backfill.Backfill")) {
            script.add(addresses(withOption(line, "--topic " + topics.name(TopicsConfig.RAW)), broker));
        }
        // The warehouse's compaction, from the ingest jar, over a history of the test's own (one day, nothing to merge:
        // what it compacts is HistoryCompactionTest's; here, that the jar runs it as written).
        Files.createDirectories(dir.resolve("history/dt=2026-03-01"));
        for (String line : Repository.readmeBashBlock("--history file:///data/history")) {
            script.add(addresses(line.replace("file:///data/history", "file://$PWD/history"), broker));
        }
        for (String line : Repository.readmeBashBlock("io.cohortflow.segmentation.cli.SegmentsCli")) {
            line = line.replace(" conf/segments.yaml", " " + ROOT.resolve("conf/segments.yaml"));
            script.add(addresses(line.contains(" publish ")
                    ? withOption(line, "--topic " + topics.name(TopicsConfig.DEFINITIONS)) : line, broker));
        }
        String privacyTopics = "--topic " + topics.name(TopicsConfig.PRIVACY) + " --status-topic "
                + topics.name(TopicsConfig.PRIVACY_STATUS);
        for (String line : Repository.readmeBashBlock("io.cohortflow.segmentation.cli.RegulationsCli")) {
            script.add(addresses(withOption(line, line.contains(" status ") ? privacyTopics
                    : "--topic " + topics.name(TopicsConfig.PRIVACY)), broker));
        }
        // The history erasure of that request, over the test's own (empty) history: nothing to rewrite, so it is
        // recorded done at once (what it rewrites is HistoryErasureTest's and PrivacyITCase's).
        for (String line : Repository.readmeBashBlock("io.cohortflow.ingest.history.HistoryErasure")) {
            // (--min-age 0s: the request above was made a moment ago; the README's margin of an hour is for ingest.)
            script.add(addresses(withOption(line.replace("file:///data/history", "file://$PWD/history")
                    .replace("--topic privacy.requests --status-topic privacy.status", privacyTopics), "--min-age 0s"),
                    broker));
        }
        for (String line : Repository.readmeBashBlock("io.cohortflow.registry.RegistryCli")) {
            line = line.replace("s3a://cohortflow-models", "file://$PWD/.local-run/registry");
            script.add(addresses(line.contains("--bootstrap-servers")
                    ? withOption(line, "--topic " + topics.name(TopicsConfig.MODELS)) : line, broker));
        }
        // One member of the bundle segment on the profiles topic, for the audience snapshot.
        try (var producer = new KafkaProducer<byte[], byte[]>(Map.<String, Object>of(
                "bootstrap.servers", broker.bootstrapServers(), "acks", "all"),
                new ByteArraySerializer(), new ByteArraySerializer())) {
            producer.send(new ProducerRecord<>(topics.name(TopicsConfig.PROFILES),
                    "user_jane".getBytes(StandardCharsets.UTF_8), ("{\"userId\":\"user_jane\",\"asOf\":1,"
                    + "\"segments\":[\"bundle_buyer_high_propensity\"],\"features\":{},\"scores\":{},\"model\":\"bundle@v1\","
                    + "\"traits\":{\"email_sha256\":\"86e0b9e56c17cc4d12387e1949b85053fbe73bc3ce5a1188713a9d300cc6133d\"}}")
                    .getBytes(StandardCharsets.UTF_8)));
        }
        for (String line : Repository.readmeBashBlock("io.cohortflow.activation.AudienceSnapshot")) {
            script.add(addresses(withOption(line, "--topic " + topics.name(TopicsConfig.PROFILES)), broker));
        }
        String[] output = run(script, dir, 5);
        String shown = output[2];

        assertThat(output[0]).as(shown).contains("backfill of orders-export.csv done: 3 records")
                .contains("compaction done: 0 partitions");
        List<ConsumerRecord<byte[], byte[]>> raw = KafkaTestSupport.readAllCommitted(broker.bootstrapServers(),
                topics.name(TopicsConfig.RAW));
        assertThat(raw).hasSize(3).allSatisfy(r -> {
            assertThat(header(r, "source")).isEqualTo("web");
            assertThat(header(r, "replay")).isEqualTo("true");
        });
        assertThat(new String(raw.get(0).value(), StandardCharsets.UTF_8)).contains("\"messageId\":\"o-1\"", "\"revenue\":15.3");

        long segments = KafkaTestSupport.readAllCommitted(broker.bootstrapServers(), topics.name(TopicsConfig.DEFINITIONS)).size();
        assertThat(segments).as("every segment of the file published").isPositive();
        assertThat(output[0].lines().filter(l -> l.startsWith("published ")).count()).isEqualTo(segments);

        assertThat(output[0]).as(shown).contains("bundle v1", "<- current");
        assertThat(output[0]).as(shown).contains("recorded DELETE request gdpr-2026-0042 for 2 ids",
                "gdpr-2026-0042 DELETE: 2 ids", "by dpo@example.com", "  history       pending", "not done yet",
                "erasure done: 1 requests");
        assertThat(dir.resolve("history/_erasures/gdpr-2026-0042.json")).as("the erasure recorded").exists();
        assertThat(output[0]).as(shown)
                .contains("bundle_buyer_high_propensity: 1 members among 1 profiles; 1 rows written to audience.csv");
        assertThat(Files.readAllLines(dir.resolve("audience.csv"))).containsExactly("email,phone,extern_id",
                "86e0b9e56c17cc4d12387e1949b85053fbe73bc3ce5a1188713a9d300cc6133d,,user_jane");
        assertThat(KafkaTestSupport.readAllCommitted(broker.bootstrapServers(), topics.name(TopicsConfig.MODELS)))
                .as("the promotion is announced").hasSize(1);
    }

    /** The test's broker for the README's, and the jars where this build made them. */
    private static String addresses(String line, LocalKafkaBroker broker) {
        for (String module : List.of("ingest-job", "segmentation-job", "training-batch", "activation-job", "console")) {
            line = line.replace(module + "/target/", ROOT.resolve(module + "/target") + "/");
        }
        return line.replace("kafka:9092", broker.bootstrapServers());
    }

    /**
     * The console's block as written: a token made and kept by its digest, the console started in the background,
     * a wait for its readiness, a preview, a publication and a lookup with the token, and the console stopped. The
     * test's own: its broker and topics (added {@code --topic.ROLE=NAME}), and a free port for 8090.
     */
    @Test
    void theConsoleRunsAsDocumented(LocalKafkaBroker broker, @TempDir Path dir) throws Exception {
        TopicsConfig topics = KafkaTestSupport.uniqueTopics(broker, "documented-console");
        int port;
        try (var socket = new java.net.ServerSocket(0)) {
            port = socket.getLocalPort();
        }
        String renames = TopicsConfig.ROLES.stream().map(r -> "--topic." + r + "=" + topics.name(r))
                .collect(java.util.stream.Collectors.joining(" "));
        // (The test's own: whatever way the script ends, the console it started in the background stops with it.)
        List<String> script = new ArrayList<>(List.of("set -e", "trap 'kill $(jobs -p) 2>/dev/null || true' EXIT"));
        for (String line : Repository.readmeBashBlock("console-0.1.0-SNAPSHOT-app.jar")) {
            line = addresses(line, broker).replace("8090", Integer.toString(port));
            script.add(line.contains("java -jar") ? line.replace(" &", " " + renames + " &") : line);
        }
        String[] output = run(script, dir, 2);
        String shown = output[2];
        assertThat(output[1]).as("nothing fails: " + shown).doesNotContain("Exception");
        assertThat(output[0]).as(shown).contains("\"matched\":0", "\"id\":\"big_carts_left\"",
                "no profile for user_jane");
        assertThat(KafkaTestSupport.readAllCommitted(broker.bootstrapServers(), topics.name(TopicsConfig.DEFINITIONS),
                new io.cohortflow.core.segment.SegmentDefinitionCodec())).extracting(d -> d.id())
                .containsExactly("big_carts_left");
        assertThat(Files.readString(dir.resolve("console-tokens.yaml"))).as("the digest, never the token")
                .matches("(?s)tokens:\n  - \\{name: marketing, sha256: [0-9a-f]{64}, access: write}\n");
    }

    /**
     * Runs the script with bash in {@code dir} and checks that it exits 0 within the minutes given and that nothing
     * failed to load; returns its stdout, its stderr, and both with the script for assertion messages.
     */
    private static String[] run(List<String> script, Path dir, int minutes) throws Exception {
        Process bash = new ProcessBuilder("bash", "-c", String.join("\n", script)).directory(dir.toFile()).start();
        String[] output = new String[3];
        Thread stderr = new Thread(() -> output[1] = read(bash.getErrorStream()));
        stderr.start();
        output[0] = read(bash.getInputStream());
        if (!bash.waitFor(minutes, TimeUnit.MINUTES)) {
            bash.descendants().forEach(ProcessHandle::destroyForcibly);
            bash.destroyForcibly();
        }
        stderr.join();
        output[2] = String.join("\n", script) + "\n--- stdout ---\n" + output[0] + "\n--- stderr ---\n" + output[1];
        assertThat(bash.exitValue()).as(output[2]).isZero();
        assertThat(output[1]).as("nothing fails to load: " + output[2])
                .doesNotContain("NoClassDefFoundError", "SLF4J", "StatusLogger");
        return output;
    }

    /** {@code option} added to a command line, before its trailing comment if it has one. */
    private static String withOption(String line, String option) {
        int comment = line.indexOf(" #");
        return comment < 0 ? line + " " + option : line.substring(0, comment) + " " + option + line.substring(comment);
    }

    private static String header(ConsumerRecord<byte[], byte[]> record, String name) {
        var header = record.headers().lastHeader(name);
        return header == null ? null : new String(header.value(), StandardCharsets.UTF_8);
    }

    private static String read(java.io.InputStream in) {
        try {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (java.io.IOException e) {
            return e.toString();
        }
    }
}
