package io.cohortflow.core.training;

import io.cohortflow.core.event.UnifiedEvent;
import io.cohortflow.core.feature.FeatureConfig;
import io.cohortflow.core.feature.FeatureSnapshot;
import io.cohortflow.core.feature.UserFeatures;

import java.io.Serializable;
import java.time.Duration;
import java.util.Collection;
import java.util.Comparator;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Point-in-time examples for the models. For a cutoff T and a horizon H, a user's features are computed as of T − H
 * from the events up to T − H only, and the labels come from (T − H, T]:
 * <ul>
 *   <li>churned: they did nothing qualifying in (T − H, T];</li>
 *   <li>bought a bundle: an order of two or more items ({@code items} property) in (T − H, T − H + B], the seed's
 *       "purchase a bundle within 72 hours" (B = {@code bundleWindow}, at most H).</li>
 * </ul>
 * Nothing that happened after T − H reaches the features, so a model trained on them can be used as of any time, as
 * the stream does. The examples are the population: everyone with qualifying activity in the lookback before T − H
 * (a year by default), so a customer who ordered five months ago and is drifting away is scored, not left out: those
 * are the people a retention campaign is for.
 *
 * @param horizon      H: how long without qualifying activity makes a churner
 * @param qualifying   the canonical events that count as activity for the label and the population
 *                     (conf/features.yaml {@code activityEvents})
 * @param bundleWindow B: how soon after the feature time a multi-item order counts as a bundle purchase
 * @param lookback     how far before the feature time qualifying activity makes someone part of the population; at
 *                     most {@link UserFeatures#LOOKBACK_DAYS}, the reach of the features
 */
public record ChurnLabels(Duration horizon, Set<String> qualifying, Duration bundleWindow, Duration lookback)
        implements Serializable {
    public static final Duration DEFAULT_BUNDLE_WINDOW = Duration.ofHours(72);
    public static final Duration DEFAULT_LOOKBACK = Duration.ofDays(UserFeatures.LOOKBACK_DAYS);
    private static final String ORDER = "order_completed";
    /** Every event property the examples read: the features' and the bundle label's item count. */
    public static final Set<String> PROPERTIES_READ = Stream.concat(UserFeatures.PROPERTIES_READ.stream(),
            Stream.of("items")).collect(Collectors.toUnmodifiableSet());
    /**
     * The properties the training's rows read: {@link #PROPERTIES_READ} without the product's name, which profiles
     * show and destinations get but no model feature ({@link FeatureSnapshot#MODEL_FEATURES}) or label reads. Most
     * events carry a name only in the properties' JSON, so a history read without it can skip parsing that JSON for
     * most rows.
     */
    public static final Set<String> MODEL_PROPERTIES_READ = PROPERTIES_READ.stream()
            .filter(p -> !p.equals("name")).collect(Collectors.toUnmodifiableSet());

    /** One user's example: features as of the feature time, and the labels. */
    public record Example(String userId, long featureTime, FeatureSnapshot features, boolean churned,
                          boolean boughtBundle) {
        public double[] vector() {
            return features.modelVector();
        }
    }

    public ChurnLabels {
        if (horizon.isNegative() || horizon.isZero()) {
            throw new IllegalArgumentException("the churn horizon must be positive");
        }
        if (bundleWindow.isNegative() || bundleWindow.isZero() || bundleWindow.compareTo(horizon) > 0) {
            throw new IllegalArgumentException("the bundle window must be positive and within the horizon "
                    + horizon + ": labels may only look at (T - H, T]");
        }
        if (lookback.isNegative() || lookback.isZero() || lookback.toDays() > UserFeatures.LOOKBACK_DAYS) {
            throw new IllegalArgumentException("the lookback must be positive and at most "
                    + UserFeatures.LOOKBACK_DAYS + " days (how far the features reach), got " + lookback.toDays()
                    + " days");
        }
        if (qualifying.isEmpty()) {
            throw new IllegalArgumentException("no event counts as activity: churn is undefined");
        }
        qualifying = Set.copyOf(qualifying);
    }

    public ChurnLabels(Duration horizon, Set<String> qualifying) {
        this(horizon, qualifying, DEFAULT_BUNDLE_WINDOW.compareTo(horizon) > 0 ? horizon : DEFAULT_BUNDLE_WINDOW,
                DEFAULT_LOOKBACK);
    }

    /**
     * The example of one user for {@code cutoff}, or empty when the user had no qualifying activity in the lookback
     * before the feature time. {@code events} are that user's events, in any order.
     */
    public Optional<Example> example(String userId, Collection<UnifiedEvent> events, long cutoff, FeatureConfig config,
                                     Collection<String> eventNames) {
        long featureTime = cutoff - horizon.toMillis();
        return inPopulation(events, featureTime)
                ? example(userId, events, cutoff, featuresAsOf(events, featureTime, config, eventNames))
                : Optional.empty();
    }

    /**
     * {@link #example} with the user's features as of its feature time (cutoff − horizon) already computed: with
     * {@link #featuresAsOf(Collection, long[], FeatureConfig, Collection)}, one replay of a user's history gives the
     * features of every cutoff.
     */
    public Optional<Example> example(String userId, Collection<UnifiedEvent> events, long cutoff,
                                     FeatureSnapshot atFeatureTime) {
        long featureTime = cutoff - horizon.toMillis();
        if (!inPopulation(events, featureTime)) {
            return Optional.empty();
        }
        boolean activeAfter = false;
        boolean bundle = false;
        long bundleUntil = featureTime + bundleWindow.toMillis();
        for (UnifiedEvent event : events) {
            long t = event.timestamp();
            if (t > featureTime && t <= cutoff) {
                activeAfter |= counts(event);
                bundle |= t <= bundleUntil && ORDER.equals(event.event()) && event.numberProperty("items", 1) >= 2;
            }
        }
        return Optional.of(new Example(userId, featureTime, atFeatureTime, !activeAfter, bundle));
    }

    /**
     * The features as of {@code time} of a user in the population then (qualifying activity in the lookback before
     * it), or empty: the rows the run scores with the models it trained, for the per-user output.
     */
    public Optional<FeatureSnapshot> current(Collection<UnifiedEvent> events, long time, FeatureConfig config,
                                             Collection<String> eventNames) {
        return inPopulation(events, time) ? Optional.of(featuresAsOf(events, time, config, eventNames))
                : Optional.empty();
    }

    /** {@link #current} with the features as of {@code time} already computed. */
    public Optional<FeatureSnapshot> current(Collection<UnifiedEvent> events, long time, FeatureSnapshot atTime) {
        return inPopulation(events, time) ? Optional.of(atTime) : Optional.empty();
    }

    /** Qualifying activity in the lookback before {@code time}: part of the population then. */
    private boolean inPopulation(Collection<UnifiedEvent> events, long time) {
        long since = time - lookback.toMillis();
        return events.stream().anyMatch(e -> e.timestamp() > since && e.timestamp() <= time && counts(e));
    }

    private boolean counts(UnifiedEvent event) {
        return event.event() != null && qualifying.contains(event.event());
    }

    /**
     * A user's features as of {@code time} from their events up to it (in any order; applied in event-time order):
     * what training computes for every example, and what the stream's engine holds for a user whose events arrived
     * in order (PipelineITCase compares the two).
     */
    public static FeatureSnapshot featuresAsOf(Collection<UnifiedEvent> events, long time, FeatureConfig config,
                                               Collection<String> eventNames) {
        return featuresAsOf(events, new long[] {time}, config, eventNames)[0];
    }

    /**
     * A user's features as of each of {@code times} (in any order), from one replay of their events in event-time
     * order: the events up to the earliest time, its snapshot, the events up to the next, and so on, as the stream's
     * engine applies them and moves its clock between them. The training takes three or more times per user, and
     * replaying the history once for each was most of its feature code's time.
     */
    public static FeatureSnapshot[] featuresAsOf(Collection<UnifiedEvent> events, long[] times, FeatureConfig config,
                                                 Collection<String> eventNames) {
        UnifiedEvent[] ordered = inTimeOrder(events);
        Integer[] byTime = new Integer[times.length];
        for (int i = 0; i < times.length; i++) {
            byTime[i] = i;
        }
        java.util.Arrays.sort(byTime, Comparator.comparingLong(i -> times[i]));
        UserFeatures features = new UserFeatures(config);
        FeatureSnapshot[] snapshots = new FeatureSnapshot[times.length];
        int next = 0;
        for (int i : byTime) {
            long time = times[i];
            while (next < ordered.length && ordered[next].timestamp() <= time) {
                features.add(ordered[next++]);
            }
            features.prune(time);
            snapshots[i] = features.snapshot(time, eventNames, false); // the models read numbers, not histories
        }
        return snapshots;
    }

    /** Events below this many, at times in [0, 2^{@value #TIME_BITS}) ms (the year 2248), sort as longs. */
    private static final int INDEX_BITS = 20;
    private static final int TIME_BITS = 63 - INDEX_BITS;

    /**
     * {@code events} in event-time order, those of one time in the order given (a stable sort). Each event's time and
     * place become one long, and the longs sort without a comparator: the training sorts every user's history, which
     * arrives from the shuffle in runs (the files of each reader), and sorting objects by a comparator was a sixth of
     * the feature code's time (JFR, issue "Speed to lead", P3).
     */
    static UnifiedEvent[] inTimeOrder(Collection<UnifiedEvent> events) {
        UnifiedEvent[] all = events.toArray(UnifiedEvent[]::new);
        int n = all.length;
        long[] keys = n < 1 << INDEX_BITS ? new long[n] : null;
        boolean sorted = true;
        for (int i = 0; i < n; i++) {
            long t = all[i].timestamp();
            sorted &= i == 0 || all[i - 1].timestamp() <= t;
            if (keys != null && t >= 0 && t < 1L << TIME_BITS) {
                keys[i] = t << INDEX_BITS | i;
            } else {
                keys = null;
            }
        }
        if (sorted) {
            return all;
        }
        if (keys == null) {
            java.util.Arrays.sort(all, Comparator.comparingLong(UnifiedEvent::timestamp));
            return all;
        }
        java.util.Arrays.sort(keys);
        UnifiedEvent[] ordered = new UnifiedEvent[n];
        for (int i = 0; i < n; i++) {
            ordered[i] = all[(int) (keys[i] & (1 << INDEX_BITS) - 1)];
        }
        return ordered;
    }
}
