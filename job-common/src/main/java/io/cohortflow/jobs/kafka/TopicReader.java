package io.cohortflow.jobs.kafka;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

/** Reads a topic from the beginning to its current end, committed records only (read_committed). */
public final class TopicReader {
    private TopicReader() {
    }

    /**
     * Calls {@code each} for every committed record of {@code topic} up to the end offsets at the time of the call:
     * the last stable offsets, so a transaction still open (or whose commit is still being written) ends the read.
     */
    public static long readToEnd(String bootstrapServers, String topic, Duration timeout,
                                 Consumer<ConsumerRecord<byte[], byte[]>> each) {
        return read(bootstrapServers, topic, timeout, each, false);
    }

    /**
     * Calls {@code each} for every committed record among all those written to {@code topic} before the call, once
     * the transaction of each has ended (aborted ones are skipped). Kafka acknowledges a commit to its producer before
     * it has written the commit's markers, so right after a job has committed, its records can still lie past the
     * stable end that {@link #readToEnd} stops at: a reader that must see what a finished job wrote reads to here. A
     * transaction left open (a producer that died mid-transaction) holds the read until it times out, or the
     * {@code timeout} ends it with an error.
     */
    public static long readToEndSettled(String bootstrapServers, String topic, Duration timeout,
                                        Consumer<ConsumerRecord<byte[], byte[]>> each) {
        return read(bootstrapServers, topic, timeout, each, true);
    }

    private static long read(String bootstrapServers, String topic, Duration timeout,
                             Consumer<ConsumerRecord<byte[], byte[]>> each, boolean settled) {
        try (var consumer = new KafkaConsumer<>(Map.<String, Object>of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false,
                ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 5000),
                new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = consumer.partitionsFor(topic).stream()
                    .map(p -> new TopicPartition(topic, p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = settled ? writtenEnd(bootstrapServers, partitions, timeout)
                    : consumer.endOffsets(partitions);
            long deadline = System.nanoTime() + timeout.toNanos();
            long count = 0;
            while (partitions.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp))) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("timed out reading " + topic + " after " + timeout
                            + (settled ? " (a transaction on it did not end)" : ""));
                }
                for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(200))) {
                    each.accept(record);
                    count++;
                }
            }
            return count;
        }
    }

    /** The partitions' high watermarks: the end of everything written, open transactions included. */
    private static Map<TopicPartition, Long> writtenEnd(String bootstrapServers, List<TopicPartition> partitions,
                                                        Duration timeout) {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers))) {
            Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
            partitions.forEach(tp -> latest.put(tp, OffsetSpec.latest()));
            Map<TopicPartition, Long> end = new HashMap<>();
            admin.listOffsets(latest, new ListOffsetsOptions(IsolationLevel.READ_UNCOMMITTED)).all()
                    .get(timeout.toMillis(), TimeUnit.MILLISECONDS).forEach((tp, info) -> end.put(tp, info.offset()));
            return end;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted reading the end offsets of " + partitions, e);
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("cannot read the end offsets of " + partitions, e);
        }
    }
}
