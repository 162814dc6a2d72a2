package io.cohortflow.segmentation.bench;

import io.cohortflow.core.engine.Outcome;
import io.cohortflow.core.engine.Ruleset;
import io.cohortflow.core.engine.UserSegments;
import io.cohortflow.core.event.EventTaxonomy;
import io.cohortflow.core.event.UnifiedEvent;
import io.cohortflow.core.feature.FeatureConfig;
import io.cohortflow.core.scoring.Scorer;
import io.cohortflow.core.segment.SegmentChange;
import io.cohortflow.core.segment.SegmentRules;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.PriorityQueue;

/**
 * The segmentation engine driven as the job drives it while catching up, without Flink or Kafka: P1's events
 * ({@link HotPathBenchmark#events}, 10,000 people over 3 days: the topic P1 replays) applied in time order, and after
 * every {@code batch} events the watermark moves to 5 minutes behind the latest event (the job's out-of-orderness)
 * and the users' timers that are due fire. Two ways, alternated in one JVM over the same events:
 * <ul>
 *   <li><b>one by one</b>: a timer steps its user to its own moment, and the user's next moment gets a timer of its
 *       own, which fires in the same watermark if it is due (what the job did before 2026-12-06);</li>
 *   <li><b>per watermark</b>: a timer passes every moment of its user up to the watermark in one step
 *       ({@link UserSegments#advanceTo(String, long, long, Ruleset, long)}), as {@code SegmentFunction} does.</li>
 * </ul>
 * Each round prints the steps (events and timers), the profiles the steps publish (not built: the job's
 * {@code LatestProfiles} builds only those it writes), the changes, and the replaying thread's CPU time. The changes of
 * both ways must be the same, each user's in the same order (their ids are compared). The figure is the median
 * over the rounds of the ratio of each round's two CPU times.
 *
 * <p>Arguments: people (10,000), days (3), events per watermark (3,400: about what a 200 ms watermark interval sees at
 * P1's 17,000 events/s), rounds of each way (4).
 */
public final class TimerReplay {
    private static final long OUT_OF_ORDERNESS = Duration.ofMinutes(5).toMillis();

    private final List<UnifiedEvent> events;
    private final Ruleset rules;
    private final int batch;

    public TimerReplay(int users, int days, int batch) {
        this.events = HotPathBenchmark.events(users, days);
        this.rules = Ruleset.of(FeatureConfig.defaults(),
                EventTaxonomy.defaults().canonicalNames().stream().sorted().toList(), Duration.ofDays(90),
                SegmentRules.defaults(), Scorer.NONE);
        this.batch = batch;
    }

    /**
     * What one replay did. {@code changeIds} hashes each user's changes' ids in the order made (the users' changes
     * interleave differently in the two ways, as they do between the job's instances).
     */
    public record Round(boolean perWatermark, int events, long timerSteps, long profiles, long changes, long changeIds,
                        long cpuNanos) {
        String describe() {
            return String.format(Locale.ROOT, "%-13s %,d events, %,d timer steps (%.2f per event), %,d profiles, "
                            + "%,d changes, CPU %,d ms", perWatermark ? "per watermark" : "one by one", events,
                    timerSteps, (double) timerSteps / events, profiles, changes, cpuNanos / 1_000_000);
        }
    }

