package io.cohortflow.console.store;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Follows one topic into the {@link ConsoleStore}: reads every partition (committed records only) from the offsets
 * the store holds, applies each poll's records and their offsets in one atomic batch. No consumer group: the store is
 * the consumer's memory, so two consoles each keep their own copy. A record that cannot be read is counted and
 * logged, and the others go on.
 */
public final class TopicFollower implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(TopicFollower.class);

    /** Applies one record to the batch; throws on a record it cannot read. */
    @FunctionalInterface
    public interface Apply {
        void apply(ConsoleStore.Batch batch, ConsumerRecord<byte[], byte[]> record) throws Exception;
    }

    private final String topic;
    private final ConsoleStore store;
    private final Apply apply;
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final Thread thread;
    private final CountDownLatch caughtUp = new CountDownLatch(1);
    private final AtomicLong applied = new AtomicLong();
    private final AtomicLong unreadable = new AtomicLong();
    private final boolean remembers;
    private volatile boolean running = true;
    /** The last failure, until a poll succeeds again. */
    private volatile String failure;
    private final Runnable restart;

    /**
     * @param remembers whether the store keeps where it stands: false for a topic held in memory (the definitions,
     *                  a few hundred records), which is read from its start on every start
     */
    public TopicFollower(String bootstrapServers, String topic, ConsoleStore store, boolean remembers, Apply apply) {
        this(bootstrapServers, topic, store, remembers, apply, () -> { });
    }

    /** @param restart for a topic held in memory ({@code remembers} false): forgets it before it is read anew */
    public TopicFollower(String bootstrapServers, String topic, ConsoleStore store, boolean remembers, Apply apply,
                         Runnable restart) {
        this.restart = restart;
        this.topic = topic;
        this.remembers = remembers;
        this.store = store;
        this.apply = apply;
        this.consumer = new KafkaConsumer<>(Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false,
                ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 5000,
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
                ConsumerConfig.CLIENT_ID_CONFIG, "console-" + topic),
                new ByteArrayDeserializer(), new ByteArrayDeserializer());
        this.thread = new Thread(this::run, "console-follow-" + topic);
        this.thread.setDaemon(true);
    }

    public TopicFollower start() {
        thread.start();
        return this;
    }

    /** Waits until the store holds everything the topic had when the follower started. */
    public boolean awaitCaughtUp(Duration timeout) throws InterruptedException {
        return caughtUp.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    public boolean caughtUp() {
        return caughtUp.getCount() == 0;
    }

    /** The failure the follower is retrying after, if the last attempt to read failed. */
    public java.util.Optional<String> failure() {
        return java.util.Optional.ofNullable(failure);
    }

    public long applied() {
        return applied.get();
    }

    public long unreadable() {
        return unreadable.get();
    }

    public String topic() {
        return topic;
    }

    /**
     * Follows until closed. A failure (Kafka away, a store write refused) is logged and retried with a growing pause,
     * from the offsets the store holds, which are exactly those of what it has: nothing is skipped or applied twice.
     */
    private void run() {
        long pause = 1000;
        try {
            while (running) {
                try {
                    follow();
                } catch (WakeupException e) {
                    return;
                } catch (RuntimeException e) {
                    if (!running) {
                        return;
                    }
                    failure = e.toString();
                    LOG.warn("following {} failed ({}); trying again in {} ms", topic, e.toString(), pause);
                    sleep(pause);
                    pause = Math.min(30_000, pause * 2);
                }
            }
        } finally {
            consumer.close(Duration.ofSeconds(2));
        }
    }

    private void follow() {
        List<TopicPartition> partitions = partitions();
        consumer.assign(partitions);
        Map<Integer, Long> stored = remembers ? store.offsets(topic) : Map.of();
        if (!remembers) {
            restart.run(); // held in memory: read anew from the start
        }
        for (TopicPartition partition : partitions) {
            Long next = stored.get(partition.partition());
            if (next == null) {
                consumer.seekToBeginning(List.of(partition));
            } else {
                consumer.seek(partition, next);
            }
        }
        Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
        for (TopicPartition partition : partitions) {
            Long next = stored.get(partition.partition());
            if (next != null && next > end.get(partition)) {
                LOG.warn("{} ends at {} but the store has read to {}: the topic was recreated under the store;"
                        + " reading it from its start (delete the store's directory to drop what it had)",
                        partition, end.get(partition), next);
                consumer.seekToBeginning(List.of(partition));
            }
        }
        while (running) {
            ConsumerRecords<byte[], byte[]> records = consumer.poll(Duration.ofMillis(200));
            if (!records.isEmpty()) {
                applyAll(records);
            }
            failure = null;
            if (caughtUp.getCount() > 0 && reached(end)) {
                LOG.info("console store caught up with {} ({} records)", topic, applied.get());
                caughtUp.countDown();
            }
        }
    }

    private List<TopicPartition> partitions() {
        List<PartitionInfo> infos = List.of();
        while (running && infos.isEmpty()) {
            infos = consumer.partitionsFor(topic, Duration.ofSeconds(10));
            if (infos == null || infos.isEmpty()) {
                LOG.warn("topic {} not found yet; waiting for it", topic);
                sleep(1000);
                infos = List.of();
            }
        }
        return infos.stream().map(info -> new TopicPartition(topic, info.partition())).toList();
    }

    private void applyAll(ConsumerRecords<byte[], byte[]> records) {
        Map<Integer, Long> next = new HashMap<>();
        try (ConsoleStore.Batch batch = store.batch()) {
            for (ConsumerRecord<byte[], byte[]> record : records) {
                try {
                    apply.apply(batch, record);
                    applied.incrementAndGet();
                } catch (Exception e) {
                    unreadable.incrementAndGet();
                    LOG.warn("{} partition {} offset {}: cannot read the record, skipped: {}", topic,
                            record.partition(), record.offset(), e.toString());
                }
                next.put(record.partition(), record.offset() + 1);
            }
            if (remembers) {
                for (Map.Entry<Integer, Long> entry : next.entrySet()) {
                    batch.offset(topic, entry.getKey(), entry.getValue());
                }
            }
            store.commit(batch);
        } catch (org.rocksdb.RocksDBException e) {
            throw new IllegalStateException("console store: " + e.getMessage(), e);
        }
    }

    private boolean reached(Map<TopicPartition, Long> end) {
        for (Map.Entry<TopicPartition, Long> entry : end.entrySet()) {
            // Transaction markers sit at the end: the position passes them once everything before is read.
            if (consumer.position(entry.getKey()) < entry.getValue()) {
                return false;
            }
        }
        return true;
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        running = false;
        consumer.wakeup();
        try {
            thread.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
