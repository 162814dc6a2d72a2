package io.cohortflow.local;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Follows a topic from its beginning (read_committed) on a daemon thread of its own, handing each record to
 * {@code each}, until closed. What the local run watches while the jobs run: the change feed, the story's profile,
 * activation.dlq. It reads every partition by assignment, without a consumer group, so no rebalance makes it read
 * a record twice. A record {@code each} fails on is reported and skipped; the follower goes on.
 */
final class TopicFollower implements AutoCloseable {
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final Thread thread;
    private final String topic;
    private volatile boolean running = true;
    private volatile boolean started;

    TopicFollower(String bootstrapServers, String topic, Consumer<ConsumerRecord<byte[], byte[]>> each) {
        this.topic = topic;
        this.consumer = new KafkaConsumer<>(Map.<String, Object>of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false),
                new ByteArrayDeserializer(), new ByteArrayDeserializer());
        List<TopicPartition> partitions = consumer.partitionsFor(topic).stream()
                .map(p -> new TopicPartition(topic, p.partition())).toList();
        consumer.assign(partitions);
        consumer.seekToBeginning(partitions);
        this.thread = new Thread(() -> run(each), "follow-" + topic);
        thread.setDaemon(true);
    }

    void start() {
        started = true;
        thread.start();
    }

    private void run(Consumer<ConsumerRecord<byte[], byte[]>> each) {
        try {
            while (running) {
                for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(250))) {
                    try {
                        each.accept(record);
                    } catch (RuntimeException e) {
                        System.err.printf("  (skipped a record of %s at %d/%d: %s)%n", topic, record.partition(),
                                record.offset(), e);
                    }
                }
            }
        } catch (WakeupException e) {
            // closing
        } finally {
            consumer.close();
        }
    }

    @Override
    public void close() throws InterruptedException {
        if (!started) {
            consumer.close();
            return;
        }
        running = false;
        consumer.wakeup();
        thread.join(5_000);
    }
}
