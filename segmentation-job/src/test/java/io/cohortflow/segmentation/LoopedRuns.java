package io.cohortflow.segmentation;

import io.cohortflow.core.config.TopicsConfig;
import io.cohortflow.core.event.UnifiedEventCodec;
import io.cohortflow.core.identity.IdentityLink;
import io.cohortflow.core.identity.IdentityMerge;
import io.cohortflow.core.identity.IdentityMergeCodec;
import io.cohortflow.core.segment.SegmentChange;
import io.cohortflow.core.segment.StateHandoff;
import io.cohortflow.core.segment.StateHandoffCodec;
import io.cohortflow.kafka.local.LocalKafkaBroker;
import io.cohortflow.simulator.Delivery;
import io.cohortflow.simulator.Simulator;
import io.cohortflow.simulator.SimulatorConfig;
import io.cohortflow.testkit.KafkaTestSupport;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.ArrayDeque;
import java.util.Comparator;
import java.util.PriorityQueue;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/**
 * Runs of the live segmentation job (unbounded, its handoff loop through Kafka) over a fixed input, to the point where
 * nothing is left in flight, for tests that compare the changes of several runs.
 */
final class LoopedRuns {
    private LoopedRuns() {
    }

    /** A record to write: key and value, as ingest wrote them. */
    record Keyed(byte[] key, byte[] value) {
    }

    /** A fixed input of the segmentation job: events.unified in live order, and the link decisions. */
    record Input(List<Keyed> unified, List<Keyed> merges) {
        long mergedLinks() {
            IdentityMergeCodec codec = new IdentityMergeCodec();
            return merges.stream().filter(r -> codec.decode(r.value()).status() == IdentityMerge.Status.MERGED).count();
        }

        /** Writes all of it to {@code topics}' events.unified and identity.merges. */
        void writeTo(LocalKafkaBroker broker, TopicsConfig topics) {
            write(broker, topics.name(TopicsConfig.MERGES), merges);
            write(broker, topics.name(TopicsConfig.UNIFIED), unified);
        }
    }

    /**
     * A merge-heavy input as ingest writes it: the simulator's population (every person logs in on one or more
     * devices) through the real ingest job, with no late deliveries (late corrections are applied on arrival, and
     * where they fall among a user's events is not part of the guarantee), in live order ({@link #liveOrder}).
     */
    static Input mergeHeavyInput(LocalKafkaBroker broker, String name, int users, int days) throws Exception {
        TopicsConfig ingested = KafkaTestSupport.uniqueTopics(broker, name + "-ingest");
        List<Delivery> deliveries = new ArrayList<>();
        new Simulator(SimulatorConfig.of(17, users, days, PipelineITCase.START).withRates(0.01, 0, 0.005))
                .forEach(deliveries::add);
        PipelineITCase.produce(broker, ingested, deliveries);
        PipelineITCase.runBounded(PipelineITCase.ingest(broker, ingested));
        String bs = broker.bootstrapServers();
        List<Keyed> merges = KafkaTestSupport.readAllCommitted(bs, ingested.name(TopicsConfig.MERGES)).stream()
                .map(r -> new Keyed(r.key(), r.value())).toList();
        Input input = new Input(liveOrder(KafkaTestSupport.readAllCommitted(bs, ingested.name(TopicsConfig.UNIFIED))),
                merges);
        // A test over an empty input would prove nothing, and wait on nothing.
        if (input.unified().isEmpty() || input.mergedLinks() == 0) {
            throw new AssertionError("the ingest run gave " + input.unified().size() + " unified records and "
                    + input.mergedLinks() + " merged links for " + deliveries.size() + " deliveries");
        }
        return input;
    }