    /** Replays every event, firing timers one by one or once per user and watermark. */
    public Round replay(boolean perWatermark) {
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        long cpu = threads.getCurrentThreadCpuTime();
        Map<String, UserSegments> users = new HashMap<>();
        // Due timers: (time, user). A user's later timer replaces its earlier one, as the job deletes the old.
        PriorityQueue<Timer> timers = new PriorityQueue<>(Comparator.comparingLong(Timer::at));
        long steps = 0;
        long profiles = 0;
        long changes = 0;
        Map<String, Long> ids = new HashMap<>(); // per user, a hash of its changes' ids in the order made
        long latest = Long.MIN_VALUE;
        for (int i = 0; i < events.size(); i++) {
            UnifiedEvent event = events.get(i);
            String id = event.resolvedId();
            Outcome outcome = users.computeIfAbsent(id, k -> new UserSegments()).apply(id, event, rules, 0);
            profiles += outcome.published().isPresent() ? 1 : 0;
            changes += hash(ids, outcome.changes());
            outcome.wakeUp().ifPresent(at -> timers.add(new Timer(at, id)));
            latest = Math.max(latest, event.timestamp());
            if ((i + 1) % batch != 0 && i + 1 < events.size()) {
                continue;
            }
            long watermark = latest - OUT_OF_ORDERNESS;
            while (!timers.isEmpty() && timers.peek().at() <= watermark) {
                Timer timer = timers.poll();
                UserSegments user = users.get(timer.user());
                if (user == null || user.wakeUp().isEmpty() || user.wakeUp().getAsLong() != timer.at()) {
                    continue; // deleted: the user's timer moved, or its state was dropped
                }
                Outcome fired = perWatermark ? user.advanceTo(timer.user(), timer.at(), watermark, rules, 0)
                        : user.advanceTo(timer.user(), timer.at(), rules, 0);
                steps++;
                profiles += fired.published().isPresent() ? 1 : 0;
                changes += hash(ids, fired.changes());
                if (fired.cleared()) {
                    users.remove(timer.user());
                } else {
                    fired.wakeUp().ifPresent(at -> timers.add(new Timer(at, timer.user())));
                }
            }
        }
        long cpuNanos = threads.getCurrentThreadCpuTime() - cpu;
        long changeIds = 0; // the users' hashes, in no order: users' changes interleave differently in the two ways
        for (Map.Entry<String, Long> user : ids.entrySet()) {
            changeIds += user.getKey().hashCode() * 1_000_003L ^ user.getValue();
        }
        return new Round(perWatermark, events.size(), steps, profiles, changes, changeIds, cpuNanos);
    }

    private static int hash(Map<String, Long> ids, List<SegmentChange> changes) {
        for (SegmentChange change : changes) {
            ids.merge(change.userId(), (long) change.changeId().hashCode(), (h, id) -> 31 * h + id);
        }
        return changes.size();
    }

    private record Timer(long at, String user) {
    }

    public static void main(String[] args) {
        int users = args.length > 0 ? Integer.parseInt(args[0]) : 10_000;
        int days = args.length > 1 ? Integer.parseInt(args[1]) : 3;
        int batch = args.length > 2 ? Integer.parseInt(args[2]) : 3_400;
        int rounds = args.length > 3 ? Integer.parseInt(args[3]) : 4;
        TimerReplay replay = new TimerReplay(users, days, batch);
        System.out.printf(Locale.ROOT, "timer replay: %,d people over %d days, %,d events, the watermark every %,d "
                + "events (%s behind the latest), the shipped segments%n", users, days, replay.events.size(), batch,
                Duration.ofMillis(OUT_OF_ORDERNESS));
        List<Round> oneByOne = new ArrayList<>();
        List<Round> perWatermark = new ArrayList<>();
        for (int round = 1; round <= rounds; round++) {
            for (boolean coalesced : new boolean[] {false, true}) {
                Round r = replay.replay(coalesced);
                (coalesced ? perWatermark : oneByOne).add(r);
                System.out.printf(Locale.ROOT, "  round %d: %s%n", round, r.describe());
            }
        }
        Round a = oneByOne.get(0);
        Round b = perWatermark.get(0);
        if (a.changes() != b.changes() || a.changeIds() != b.changeIds()) {
            throw new IllegalStateException("the two ways made different changes: " + a + " against " + b);
        }
        long bestOne = oneByOne.stream().mapToLong(Round::cpuNanos).min().orElseThrow();
        long bestPer = perWatermark.stream().mapToLong(Round::cpuNanos).min().orElseThrow();
        // Rounds in one JVM vary by a third and more (the heap, the JIT): each round's pair, taken one after the
        // other, is the fairer comparison, and the median of their ratios the figure.
        double[] ratios = new double[rounds];
        for (int i = 0; i < rounds; i++) {
            ratios[i] = (double) oneByOne.get(i).cpuNanos() / perWatermark.get(i).cpuNanos();
        }
        java.util.Arrays.sort(ratios);
        double median = rounds % 2 == 1 ? ratios[rounds / 2] : (ratios[rounds / 2 - 1] + ratios[rounds / 2]) / 2;
        System.out.printf(Locale.ROOT, "same %,d changes both ways; timer steps %,d -> %,d, profiles %,d -> %,d; CPU "
                        + "per round's pair %.2fx (median; %.2fx to %.2fx), best rounds %,d -> %,d ms%n", a.changes(),
                a.timerSteps(), b.timerSteps(), a.profiles(), b.profiles(), median, ratios[0], ratios[rounds - 1],
                bestOne / 1_000_000, bestPer / 1_000_000);
    }
}
