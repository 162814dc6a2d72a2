package io.cohortflow.ingest;

import io.cohortflow.core.config.TopicsConfig;
import io.cohortflow.core.event.DeadLetter;
import io.cohortflow.core.event.DeadLetterCodec;
import io.cohortflow.core.event.UnifiedEvent;
import io.cohortflow.core.event.UnifiedEventCodec;
import io.cohortflow.jobs.kafka.KafkaLimits;
import io.cohortflow.kafka.local.LocalKafkaBroker;
import io.cohortflow.testkit.KafkaTestSupport;
import io.cohortflow.testkit.MiniClusters;
import io.cohortflow.testkit.SharedKafka;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Input that once stopped ingest for good: a 0.9 MB record and a 5 MB one (events.raw's limit raised for it) grew
 * past the producer's 1 MB limit as dead letters carrying the whole payload JSON-escaped, the write failed, and the
 * job restarted until it gave up. Now each is dead-lettered with its first bytes, size and SHA-256, a batch of 10,000
 * calls maps every call, and a tombstone gets its own reason. The job runs with no restart strategy: any failure
 * fails the test, so passing means it never restarted.
 */
@ExtendWith(SharedKafka.class)
class LargeInputITCase {
    @RegisterExtension
    static final MiniClusterExtension FLINK = MiniClusters.extension();

    private static final long NOW = Instant.parse("2026-03-02T12:00:00Z").toEpochMilli();

    @Test
    void hugeRecordsABigBatchAndATombstoneAreEachHandledAndTheJobNeverFails(LocalKafkaBroker broker) throws Exception {
        TopicsConfig topics = KafkaTestSupport.uniqueTopics(broker, "large");
        setTopicConfig(broker, topics.name(TopicsConfig.RAW), "max.message.bytes", Integer.toString(6 * 1024 * 1024));
        byte[] nearlyOneMegabyte = call("big-1", 900 * 1024);
        byte[] fiveMegabytes = call("big-5", 5 * 1024 * 1024);
        StringBuilder batch = new StringBuilder("{\"batch\":[");
        for (int i = 0; i < 10_000; i++) {
            batch.append(i == 0 ? "" : ",").append("{\"type\":\"track\",\"event\":\"Product Viewed\",\"messageId\":\"b")
                    .append(i).append("\",\"anonymousId\":\"anon_").append(i % 100).append("\",\"timestamp\":\"")
                    .append(Instant.ofEpochMilli(NOW)).append("\"}");
        }
        byte[] bigBatch = batch.append("]}").toString().getBytes(StandardCharsets.UTF_8);
        List<byte[]> values = new ArrayList<>();
        values.add(nearlyOneMegabyte);
        values.add(fiveMegabytes);
        values.add(bigBatch);
        values.add(null); // a tombstone
        values.add(call("small", 10));
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers(),
                ProducerConfig.MAX_REQUEST_SIZE_CONFIG, 6 * 1024 * 1024), new ByteArraySerializer(), new ByteArraySerializer())) {
            for (byte[] value : values) {
                producer.send(new ProducerRecord<>(topics.name(TopicsConfig.RAW), null, "k".getBytes(StandardCharsets.UTF_8),
                        value, List.of(new RecordHeader("source", "web".getBytes(StandardCharsets.UTF_8)),
                        new RecordHeader("received-at", Long.toString(NOW).getBytes(StandardCharsets.UTF_8))))).get();
            }
        }

        List<String> args = new ArrayList<>(List.of("--bootstrap-servers", broker.bootstrapServers(),
                "--transaction-timeout", "60s", "--group-id", "it-large-" + topics.name(TopicsConfig.RAW),
                "--history-path", KafkaTestSupport.tempDir("history-").toUri().toString()));
        args.addAll(KafkaTestSupport.topicArgs(topics));
        IngestOptions options = IngestOptions.parse(args.toArray(String[]::new));
        KafkaLimits.check(options.kafka(), List.of(topics.name(TopicsConfig.UNIFIED), topics.name(TopicsConfig.DLQ)));
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(MiniClusters.jobConfig());
        IngestJob.configure(env, options);
        IngestJob.fromOptions(options, true).build(env);
        env.execute("ingest of large input"); // no restart strategy: a failure throws here

        String bs = broker.bootstrapServers();
        List<UnifiedEvent> unified = KafkaTestSupport.readUserActions(bs, topics.name(TopicsConfig.UNIFIED));
        assertThat(unified).hasSize(10_001);
        List<DeadLetter> dlq = KafkaTestSupport.readAllCommitted(bs, topics.name(TopicsConfig.DLQ), new DeadLetterCodec());
        assertThat(dlq).extracting(DeadLetter::reason).containsExactlyInAnyOrder("OVERSIZED", "OVERSIZED", "EMPTY_RECORD");
        for (byte[] original : List.of(nearlyOneMegabyte, fiveMegabytes)) {
            assertThat(dlq).filteredOn(d -> d.payloadBytes() == original.length).singleElement().satisfies(d -> {
                assertThat(d.payloadTruncated()).isTrue();
                assertThat(d.payloadSha256()).isEqualTo(sha256(original));
                assertThat(d.payloadBytesKept()).hasSize(DeadLetter.DEFAULT_MAX_PAYLOAD_BYTES);
            });
        }
        System.out.printf("large input: %,d and %,d byte records dead-lettered as %s; a %,d byte batch gave %,d events%n",
                nearlyOneMegabyte.length, fiveMegabytes.length, dlq.stream().map(DeadLetter::reason).toList(),
                bigBatch.length, unified.size() - 1);
    }

    @Test
    void aJobRefusesToStartWhenATopicAcceptsLessThanItMayWrite(LocalKafkaBroker broker) throws Exception {
        TopicsConfig topics = KafkaTestSupport.uniqueTopics(broker, "limits");
        setTopicConfig(broker, topics.name(TopicsConfig.DLQ), "max.message.bytes", "100000");
        IngestOptions options = IngestOptions.parse(new String[] {"--bootstrap-servers", broker.bootstrapServers(),
                "--history-path", "file:///tmp/unused", "--topic.dlq=" + topics.name(TopicsConfig.DLQ)});
        assertThatThrownBy(() -> KafkaLimits.check(options.kafka(), List.of(topics.name(TopicsConfig.DLQ))))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining(topics.name(TopicsConfig.DLQ)).hasMessageContaining("100000");
    }

    /** A track call of about {@code size} bytes. */
    private static byte[] call(String messageId, int size) {
        return ("{\"type\":\"track\",\"event\":\"Product Viewed\",\"messageId\":\"" + messageId
                + "\",\"anonymousId\":\"anon_big\",\"timestamp\":\"" + Instant.ofEpochMilli(NOW)
                + "\",\"properties\":{\"blob\":\"" + "\\\"".repeat(size / 2) + "\"}}").getBytes(StandardCharsets.UTF_8);
    }

    private static String sha256(byte[] bytes) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    }

    /** Sets a topic config and waits until the broker describes it (the controller applies it asynchronously). */
    private static void setTopicConfig(LocalKafkaBroker broker, String topic, String key, String value) throws Exception {
        ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, topic);
        try (var admin = broker.admin()) {
            admin.incrementalAlterConfigs(Map.of(resource,
                    List.of(new AlterConfigOp(new ConfigEntry(key, value), AlterConfigOp.OpType.SET))))
                    .all().get(30, TimeUnit.SECONDS);
            long deadline = System.currentTimeMillis() + 30_000;
            while (!value.equals(admin.describeConfigs(List.of(resource)).all().get(30, TimeUnit.SECONDS)
                    .get(resource).get(key).value())) {
                if (System.currentTimeMillis() > deadline) {
                    throw new AssertionError(key + " of " + topic + " did not become " + value);
                }
                Thread.sleep(50);
            }
        }
    }
}