    /**
     * What ingest wrote, in the order live traffic has it: a bounded ingest run reads the raw partitions at their own
     * speeds, so its events.unified is out of event-time order by hours, across keys and within one (a user's server
     * calls against her devices'), and an event that lies behind the segmentation watermark is evaluated as of the
     * watermark, which depends on read speeds. (The guarantee holds while each partition's disorder stays within
     * --out-of-orderness.) So each key's records are put in event-time order, except that a device's link marker
     * stays exactly where ingest put it among the device's records (what came before it is what the device hands
     * over), and the keys are interleaved by event time.
     */
    private static List<Keyed> liveOrder(List<ConsumerRecord<byte[], byte[]>> records) {
        UnifiedEventCodec codec = new UnifiedEventCodec();
        Map<String, List<ConsumerRecord<byte[], byte[]>>> inIngestOrder = new TreeMap<>();
        for (ConsumerRecord<byte[], byte[]> r : records) {
            inIngestOrder.computeIfAbsent(new String(r.key(), StandardCharsets.UTF_8), k -> new ArrayList<>()).add(r);
        }
        Comparator<ConsumerRecord<byte[], byte[]>> byTime = Comparator.comparingLong(r -> codec.decode(r.value()).timestamp());
        Map<String, ArrayDeque<ConsumerRecord<byte[], byte[]>>> byKey = new TreeMap<>();
        inIngestOrder.forEach((key, list) -> {
            ArrayDeque<ConsumerRecord<byte[], byte[]>> ordered = new ArrayDeque<>();
            List<ConsumerRecord<byte[], byte[]>> run = new ArrayList<>();
            for (ConsumerRecord<byte[], byte[]> r : list) {
                if (IdentityLink.isMarker(codec.decode(r.value()))) {
                    run.sort(byTime); // stable: ties keep ingest's order
                    ordered.addAll(run);
                    run.clear();
                    ordered.add(r);
                } else {
                    run.add(r);
                }
            }
            run.sort(byTime);
            ordered.addAll(run);
            byKey.put(key, ordered);
        });
        Comparator<Map.Entry<String, ArrayDeque<ConsumerRecord<byte[], byte[]>>>> byHeadTime = Comparator.comparingLong(
                e -> codec.decode(e.getValue().peek().value()).timestamp());
        PriorityQueue<Map.Entry<String, ArrayDeque<ConsumerRecord<byte[], byte[]>>>> heads =
                new PriorityQueue<>(byHeadTime.thenComparing(Map.Entry::getKey));
        heads.addAll(byKey.entrySet());
        List<Keyed> ordered = new ArrayList<>(records.size());
        while (!heads.isEmpty()) {
            var head = heads.poll();
            ConsumerRecord<byte[], byte[]> r = head.getValue().poll();
            ordered.add(new Keyed(r.key(), r.value()));
            if (!head.getValue().isEmpty()) {
                heads.add(head);
            }
        }
        return ordered;
    }

