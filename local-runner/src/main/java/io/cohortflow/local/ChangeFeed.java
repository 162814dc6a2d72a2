package io.cohortflow.local;

import io.cohortflow.core.segment.ChangeType;
import io.cohortflow.core.segment.SegmentChange;
import io.cohortflow.core.segment.SegmentChangeCodec;
import io.cohortflow.core.segment.SegmentProfile;
import io.cohortflow.core.segment.SegmentProfileCodec;

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
import java.util.function.Consumer;

/**
 * Follows segments.changes (read_committed, from the beginning) on its own thread, prints each change as a readable
 * line and keeps the counts for the summary. Each change is also handed to a listener (the local destinations count
 * what they are owed).
 */
final class ChangeFeed implements AutoCloseable {
    private static final DateTimeFormatter SIM_TIME = DateTimeFormatter.ofPattern("MM-dd HH:mm:ss").withZone(ZoneOffset.UTC);
    private static final Set<String> STORY_IDS = Set.of("anon_123xyz", "user_jane");

    private final TopicFollower follower;
    /** The story's latest profiles (segments.profiles is keyed by user id): what the model made of her. */
    private final TopicFollower storyProfiles;
    private final Map<String, SegmentProfile> storyProfile = new ConcurrentHashMap<>();
    private final PrintStream out;
    private final String feed;
    private final SegmentChangeCodec codec = new SegmentChangeCodec();
    private final Consumer<SegmentChange> listener;

    private final AtomicLong total = new AtomicLong();
    private volatile long lastChangeNanos = System.nanoTime();
    private final Map<String, long[]> enterExitBySegment = new ConcurrentHashMap<>();
    private final Map<String, String> segmentNames = new ConcurrentHashMap<>();
    private final Map<String, Set<String>> members = new ConcurrentHashMap<>();
    private final List<SegmentChange> story = java.util.Collections.synchronizedList(new ArrayList<>());
    private final Map<String, AtomicLong> byModel = new ConcurrentHashMap<>();

    ChangeFeed(String bootstrapServers, String topic, String profilesTopic, String feed, PrintStream out,
               Consumer<SegmentChange> listener) {
        this.out = out;
        this.feed = feed;
        this.listener = listener;
        this.follower = new TopicFollower(bootstrapServers, topic, r -> accept(codec.decode(r.value())));
        SegmentProfileCodec profiles = new SegmentProfileCodec();
        this.storyProfiles = new TopicFollower(bootstrapServers, profilesTopic, r -> {
            String key = r.key() == null ? null : new String(r.key(), java.nio.charset.StandardCharsets.UTF_8);
            if (key != null && isStory(key)) {
                if (r.value() == null) {
                    storyProfile.remove(key); // a tombstone: the profile was erased
                } else {
                    storyProfile.put(key, profiles.decode(r.value()));
                }
            }
        });
    }

    void start() {
        follower.start();
        storyProfiles.start();
    }

    private void accept(SegmentChange change) {
        listener.accept(change);
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
        boolean storyChange = isStory(change.userId());
        if (storyChange) {
            story.add(change);
        }
        if (feed.equals("all") || (feed.equals("story") && storyChange)) {
            out.printf("%s %-5s %-14s %s %s  (sim %s, %s)%n", storyChange ? "★" : " ", change.type(),
                    change.userId(), change.type() == ChangeType.ENTER ? "→" : "←", change.segmentName(),
                    SIM_TIME.format(Instant.ofEpochMilli(change.eventTime())), explain(change));
        }
    }

    /** Whether the user is the seed story's (anon_123xyz, or user_jane once she signed up). */
    static boolean isStory(String userId) {
        return STORY_IDS.contains(userId);
    }

    private static String explain(SegmentChange change) {
        StringBuilder sb = new StringBuilder(change.cause().kind()).append(' ').append(change.cause().id());
        if (!"none".equals(change.model())) {
            sb.append(" [").append(change.model()).append(']');
        }
        // The features that are not zero: a line a reader can take in.
        change.features().forEach((k, v) -> {
            if (v != 0) {
                sb.append(", ").append(k).append('=')
                        .append(v == Math.rint(v) ? String.valueOf(v.longValue()) : String.format("%.2f", v));
            }
        });
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
        return storyChanges().stream().map(c -> c.userId() + " " + c.type() + " " + c.segmentId() + " @"
                + Instant.ofEpochMilli(c.eventTime())).toList();
    }

    /** The seed story's changes, in arrival order. */
    List<SegmentChange> storyChanges() {
        synchronized (story) {
            return List.copyOf(story);
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
                to.printf("  %s %-5s %s at %s (%s)%n", c.userId(), c.type(), c.segmentName(),
                        Instant.ofEpochMilli(c.eventTime()), explainCause(c));
            }
        }
        new TreeMap<>(storyProfile).forEach((id, p) -> {
            if (p.mergedInto() == null) {
                to.printf("  %s's profile as of %s: scores %s%s, features %s%n", id, Instant.ofEpochMilli(p.asOf()),
                        p.scores().isEmpty() ? "none (no model yet)" : formatted(p.scores()),
                        p.persona() == null ? "" : ", persona " + p.persona(), formatted(p.features()));
            }
        });
    }

    private static String explainCause(SegmentChange c) {
        return c.cause().kind() + " " + c.cause().id() + (c.cause().version() == null ? "" : " " + c.cause().version());
    }

    private static String formatted(Map<String, Double> values) {
        StringBuilder sb = new StringBuilder("{");
        new TreeMap<>(values).forEach((k, v) -> sb.append(sb.length() > 1 ? ", " : "").append(k).append('=')
                .append(v == Math.rint(v) ? String.valueOf(v.longValue()) : String.format("%.3f", v)));
        return sb.append('}').toString();
    }

    /** The story's latest profile of {@code userId}, if one came. */
    java.util.Optional<SegmentProfile> storyProfile(String userId) {
        return java.util.Optional.ofNullable(storyProfile.get(userId));
    }

    @Override
    public void close() throws InterruptedException {
        follower.close();
        storyProfiles.close();
    }
}
