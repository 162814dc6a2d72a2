package io.cohortflow.kafka.local;

import io.cohortflow.core.config.TopicsConfig;
import io.cohortflow.jobs.kafka.TopicReader;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

class LocalKafkaBrokerTest {

    @Test
    void startsCreatesTopicsAndCommitsTransactions() throws Exception {
        TopicsConfig topics = TopicsConfig.defaults();
        try (LocalKafkaBroker broker = LocalKafkaBroker.start()) {
            System.out.printf("broker start: %d ms%n", broker.startupTime().toMillis());
            broker.createTopics(topics);
            broker.createTopics(topics); // idempotent

            try (Admin admin = broker.admin()) {
                Map<String, TopicDescription> described = admin.describeTopics(
                        List.of(topics.name(TopicsConfig.RAW), topics.name(TopicsConfig.PROFILES))).allTopicNames().get();
                assertThat(described.get("events.raw").partitions()).hasSize(4);
                var profilesConfig = admin.describeConfigs(List.of(
                        new ConfigResource(ConfigResource.Type.TOPIC, "segments.profiles"))).all().get();
                assertThat(profilesConfig.values().iterator().next().get("cleanup.policy").value()).isEqualTo("compact");
                assertThat(admin.listTopics().names().get()).containsAll(
                        Set.of("events.raw", "events.unified", "events.dlq", "identity.merges", "segments.changes",
                                "segments.profiles", "segments.definitions", "models.published"));
            }

            // A committed and an aborted transaction: read_committed sees only the first.
            try (var producer = new KafkaProducer<String, String>(Map.of(
                    ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers(),
                    ProducerConfig.TRANSACTIONAL_ID_CONFIG, "t1"), new StringSerializer(), new StringSerializer())) {
                producer.initTransactions();
                producer.beginTransaction();
                producer.send(new ProducerRecord<>("events.dlq", "k", "committed"));
                producer.commitTransaction();
                producer.beginTransaction();
                producer.send(new ProducerRecord<>("events.dlq", "k", "aborted"));
                producer.abortTransaction();
            }
            try (var consumer = new KafkaConsumer<String, String>(Map.of(
                    ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers(),
                    ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
                    ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
                    ConsumerConfig.GROUP_ID_CONFIG, "g"), new StringDeserializer(), new StringDeserializer())) {
                consumer.subscribe(List.of("events.dlq"));
                List<String> values = new ArrayList<>();
                long deadline = System.currentTimeMillis() + 20_000;
                while (values.isEmpty() && System.currentTimeMillis() < deadline) {
                    for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
                        values.add(r.value());
                    }
                }
                assertThat(values).containsExactly("committed");
            }
        }
    }

    @Test
    void aBrokerStartsAgainOnItsDataAndPortsWithItsTopicsAndRecords(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws Exception {
        int port = LocalKafkaBroker.freePort();
        int controllerPort = LocalKafkaBroker.freePort();
        try (LocalKafkaBroker broker = LocalKafkaBroker.start(dir, false, port, controllerPort)) {
            broker.createTopics(List.of(new org.apache.kafka.clients.admin.NewTopic("kept", 1, (short) 1)));
            try (KafkaProducer<String, String> producer = new KafkaProducer<>(Map.of(
                    ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()),
                    new StringSerializer(), new StringSerializer())) {
                producer.send(new ProducerRecord<>("kept", "k", "before the restart")).get();
            }
        }
        try (LocalKafkaBroker again = LocalKafkaBroker.start(dir, true, port, controllerPort)) {
            assertThat(again.bootstrapServers()).isEqualTo("127.0.0.1:" + port);
            List<String> values = new ArrayList<>();
            TopicReader.readToEnd(again.bootstrapServers(), "kept", Duration.ofSeconds(30),
                    r -> values.add(new String(r.value(), java.nio.charset.StandardCharsets.UTF_8)));
            assertThat(values).containsExactly("before the restart");
        }
    }

    /**
     * A transaction still open: the stable read ends before it at once, the settled read waits for it to end and then
     * has its records (what a reader of a job that has just finished needs: Kafka writes a commit's markers after the
     * producer has been told the commit is done), or says the transaction did not end.
     */
    @Test
    void theSettledReadWaitsForTheTransactionsWrittenBeforeIt() throws Exception {
        try (LocalKafkaBroker broker = LocalKafkaBroker.start();
             var producer = new KafkaProducer<String, String>(Map.of(
                     ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers(),
                     ProducerConfig.TRANSACTIONAL_ID_CONFIG, "open"), new StringSerializer(), new StringSerializer())) {
            broker.createTopics(List.of(new org.apache.kafka.clients.admin.NewTopic("pending", 1, (short) 1)));
            producer.initTransactions();
            producer.beginTransaction();
            producer.send(new ProducerRecord<>("pending", "k", "first")).get();

            assertThat(TopicReader.readToEnd(broker.bootstrapServers(), "pending", Duration.ofSeconds(10), r -> { }))
                    .as("the stable end is before the open transaction").isZero();
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> TopicReader.readToEndSettled(
                    broker.bootstrapServers(), "pending", Duration.ofSeconds(1), r -> { }))
                    .hasMessageContaining("a transaction on it did not end");

            java.util.concurrent.CompletableFuture<Void> commit = java.util.concurrent.CompletableFuture.runAsync(() -> {
                try {
                    Thread.sleep(500);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                producer.commitTransaction();
            });
            List<String> values = new ArrayList<>();
            TopicReader.readToEndSettled(broker.bootstrapServers(), "pending", Duration.ofSeconds(30),
                    r -> values.add(new String(r.value(), java.nio.charset.StandardCharsets.UTF_8)));
            commit.get();
            assertThat(values).containsExactly("first");
        }
    }

    /** The README's command: a broker process on fixed ports and a kept directory, stopped and started again. */
    @Test
    void theMainKeepsItsDataAcrossAStopAndAStart(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        String port = Integer.toString(LocalKafkaBroker.freePort());
        String controllerPort = Integer.toString(LocalKafkaBroker.freePort());
        List<String> command = List.of(java.nio.file.Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), LocalKafkaMain.class.getName(),
                "--data-dir", dir.toString(), "--port", port, "--controller-port", controllerPort);
        for (int run = 0; run < 2; run++) {
            Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
            try {
                java.io.BufferedReader out = new java.io.BufferedReader(
                        new java.io.InputStreamReader(process.getInputStream(), java.nio.charset.StandardCharsets.UTF_8));
                String line;
                while ((line = out.readLine()) != null && !line.startsWith("Kafka broker up at")) {
                    // the broker's own log lines
                }
                assertThat(line).as("run " + run).isEqualTo("Kafka broker up at 127.0.0.1:" + port + " (data in " + dir
                        + "; Ctrl-C stops it, the data stays)");
                try (Admin admin = Admin.create(Map.of("bootstrap.servers", "127.0.0.1:" + port))) {
                    assertThat(admin.listTopics().names().get()).containsAll(
                            TopicsConfig.defaults().all().stream().map(t -> t.name()).toList());
                }
            } finally {
                process.destroy(); // SIGTERM, as Ctrl-C: the shutdown hook stops the broker cleanly
                assertThat(process.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
            }
        }
    }
}