    /** Writes {@code records} to {@code topic} in order (idempotent, one request in flight: partition order kept). */
    static void write(LocalKafkaBroker broker, String topic, List<Keyed> records) {
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.<String, Object>of(
                "bootstrap.servers", broker.bootstrapServers(), "max.in.flight.requests.per.connection", 1,
                "enable.idempotence", true, "acks", "all"), new ByteArraySerializer(), new ByteArraySerializer())) {
            records.forEach(r -> producer.send(new ProducerRecord<>(topic, r.key(), r.value())));
        }
    }

    /**
     * Waits until every link of {@code in} has been handed over on {@code out}'s handoff topic and the job has read
     * (and committed, with the outputs of folding them) every handoff there, then stops the job with a drain, so that
     * the end of event time fires what is left. A run is complete when this returns.
     */
    static void awaitHandoffsThenDrain(LocalKafkaBroker broker, long links, TopicsConfig out, JobClient job,
                                       long timeoutMs) throws Exception {
        awaitHandoffs(broker, links, out, timeoutMs);
        job.stopWithSavepoint(true, KafkaTestSupport.tempDir("drain-").toUri().toString(), SavepointFormatType.CANONICAL)
                .get(2, TimeUnit.MINUTES);
    }

    /**
     * Waits until {@code links} linked handoffs are on {@code out}'s handoff topic and the job's handoff reader has
     * committed past every handoff there (with them, the outputs of folding them in).
     */
    static void awaitHandoffs(LocalKafkaBroker broker, long links, TopicsConfig out, long timeoutMs) throws Exception {
        String bs = broker.bootstrapServers();
        String group = PipelineITCase.segmentationGroup(out) + "-handoff";
        long deadline = System.currentTimeMillis() + timeoutMs;
        String last = "";
        while (true) {
            List<ConsumerRecord<byte[], byte[]>> records = KafkaTestSupport.readAllCommitted(bs, out.name(TopicsConfig.HANDOFF));
            StateHandoffCodec codec = new StateHandoffCodec();
            long handedOver = records.stream().map(r -> codec.decode(r.value())).filter(h -> h.linkId() != null).count();
            Map<TopicPartition, Long> next = new HashMap<>();
            records.forEach(r -> next.merge(new TopicPartition(r.topic(), r.partition()), r.offset() + 1, Math::max));
            Map<TopicPartition, Long> read = committed(bs, group);
            boolean allRead = next.entrySet().stream().allMatch(e -> read.getOrDefault(e.getKey(), 0L) >= e.getValue());
            if (handedOver >= links && allRead) {
                break;
            }
            last = handedOver + " of " + links + " links handed over; handoffs to read " + next + ", read " + read;
            if (System.currentTimeMillis() > deadline) {
                throw new AssertionError("the run did not settle: " + last);
            }
            Thread.sleep(500);
        }
    }

    /** Each change as one line: everything but the wall-clock time it was computed at. */
    static Set<String> comparable(List<SegmentChange> changes) {
        Set<String> lines = new TreeSet<>();
        for (SegmentChange c : changes) {
            lines.add(c.changeId() + " " + c.userId() + " " + c.segmentId() + " " + c.type() + " "
                    + Instant.ofEpochMilli(c.eventTime()) + " " + c.cause() + " " + c.model() + " " + c.features());
        }
        return lines;
    }

    /** The changes in one set but not the other, marked {@code -} (only in {@code expected}) and {@code +}. */
    static List<String> difference(Set<String> expected, Set<String> actual) {
        List<String> lines = new ArrayList<>();
        expected.stream().filter(line -> !actual.contains(line)).forEach(line -> lines.add("- " + line));
        actual.stream().filter(line -> !expected.contains(line)).forEach(line -> lines.add("+ " + line));
        return lines;
    }

    /**
     * For a failing comparison: the inputs on events.unified of the first user that differs (partition, offset, time,
     * link), the user's changes in each run, and the handoffs each run's topics hold for the user.
     */
    static void printFirstDifferentUser(LocalKafkaBroker broker, TopicsConfig in, List<String> difference,
                                        List<SegmentChange> expected, List<SegmentChange> actual, TopicsConfig... outs) {
        String user = difference.get(0).split(" ")[2];
        String bs = broker.bootstrapServers();
        UnifiedEventCodec codec = new UnifiedEventCodec();
        System.out.println("first user whose changes differ: " + user);
        for (ConsumerRecord<byte[], byte[]> r : KafkaTestSupport.readAllCommitted(bs, in.name(TopicsConfig.UNIFIED))) {
            var e = codec.decode(r.value());
            if (e.resolvedId().equals(user) || user.equals(e.userId())) {
                System.out.printf("  input p%d@%d %s %s %s anonymousId=%s resolvedId=%s link=%s%n", r.partition(),
                        r.offset(), e.type(), e.event(), Instant.ofEpochMilli(e.timestamp()), e.anonymousId(),
                        e.resolvedId(), e.context().get(IdentityLink.CONTEXT_KEY));
            }
        }
        for (var run : Map.of("expected", expected, "actual", actual).entrySet()) {
            run.getValue().stream().filter(c -> c.userId().equals(user)).forEach(c -> System.out.printf(
                    "  %s %s %s %s %s%n", run.getKey(), c.segmentId(), c.type(), Instant.ofEpochMilli(c.eventTime()),
                    c.cause()));
        }
        StateHandoffCodec handoffs = new StateHandoffCodec();
        for (TopicsConfig out : outs) {
            KafkaTestSupport.readAllCommitted(bs, out.name(TopicsConfig.HANDOFF), handoffs).stream()
                    .filter(h -> h.toId().equals(user)).forEach(h -> System.out.printf("  handoff on %s from %s at %s, link %s%n",
                            out.name(TopicsConfig.HANDOFF), h.fromId(), Instant.ofEpochMilli(h.eventTime()), h.linkId()));
        }
    }

    /** The changes, in topic order per user (the order a consumer of one user sees). */
    static Map<String, List<String>> perUserOrder(List<SegmentChange> changes) {
        Map<String, List<String>> order = new HashMap<>();
        changes.forEach(c -> order.computeIfAbsent(c.userId(), k -> new ArrayList<>()).add(c.changeId()));
        return order;
    }

    private static Map<TopicPartition, Long> committed(String bs, String group) throws Exception {
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", bs))) {
            Map<TopicPartition, Long> offsets = new HashMap<>();
            for (Map.Entry<TopicPartition, OffsetAndMetadata> e : admin.listConsumerGroupOffsets(group)
                    .partitionsToOffsetAndMetadata().get(30, TimeUnit.SECONDS).entrySet()) {
                if (e.getValue() != null) {
                    offsets.put(e.getKey(), e.getValue().offset());
                }
            }
            return offsets;
        }
    }
}
