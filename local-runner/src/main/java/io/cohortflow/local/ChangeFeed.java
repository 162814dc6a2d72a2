package io.cohortflow.local;

import io.cohortflow.core.segment.ChangeType;
import io.cohortflow.core.segment.SegmentChange;
import io.cohortflow.core.segment.SegmentChangeCodec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

import java.io.PrintStream;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Follows segments.changes (read_committed, from the beginning) on its own thread, prints each change as a readable
 * line and keeps the counts for the summary.
 */
final class ChangeFeed implements AutoCloseable {
    private static final DateTimeFormatter SIM_TIME = DateTimeFormatter.ofPattern("MM-dd HH:mm:ss").withZone(ZoneOffset.UTC);
    private static final Set<String> STORY_IDS = Set.of("anon_123xyz", "user_jane");

    private final KafkaConsumer<byte[], byte[]> consumer;
    private final PrintStream out;
    private final String feed;
    private final SegmentChangeCodec codec = new SegmentChangeCodec();
    private final Thread thread;
    private volatile boolean running = true;

    private final AtomicLong total = new AtomicLong();
    private volatile long lastChangeNanos = System.nanoTime();
    private final Map<String, long[]> enterExitBySegment = new ConcurrentHashMap<>();
    private final Map<String, String> segmentNames = new ConcurrentHashMap<>();
    private final Map<String, Set<String>> members = new ConcurrentHashMap<>();
    private final List<SegmentChange> story = java.util.Collections.synchronizedList(new ArrayList<>());
    private final Map<String, AtomicLong> byModel = new ConcurrentHashMap<>();

    ChangeFeed(String bootstrapServers, String topic, String feed, PrintStream out) {
        this.out = out;
        this.feed = feed;
        this.consumer = new KafkaConsumer<>(Map.<String, Object>of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                ConsumerConfig.GROUP_ID_CONFIG, "cohortflow-local-feed-" + System.nanoTime(),
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false),
                new ByteArrayDeserializer(), new ByteArrayDeserializer());
        consumer.subscribe(List.of(topic));
        this.thread = new Thread(this::run, "change-feed");
        thread.setDaemon(true);
    }

    void start() {
        thread.start();
    }

    private void run() {
        try {
            while (running) {
                for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(250))) {
                    accept(codec.decode(record.value()));
                }
            }
        } catch (org.apache.kafka.common.errors.WakeupException e) {
            // closing
        } finally {
            consumer.close();
        }
    }

    private void accept(SegmentChange change) {
        total.incrementAndGet();
        lastChangeNanos = System.nanoTime();
        byModel.computeIfAbsent(change.model(), m -> new AtomicLong()).incrementAndGet();
        segmentNames.put(change.segmentId(), change.segmentName());
        long[] counts = enterExitBySegment.computeIfAbsent(change.segmentId(), k -> new long[2]);
        Set<String> segmentMembers = members.computeIfAbsent(change.segmentId(), k -> ConcurrentHashMap.newKeySet());
        synchronized (counts) {
            counts[change.type() == ChangeType.ENTER ? 0 : 1]++;
        }
        if (change.type() == ChangeType.ENTER) {
            segmentMembers.add(change.userId());
        } else {
            segmentMembers.remove(change.userId());
        }
        boolean storyChange = STORY_IDS.contains(change.userId());
        if (storyChange) {
            story.add(change);
        }
        if (feed.equals("all") || (feed.equals("story") && storyChange)) {
            out.printf("%s %-5s %-14s %s %s  (sim %s, %s)%n", storyChange ? "★" : " ", change.type(),
                    change.userId(), change.type() == ChangeType.ENTER ? "→" : "←", change.segmentName(),
                    SIM_TIME.format(Instant.ofEpochMilli(change.eventTime())), explain(change));
        }
    }

    private static String explain(SegmentChange change) {
        StringBuilder sb = new StringBuilder(change.cause().kind()).append(' ').append(change.cause().id());
        if (!"none".equals(change.model())) {
            sb.append(" [").append(change.model()).append(']');
        }
        change.features().forEach((k, v) -> sb.append(", ").append(k).append('=')
                .append(v == Math.rint(v) ? String.valueOf(v.longValue()) : String.format("%.2f", v)));
        return sb.toString();
    }

    long total() {
        return total.get();
    }

    /** Changes so far per model bundle that scored them ({@code none} before a model was loaded). */
    Map<String, Long> byModel() {
        Map<String, Long> counts = new TreeMap<>();
        byModel.forEach((model, n) -> counts.put(model, n.get()));
        return counts;
    }

    /** Current members per segment id. */
    Map<String, Integer> membersNow() {
        Map<String, Integer> now = new TreeMap<>();
        members.forEach((id, users) -> now.put(id, users.size()));
        return now;
    }

    /** The seed story's changes as "user TYPE segmentId @eventTime", in arrival order. */
    List<String> story() {
        synchronized (story) {
            return story.stream().map(c -> c.userId() + " " + c.type() + " " + c.segmentId() + " @"
                    + Instant.ofEpochMilli(c.eventTime())).toList();
        }
    }

    /** How long since the last change arrived. */
    Duration quietFor() {
        return Duration.ofNanos(System.nanoTime() - lastChangeNanos);
    }

    void printSummary(PrintStream to) {
        Map<String, long[]> sorted = new TreeMap<>(enterExitBySegment);
        to.printf("segment changes: %,d, by the model that scored them: %s%n", total.get(), byModel());
        sorted.forEach((id, counts) -> to.printf("  %-32s ENTER %,6d  EXIT %,6d  members now %,d%n",
                segmentNames.get(id), counts[0], counts[1], members.getOrDefault(id, Set.of()).size()));
        to.println("the seed story (anon_123xyz, later user_jane):");
        synchronized (story) {
            if (story.isEmpty()) {
                to.println("  no changes");
            }
            for (SegmentChange c : story) {
                to.printf("  %s %-5s %s at %s%n", c.userId(), c.type(), c.segmentName(),
                        Instant.ofEpochMilli(c.eventTime()));
            }
        }
    }

    @Override
    public void close() throws InterruptedException {
        running = false;
        consumer.wakeup();
        thread.join(5_000);
    }
}
