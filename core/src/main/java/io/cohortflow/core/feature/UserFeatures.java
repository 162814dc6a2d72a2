package io.cohortflow.core.feature;

import io.cohortflow.core.codec.BinaryMaps;
import io.cohortflow.core.codec.BytesIn;
import io.cohortflow.core.codec.BytesOut;
import io.cohortflow.core.event.UnifiedEvent;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * One user's behaviour, compact: the feature engine's state. Fed one event at a time ({@link #add}) and queried as of
 * a time ({@link #snapshot}). The stream job and the nightly batch call this same class.
 *
 * <p>State is sparse time buckets, never raw events: per canonical event name, counts per minute (last hour), per
 * hour (last 24 hours) and per day (last 90 days); purchases and their revenue per day (last 365 days); sessions per
 * day of their start; the last use of each product feature; the categories viewed in the last 24 hours; the first and
 * last activity; the last add-to-cart and order. Windows are therefore exact to the minute for 1h, to the hour for
 * 24h, and to the day (UTC) for 7d and longer. Buckets older than their longest window are dropped as time moves
 * ({@link #prune}). Events should be added in event-time order
 * (the job and the batch both do); counts are right in any order, sessions only in order.
 */
public final class UserFeatures {
    public static final long MINUTE = 60_000L;
    public static final long HOUR = 60 * MINUTE;
    public static final long DAY = 24 * HOUR;
    public static final int MAX_DAYS = 90;
    /**
     * The long window: purchases and revenue over a year, and how far recency and tenure count before they cap. A
     * customer who buys twice a year is neither "new" nor "gone" at 90 days; the churn population reaches this far.
     */
    public static final int LOOKBACK_DAYS = 365;
    static final int[] DAY_WINDOWS = {7, 30, 60, 90};
    /**
     * Every event property {@link #add} reads, its traits' included ({@link ProfileTraits#PROPERTIES_READ}): a read of
     * another property must be added here, or the training, which reads only these from the history, computes other
     * features than the stream. {@code FeaturePropertiesTest} replays simulated histories with and without the other
     * properties and fails when the features differ.
     */
    public static final Set<String> PROPERTIES_READ = Stream.concat(
            Stream.of("revenue", "amount", "feature", "category"), ProfileTraits.PROPERTIES_READ.stream())
            .collect(Collectors.toUnmodifiableSet());
    private static final long CART_OPEN_FOR = 7 * DAY;
    /**
     * 2 added purchases per day over the lookback (1 kept 90 days of revenue only) and the first activity; 3 the
     * traits; 5 each event's latest exact times (for the rules' sequences); 6 the sessions' days and the moments as
     * varints (the state per user under 1 KB: a day of sessions took 16 bytes, and now about 6).
     */
    private static final byte FORMAT_VERSION = 6;

    /** Counts of one event name at three resolutions; keys are bucket indexes (epoch ms / unit). */
    static final class Buckets {
        final BucketCounts minutes = new BucketCounts();
        final BucketCounts hours = new BucketCounts();
        final BucketCounts days = new BucketCounts();
        /** The exact times of the latest occurrences, oldest first, at most {@link EventTimeline#RECENT}. */
        long[] recent = new long[0];
        /*
         * This name's part of the last nextChange walk (not state): the first moment after walkedAt that its count
         * windows move (walkedCounts), those read (walkedRead) and its operators' windows (walkedNext), for the
         * functions asked with. Each is the first after walkedAt of moments these buckets fix, so it holds for any time
         * from walkedAt until the first of them, while the buckets stay as they are: every change forgets it.
         */
        long walkedAt = Long.MAX_VALUE;
        long walkedCounts;
        long walkedRead;
        long walkedNext;
        Object walkedWindowsOf;
        Object walkedCountsRead;

        /**
         * This name's place in {@link #placedIn}, the shared key order of the snapshots' counts (not state): looked up
         * by name once per key order, not at every snapshot (twice, JFR: a fifth of an evaluation).
         */
        CountMap.Keys placedIn;
        int place;

        /** This name's place in {@code keys} (-1: none), looked up once. */
        int placeIn(CountMap.Keys keys, String name) {
            if (placedIn != keys) {
                place = keys.position(name);
                placedIn = keys;
            }
            return place;
        }

        /**
         * This name's entry in the last timeline (not state): its buckets' copies, given again to every timeline while
         * the buckets stay as they are and the recent times are the ones it holds (JFR: copying six arrays per name at
         * every snapshot was most of the timeline's time). Timelines only read them.
         */
        private EventTimeline.Event shown;

        /** This name's timeline entry as of {@code t}. */
        EventTimeline.Event shown(long t) {
            long[] times = recent;
            if (times.length > 0 && times[times.length - 1] > t) { // a correction behind the clock: not yet
                return entry(java.util.Arrays.stream(times).filter(x -> x <= t).toArray());
            }
            if (shown == null || shown.recent() != times) {
                shown = entry(times);
            }
            return shown;
        }

        private EventTimeline.Event entry(long[] times) {
            return new EventTimeline.Event(minutes.indexes(), minutes.counts(), hours.indexes(), hours.counts(),
                    days.indexes(), days.counts(), times);
        }

        /** Forgets {@link #walkedAt}'s answers and the timeline entry: the buckets changed. */
        void changed() {
            walkedAt = Long.MAX_VALUE;
            shown = null;
        }

        void add(long t, int n) {
            changed();
            minutes.add(Math.floorDiv(t, MINUTE), n);
            hours.add(Math.floorDiv(t, HOUR), n);
            days.add(Math.floorDiv(t, DAY), n);
            keepRecent(t);
        }

        /**
         * Keeps the latest {@link EventTimeline#RECENT} of the times held and {@code t}. Snapshots share the array, so
         * it is replaced, never written: in time order (every event but a late one), by one array with {@code t} last.
         */
        void keepRecent(long t) {
            int n = recent.length;
            if (n > 0 && recent[n - 1] > t) {
                keepRecent(new long[] {t});
                return;
            }
            int from = n < EventTimeline.RECENT ? 0 : n - EventTimeline.RECENT + 1;
            long[] kept = java.util.Arrays.copyOfRange(recent, from, n + 1);
            kept[kept.length - 1] = t;
            recent = kept;
        }

        /** Keeps the latest {@link EventTimeline#RECENT} of the times held and these. */
        void keepRecent(long[] more) {
            long[] all = java.util.Arrays.copyOf(recent, recent.length + more.length);
            System.arraycopy(more, 0, all, recent.length, more.length);
            java.util.Arrays.sort(all);
            recent = java.util.Arrays.copyOfRange(all, Math.max(0, all.length - EventTimeline.RECENT), all.length);
        }

        boolean isEmpty() {
            return minutes.isEmpty() && hours.isEmpty() && days.isEmpty();
        }
    }

    private final FeatureConfig config;
    private final TreeMap<String, Buckets> events = new TreeMap<>();
    /** Day -> {purchases (revenue events), revenue}, over the lookback. */
    private final TreeMap<Long, double[]> purchasesByDay = new TreeMap<>();
    /** Day of a completed session's start -> {sessions, total duration ms}. */
    private final TreeMap<Long, long[]> sessionsByDay = new TreeMap<>();
    private final TreeMap<String, Long> featureLastUsed = new TreeMap<>();
    private final TreeMap<String, Long> categoryLastViewed = new TreeMap<>();
    private long sessionStart = -1;
    private long sessionLast = -1;
    private long firstActive = -1;
    private long lastActive = -1;
    private long lastEvent = -1;
    private long lastAddToCart = -1;
    private long lastOrder = -1;
    /** Products viewed, the cart, hashed contact details: for the profile, not for any feature. */
    private ProfileTraits traits = new ProfileTraits();
    /** Changes of this state so far (not state): what {@link #nextChange} keeps its last answer for. */
    private long changes;
    /**
     * The last {@link #nextChange} answer (and {@link #nextDecision}'s, worked out in the same walk), its time, windows
     * and counts read, and {@link #changes} when it was worked out.
     */
    private long nextChangeAt = Long.MIN_VALUE;
    private Object nextChangeWindows;
    private Object nextChangeCounts;
    private long nextChangeChanges = -1;
    private long nextChange;
    private long nextDecision;
    /**
     * No {@link #prune} before this moment drops any event's buckets: the earliest moment one leaves, as the last walk
     * of them found it, lowered by every bucket added since. Not state: a copy read back, merged into or bound to a
     * configuration walks at its first prune.
     */
    private long pruneDue = Long.MIN_VALUE;
    /**
     * {@link #pruneDue} of the rest (a day's purchases and sessions, a feature's and a category's last time): they leave
     * by days, where the event buckets leave by minutes, so most walks of the buckets need not walk them (JFR: the
     * feature and category times were a third of the walks). A session that ends and cart items are looked at on every
     * prune.
     */
    private long pruneRestDue = Long.MIN_VALUE;

    public UserFeatures(FeatureConfig config) {
        this.config = config;
    }

    public FeatureConfig config() {
        return config;
    }

    /**
     * This state under {@code config}: the state itself carries no configuration (what is read back from a checkpoint
     * is bound to the running one). The data moves over as it is; this instance should not be used afterwards.
     */
    public UserFeatures withConfig(FeatureConfig config) {
        if (config == this.config) {
            return this;
        }
        UserFeatures f = new UserFeatures(config);
        f.events.putAll(events);
        f.purchasesByDay.putAll(purchasesByDay);
        f.sessionsByDay.putAll(sessionsByDay);
        f.featureLastUsed.putAll(featureLastUsed);
        f.categoryLastViewed.putAll(categoryLastViewed);
        f.sessionStart = sessionStart;
        f.sessionLast = sessionLast;
        f.firstActive = firstActive;
        f.lastActive = lastActive;
        f.lastEvent = lastEvent;
        f.lastAddToCart = lastAddToCart;
        f.lastOrder = lastOrder;
        f.traits = traits;
        return f;
    }

    /** Adds one event. Events without a name (identify, alias, group) carry no behaviour and are ignored. */
    public void add(UnifiedEvent event) {
        changes++;
        traits.add(event);
        String name = event.event();
        if (name == null) {
            return;
        }
        long t = event.timestamp();
        events.computeIfAbsent(name, k -> new Buckets()).add(t, 1);
        // The first of its buckets to leave: its minute's, as the last hour passes it (its hour and day buckets leave
        // later). Its day's purchases, the feature's and the category's times lower pruneRestDue below.
        pruneDue = Math.min(pruneDue, Math.floorDiv(t, MINUTE) * MINUTE + HOUR);
        lastEvent = Math.max(lastEvent, t);
        if (config.isRevenue(name)) {
            double amount = event.numberProperty("revenue", event.numberProperty("amount", 0));
            long dayIndex = Math.floorDiv(t, DAY);
            double[] day = purchasesByDay.computeIfAbsent(dayIndex, k -> new double[2]);
            day[0]++;
            day[1] += amount;
            pruneRestDue = Math.min(pruneRestDue, (dayIndex + LOOKBACK_DAYS) * DAY);
        }
        switch (name) {
            case "feature_used" -> {
                String feature = event.stringProperty("feature");
                if (feature != null) {
                    featureLastUsed.merge(feature, t, Math::max);
                    pruneRestDue = Math.min(pruneRestDue, t + MAX_DAYS * DAY);
                }
            }
            case "add_to_cart" -> lastAddToCart = Math.max(lastAddToCart, t);
            case "order_completed" -> lastOrder = Math.max(lastOrder, t);
            default -> { }
        }
        String category = event.stringProperty("category");
        if (category != null && (name.equals("product_view") || name.equals("page_view") || name.equals("add_to_cart"))) {
            categoryLastViewed.merge(category, t, Math::max);
            pruneRestDue = Math.min(pruneRestDue, t + DAY);
        }
        if (!config.isPassive(name)) {
            addActivity(t);
        }
        prune(t);
    }

    private void addActivity(long t) {
        if (sessionLast >= 0 && t - sessionLast > config.sessionGapMs()) {
            closeSession();
        }
        if (sessionStart < 0) {
            sessionStart = t;
            sessionLast = t;
        } else {
            sessionStart = Math.min(sessionStart, t);
            sessionLast = Math.max(sessionLast, t);
        }
        if (lastActive >= 0 && t - lastActive >= LOOKBACK_DAYS * DAY) {
            // Back after a year without activity: a new tenure. The stream may have dropped this user's state by
            // then (and starts anew anyway); the rule makes the training, which replays the whole history, agree.
            firstActive = t;
        }
        lastActive = Math.max(lastActive, t);
        firstActive = firstActive < 0 ? t : Math.min(firstActive, t);
    }

    private void closeSession() {
        if (sessionStart >= 0) {
            long dayIndex = Math.floorDiv(sessionStart, DAY);
            long[] day = sessionsByDay.computeIfAbsent(dayIndex, k -> new long[2]);
            day[0]++;
            day[1] += sessionLast - sessionStart;
            pruneRestDue = Math.min(pruneRestDue, (dayIndex + MAX_DAYS) * DAY);
        }
        sessionStart = -1;
        sessionLast = -1;
    }

    /**
     * Drops what no window reaches as of {@code t}. Called at every event and every moment a window moves, when mostly
     * nothing leaves: before the first moment anything can leave ({@link #pruneDue}, {@link #pruneRestDue}), only the
     * open session and the cart are looked at (JFR: walking every event name's buckets was nearly a quarter of the
     * engine's pass).
     */
    public void prune(long t) {
        changes++;
        if (sessionLast >= 0 && t - sessionLast > config.sessionGapMs()) {
            closeSession();
        }
        traits.prune(t);
        // Each entry leaves at the first moment T its condition below holds; what stays sets the next due moment.
        long day = Math.floorDiv(t, DAY) - MAX_DAYS; // T >= (index + MAX_DAYS) * DAY
        if (t >= pruneDue) {
            pruneBuckets(t, day);
        }
        if (t >= pruneRestDue) {
            pruneRest(t, day);
        }
    }

    private void pruneBuckets(long t, long day) {
        long minute = Math.floorDiv(t - HOUR, MINUTE); // T >= index * MINUTE + HOUR
        long hour = Math.floorDiv(t - DAY, HOUR); // T >= index * HOUR + DAY
        long due = Long.MAX_VALUE;
        for (var it = events.values().iterator(); it.hasNext(); ) {
            Buckets b = it.next();
            if (b.minutes.dropUpTo(minute) | b.hours.dropUpTo(hour) | b.days.dropUpTo(day)) {
                b.changed();
            }
            if (b.recent.length > 0 && Math.floorDiv(b.recent[0], DAY) <= day) { // as its day leaves
                b.recent = java.util.Arrays.stream(b.recent).filter(x -> Math.floorDiv(x, DAY) > day).toArray();
            }
            if (b.isEmpty()) {
                it.remove();
                continue;
            }
            due = Math.min(due, firstDue(b.minutes, MINUTE, HOUR));
            due = Math.min(due, firstDue(b.hours, HOUR, DAY));
            due = Math.min(due, firstDue(b.days, DAY, MAX_DAYS * DAY));
            if (b.recent.length > 0) {
                due = Math.min(due, (Math.floorDiv(b.recent[0], DAY) + MAX_DAYS) * DAY);
            }
        }
        pruneDue = due;
    }

    private void pruneRest(long t, long day) {
        long due = Long.MAX_VALUE;
        dropUpTo(purchasesByDay, Math.floorDiv(t, DAY) - LOOKBACK_DAYS);
        if (!purchasesByDay.isEmpty()) {
            due = Math.min(due, (purchasesByDay.firstKey() + LOOKBACK_DAYS) * DAY);
        }
        dropUpTo(sessionsByDay, day);
        if (!sessionsByDay.isEmpty()) {
            due = Math.min(due, (sessionsByDay.firstKey() + MAX_DAYS) * DAY);
        }
        due = Math.min(due, dropTimesUpTo(featureLastUsed, t - MAX_DAYS * DAY, MAX_DAYS * DAY));
        due = Math.min(due, dropTimesUpTo(categoryLastViewed, t - DAY, DAY));
        pruneRestDue = due;
    }

    /** When the first of {@code counts}' buckets leaves a window of {@code window} ({@link Long#MAX_VALUE}: none). */
    private static long firstDue(BucketCounts counts, long unit, long window) {
        return counts.isEmpty() ? Long.MAX_VALUE : counts.index(0) * unit + window;
    }

    /**
     * Removes the entries of {@code times} up to {@code last}, inclusive; returns when the first of the others leaves,
     * each {@code keptFor} after its time ({@link Long#MAX_VALUE}: none).
     */
    private static long dropTimesUpTo(TreeMap<String, Long> times, long last, long keptFor) {
        long due = Long.MAX_VALUE;
        for (var it = times.values().iterator(); it.hasNext(); ) {
            long at = it.next();
            if (at <= last) {
                it.remove();
            } else {
                due = Math.min(due, at + keptFor);
            }
        }
        return due;
    }

    /** Removes the entries of {@code byDay} up to {@code day}, inclusive. */
    private static void dropUpTo(TreeMap<Long, ?> byDay, long day) {
        while (!byDay.isEmpty() && byDay.firstKey() <= day) {
            byDay.pollFirstEntry();
        }
    }

    /** The computed traits: the last products viewed, the cart, hashed contact details. */
    public ProfileTraits traits() {
        return traits;
    }

    /**
     * Nothing left that any feature could still see as of {@code t}, nor contact details from the last year: the state
     * can be dropped.
     */
    public boolean isEmpty(long t) {
        return events.isEmpty() && purchasesByDay.isEmpty() && sessionsByDay.isEmpty() && sessionStart < 0
                && featureLastUsed.isEmpty() && categoryLastViewed.isEmpty()
                && (lastActive < 0 || t - lastActive >= LOOKBACK_DAYS * DAY)
                && (lastAddToCart < 0 || t - lastAddToCart >= CART_OPEN_FOR)
                && !traits.keepsContact(t);
    }

    /**
     * The first moment after {@code t} at which some feature changes without a new event: a bucket leaving a window,
     * a session ending, a cart turning abandoned, recency or tenure passing a day. Timers are set for it.
     */
    public OptionalLong nextChange(long t) {
        return nextChange(t, event -> java.util.Set.of());
    }

    /**
     * {@link #nextChange(long)}, also counting the windows the rules' behavioural operators take on each event (ms, as
     * {@link EventTimeline#count} reads them): a bucket of that event leaving one of those changes what a rule sees.
     */
    public OptionalLong nextChange(long t, java.util.function.Function<String, java.util.Set<Long>> windowsOf) {
        return nextChange(t, windowsOf, EVERY_COUNT);
    }

    /** Reads every count window of every event: {@link #nextDecision} then leaves out only sessions' ends. */
    public static final java.util.function.ToIntFunction<String> EVERY_COUNT = event -> -1;

    /**
     * {@link #nextChange(long, java.util.function.Function)}, asked together with {@link #nextDecision} for the same
     * {@code countsRead} (one walk answers both).
     */
    public OptionalLong nextChange(long t, java.util.function.Function<String, java.util.Set<Long>> windowsOf,
                                   java.util.function.ToIntFunction<String> countsRead) {
        walk(t, windowsOf, countsRead);
        return nextChange == Long.MAX_VALUE ? OptionalLong.empty() : OptionalLong.of(nextChange);
    }

    /**
     * The first moment after {@code t} at which something changes on its own that a reader of the features other than
     * the profile sees: {@link #nextChange}, but of each event's count windows ({@link FeatureSnapshot#COUNT_WINDOWS})
     * only those {@code countsRead} names for it (bit {@code i} for window {@code i}), and not a session's end. A moment
     * before it moves only counts nobody but the profile reads (an event's last hour, when no rule reads that count),
     * or ends a session (which no feature tells from an open one): no rule, model or change can come of it.
     * {@link Long#MAX_VALUE} when there is none.
     */
    public long nextDecision(long t, java.util.function.Function<String, java.util.Set<Long>> windowsOf,
                             java.util.function.ToIntFunction<String> countsRead) {
        walk(t, windowsOf, countsRead);
        return nextDecision;
    }

    private void walk(long t, java.util.function.Function<String, java.util.Set<Long>> windowsOf,
                      java.util.function.ToIntFunction<String> countsRead) {
        // The engine asks at the end of a step for its wake-up, then again at the start of the next step, from the
        // same time over the same state: the second answer is the first (JFR: the walk was a tenth of an event's time).
        if (nextChangeChanges == changes && nextChangeAt == t && nextChangeWindows == windowsOf
                && nextChangeCounts == countsRead) {
            return;
        }
        computeNextChange(t, windowsOf, countsRead);
        nextChangeChanges = changes;
        nextChangeAt = t;
        nextChangeWindows = windowsOf;
        nextChangeCounts = countsRead;
    }

    /** Sets {@link #nextChange} and {@link #nextDecision}. */
    private void computeNextChange(long t, java.util.function.Function<String, java.util.Set<Long>> windowsOf,
                                   java.util.function.ToIntFunction<String> countsRead) {
        long counts = Long.MAX_VALUE; // the count windows' moments, and others no feature shows
        long read = Long.MAX_VALUE; // the count windows' moments that a reader other than the profile sees
        long next = Long.MAX_VALUE;
        for (var entry : events.entrySet()) {
            Buckets b = entry.getValue();
            // Between events, the engine asks at every moment a window moves, and mostly one name's buckets moved:
            // the others' answers from the walk before still hold (JFR: this walk was a seventh of the engine's pass).
            if (t < b.walkedAt || t >= Math.min(b.walkedCounts, b.walkedNext) || b.walkedWindowsOf != windowsOf
                    || b.walkedCountsRead != countsRead) {
                walk(b, entry.getKey(), t, windowsOf, countsRead);
            }
            counts = Math.min(counts, b.walkedCounts);
            read = Math.min(read, b.walkedRead);
            next = Math.min(next, b.walkedNext);
        }
        next = Math.min(next, firstAfter(purchasesByDay, DAY, MAX_DAYS * DAY, t));
        next = Math.min(next, firstAfter(purchasesByDay, DAY, LOOKBACK_DAYS * DAY, t));
        for (int w : new int[] {30, MAX_DAYS}) {
            next = Math.min(next, firstAfter(sessionsByDay, DAY, w * DAY, t));
        }
        for (long last : featureLastUsed.values()) {
            next = Math.min(next, after(last + MAX_DAYS * DAY, t));
        }
        for (long last : categoryLastViewed.values()) {
            next = Math.min(next, after(last + DAY, t));
        }
        if (sessionStart >= 0) {
            // The session ends: it moves from the open one to its day's, which no feature tells apart (the counts and
            // durations of the last 30 days take the open one in), so only the state sees it, like a count no one reads.
            counts = Math.min(counts, after(sessionLast + config.sessionGapMs() + 1, t));
        }
        if (lastAddToCart > lastOrder) {
            next = Math.min(next, after(lastAddToCart + config.cartAbandonAfterMs(), t));
            next = Math.min(next, after(lastAddToCart + CART_OPEN_FOR, t));
            next = Math.min(next, after(lastAddToCart + DAY, t)); // categories_after_cart_24h ends
        }
        next = Math.min(next, nextDay(lastActive, t));
        next = Math.min(next, nextDay(firstActive, t));
        next = Math.min(next, traits.nextChange(t, DAY));
        nextChange = Math.min(next, counts);
        nextDecision = Math.min(next, read);
    }

    /** Sets {@code b}'s part of {@link #computeNextChange} as of {@code t}. */
    private static void walk(Buckets b, String name, long t,
                             java.util.function.Function<String, java.util.Set<Long>> windowsOf,
                             java.util.function.ToIntFunction<String> countsRead) {
        long counts = Long.MAX_VALUE;
        long read = Long.MAX_VALUE;
        long next = Long.MAX_VALUE;
        int mask = countsRead.applyAsInt(name);
        long at = b.minutes.firstAfter(MINUTE, HOUR, t); // 1h: window 0
        counts = Math.min(counts, at);
        read = (mask & 1) != 0 ? Math.min(read, at) : read;
        at = b.hours.firstAfter(HOUR, DAY, t); // 24h: window 1
        counts = Math.min(counts, at);
        read = (mask & 2) != 0 ? Math.min(read, at) : read;
        for (int w = 0; w < DAY_WINDOWS.length; w++) { // 7d to 90d: windows 2 to 5
            at = b.days.firstAfter(DAY, DAY_WINDOWS[w] * DAY, t);
            counts = Math.min(counts, at);
            read = (mask & (4 << w)) != 0 ? Math.min(read, at) : read;
        }
        for (long window : windowsOf.apply(name)) {
            next = Math.min(next, window <= HOUR ? b.minutes.firstAfter(MINUTE, window, t)
                    : window <= DAY ? b.hours.firstAfter(HOUR, window, t)
                    : b.days.firstAfter(DAY, Math.min(window, MAX_DAYS * DAY), t));
        }
        b.walkedAt = t;
        b.walkedCounts = counts;
        b.walkedRead = read;
        b.walkedNext = next;
        b.walkedWindowsOf = windowsOf;
        b.walkedCountsRead = countsRead;
    }

    /** When the oldest bucket still inside the window leaves it: found by key, not by walking the older ones. */
    private static long firstAfter(TreeMap<Long, ?> buckets, long unit, long window, long t) {
        // index * unit + window > t  <=>  index > floor((t - window) / unit)
        Long index = buckets.higherKey(Math.floorDiv(t - window, unit));
        return index == null ? Long.MAX_VALUE : index * unit + window;
    }

    /** When the whole days since {@code since} next grow, while they are below the lookback. */
    private static long nextDay(long since, long t) {
        if (since < 0 || t - since >= LOOKBACK_DAYS * DAY) {
            return Long.MAX_VALUE;
        }
        return since + (Math.floorDiv(t - since, DAY) + 1) * DAY;
    }

    private static long after(long when, long t) {
        return when > t ? when : Long.MAX_VALUE;
    }

    /** Each event's history as of {@code t}: what the rules' behavioural operators read. */
    public EventTimeline timeline(long t) {
        Map<String, EventTimeline.Event> out = new java.util.HashMap<>(events.size() * 2);
        events.forEach((name, b) -> out.put(name, b.shown(t)));
        return new EventTimeline(t, out);
    }

    /** The features as of {@code t}, with a count for every name in {@code eventNames} (zero when unseen). */
    public FeatureSnapshot snapshot(long t, Collection<String> eventNames) {
        return snapshot(t, eventNames, true);
    }

    /**
     * The features as of {@code t}; {@code withHistory} false leaves {@link FeatureSnapshot#events} empty, for a
     * reader of the numbers alone (the training's examples, a merge's last features), which need not copy every
     * event's buckets.
     */
    public FeatureSnapshot snapshot(long t, Collection<String> eventNames, boolean withHistory) {
        // Every window's counts of every name, zero when unseen: six arrays over one shared key order, each bucket
        // resolution walked once (the four day windows together).
        CountMap.Keys keys = CountMap.keys(eventNames);
        for (var entry : events.entrySet()) {
            if (entry.getValue().placeIn(keys, entry.getKey()) < 0) { // a name the taxonomy does not have
                keys = CountMap.keys(eventNames, events.keySet());
                break;
            }
        }
        long[][] byWindow = new long[FeatureSnapshot.COUNT_WINDOWS.size()][keys.size()];
        for (var entry : events.entrySet()) {
            int i = entry.getValue().placeIn(keys, entry.getKey());
            Buckets b = entry.getValue();
            byWindow[0][i] = b.minutes.sum(MINUTE, HOUR, t);
            byWindow[1][i] = b.hours.sum(HOUR, DAY, t);
            BucketCounts days = b.days;
            for (int d = 0; d < days.size(); d++) {
                long start = days.index(d) * DAY;
                if (start <= t) {
                    for (int w = 0; w < DAY_WINDOWS.length; w++) { // 7d, 30d, 60d, 90d: windows 2 to 5
                        if (start > t - DAY_WINDOWS[w] * DAY) {
                            byWindow[2 + w][i] += days.count(d);
                        }
                    }
                }
            }
        }
        Map<String, Map<String, Long>> counts = new LinkedHashMap<>();
        for (int w = 0; w < byWindow.length; w++) {
            counts.put(FeatureSnapshot.COUNT_WINDOWS.get(w), new CountMap(keys, byWindow[w]));
        }
        long sessions30 = 0;
        long duration30 = 0;
        for (var entry : sessionsByDay.entrySet()) {
            if (inDays(entry.getKey(), 30, t)) {
                sessions30 += entry.getValue()[0];
                duration30 += entry.getValue()[1];
            }
        }
        if (sessionStart >= 0 && sessionStart <= t && inDays(Math.floorDiv(sessionStart, DAY), 30, t)) {
            sessions30++;
            duration30 += Math.min(sessionLast, t) - sessionStart;
        }
        double revenue90 = 0;
        double revenue365 = 0;
        long purchases365 = 0;
        for (var entry : purchasesByDay.entrySet()) {
            if (inDays(entry.getKey(), LOOKBACK_DAYS, t)) {
                purchases365 += (long) entry.getValue()[0];
                revenue365 += entry.getValue()[1];
                if (inDays(entry.getKey(), MAX_DAYS, t)) {
                    revenue90 += entry.getValue()[1];
                }
            }
        }
        List<String> featuresUsed = new ArrayList<>();
        featureLastUsed.forEach((feature, last) -> {
            if (last <= t && last > t - MAX_DAYS * DAY) {
                featuresUsed.add(feature);
            }
        });
        long keyUsed = 0;
        for (String feature : config.keyFeatures()) {
            keyUsed += featuresUsed.contains(feature) ? 1 : 0;
        }
        List<String> categories = new ArrayList<>();
        categoryLastViewed.forEach((category, last) -> {
            if (last <= t && last > t - DAY) {
                categories.add(category);
            }
        });
        double recency = lastActive < 0 ? LOOKBACK_DAYS : wholeDays(lastActive, t);
        double tenure = firstActive < 0 || firstActive > t ? 0 : wholeDays(firstActive, t);
        boolean cartOpen = lastAddToCart > lastOrder && lastAddToCart <= t && t - lastAddToCart < CART_OPEN_FOR;
        boolean cartAbandoned = cartOpen && t - lastAddToCart >= config.cartAbandonAfterMs();
        long tickets60 = count(events.get("support_ticket_created"), "60d", t);
        return new FeatureSnapshot(t, recency, sessions30, revenue90,
                config.keyFeatures().isEmpty() ? 0 : (double) keyUsed / config.keyFeatures().size(), tickets60,
                sessions30 == 0 ? 0 : duration30 / 60_000.0 / sessions30, cartOpen, cartAbandoned, purchases365,
                revenue365, tenure, overduePurchases(purchases365, recency,
                        firstActive < 0 || lastActive < 0 ? 0 : Math.floorDiv(lastActive - firstActive, DAY)),
                traits.cartValue(t), traits.maxPriceViewed(t, DAY),
                traits.categoriesAfterCart(t, lastAddToCart > lastOrder ? lastAddToCart : -1, DAY),
                counts, categories, featuresUsed, withHistory ? timeline(t) : new EventTimeline(t, Map.of()));
    }

    /**
     * The purchases a customer would have made since they were last active, at their own pace of the year: purchases
     * per day of tenure times the days since. A regular who has been away for three of their usual gaps scores about 3
     * whatever their pace, where recency alone calls a weekly buyer gone after a month and a yearly one fresh.
     *
     * <p>Tenure here is the whole days from first to last activity plus recency (at least 1, at most the lookback),
     * not {@code tenure_days}: that one ticks at the first activity's time of day and recency at the last's, and a
     * ratio of the two would step down at one and up at the other every day. This one changes only when recency or
     * the year's purchases do, so it needs no timer of its own and never flaps within a day.
     */
    static double overduePurchases(long purchases365, double recencyDays, long activeSpanDays) {
        return purchases365 == 0 ? 0
                : purchases365 * recencyDays / Math.max(1, Math.min(LOOKBACK_DAYS, activeSpanDays + recencyDays));
    }

    /** Whole days from {@code since} to {@code t}, at most the lookback. */
    private static double wholeDays(long since, long t) {
        return Math.min(LOOKBACK_DAYS, Math.floorDiv(Math.max(0, t - since), DAY));
    }

    private static long count(Buckets b, String window, long t) {
        if (b == null) {
            return 0;
        }
        return switch (window) {
            case "1h" -> b.minutes.sum(MINUTE, HOUR, t);
            case "24h" -> b.hours.sum(HOUR, DAY, t);
            case "7d" -> b.days.sum(DAY, 7 * DAY, t);
            case "30d" -> b.days.sum(DAY, 30 * DAY, t);
            case "60d" -> b.days.sum(DAY, 60 * DAY, t);
            case "90d" -> b.days.sum(DAY, 90 * DAY, t);
            default -> throw new IllegalArgumentException("no window " + window);
        };
    }

    private static boolean inDays(long dayIndex, int days, long t) {
        long start = dayIndex * DAY;
        return start > t - days * DAY && start <= t;
    }

    /** Folds another user's state into this one (an anonymous device's history into the known user), bucket by bucket. */
    public void merge(UserFeatures other) {
        changes++;
        pruneDue = Long.MIN_VALUE; // the other's entries leave when they leave: the next prune walks
        pruneRestDue = Long.MIN_VALUE;
        other.events.forEach((name, b) -> {
            Buckets mine = events.computeIfAbsent(name, k -> new Buckets());
            mine.changed();
            addAll(mine.minutes, b.minutes);
            addAll(mine.hours, b.hours);
            addAll(mine.days, b.days);
            mine.keepRecent(b.recent);
        });
        other.purchasesByDay.forEach((k, v) -> {
            double[] mine = purchasesByDay.computeIfAbsent(k, x -> new double[2]);
            mine[0] += v[0];
            mine[1] += v[1];
        });
        other.sessionsByDay.forEach((k, v) -> {
            long[] mine = sessionsByDay.computeIfAbsent(k, x -> new long[2]);
            mine[0] += v[0];
            mine[1] += v[1];
        });
        if (other.sessionStart >= 0) {
            // The other device's open session counts as a session of its own.
            long[] day = sessionsByDay.computeIfAbsent(Math.floorDiv(other.sessionStart, DAY), k -> new long[2]);
            day[0]++;
            day[1] += other.sessionLast - other.sessionStart;
        }
        other.featureLastUsed.forEach((k, v) -> featureLastUsed.merge(k, v, Math::max));
        other.categoryLastViewed.forEach((k, v) -> categoryLastViewed.merge(k, v, Math::max));
        lastActive = Math.max(lastActive, other.lastActive);
        if (other.firstActive >= 0) {
            firstActive = firstActive < 0 ? other.firstActive : Math.min(firstActive, other.firstActive);
        }
        lastEvent = Math.max(lastEvent, other.lastEvent);
        lastAddToCart = Math.max(lastAddToCart, other.lastAddToCart);
        lastOrder = Math.max(lastOrder, other.lastOrder);
        traits.merge(other.traits);
    }

    private static void addAll(BucketCounts into, BucketCounts from) {
        for (int i = 0; i < from.size(); i++) {
            into.add(from.index(i), from.count(i));
        }
    }

    /** The state as bytes (versioned, compact): what the stream job keeps per user. */
    public byte[] toBytes() {
        try {
            // Not ByteArrayOutputStream: that one locks at every byte written (varints are written a byte at a time)
            // and copies itself at every doubling; they were half of a heap checkpoint's time (JFR).
            BytesOut out = new BytesOut(1024);
            out.writeByte(FORMAT_VERSION);
            out.writeShort(events.size());
            for (var entry : events.entrySet()) {
                out.writeUTF(entry.getKey());
                writeCounts(out, entry.getValue().minutes);
                writeCounts(out, entry.getValue().hours);
                writeCounts(out, entry.getValue().days);
                long[] recent = entry.getValue().recent;
                out.writeByte(recent.length);
                long previous = 0;
                for (long x : recent) {
                    writeVarLong(out, x - previous);
                    previous = x;
                }
            }
            out.writeShort(purchasesByDay.size());
            for (var entry : purchasesByDay.entrySet()) {
                out.writeInt(entry.getKey().intValue());
                writeVarLong(out, (long) entry.getValue()[0]);
                out.writeDouble(entry.getValue()[1]);
            }
            out.writeShort(sessionsByDay.size());
            long previousDay = 0;
            for (var entry : sessionsByDay.entrySet()) {
                writeVarLong(out, entry.getKey() - previousDay); // days in order: the first as is, then the gaps
                writeVarLong(out, entry.getValue()[0]);
                writeVarLong(out, entry.getValue()[1]);
                previousDay = entry.getKey();
            }
            BinaryMaps.writeStringLongs(out, featureLastUsed);
            BinaryMaps.writeStringLongs(out, categoryLastViewed);
            for (long v : new long[] {sessionStart, sessionLast, firstActive, lastActive, lastEvent, lastAddToCart,
                    lastOrder}) {
                writeVarLong(out, v + 1); // -1 (never) is 0; any other value still reads back
            }
            traits.writeTo(out);
            return out.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static UserFeatures fromBytes(byte[] bytes, FeatureConfig config) {
        UserFeatures f = new UserFeatures(config);
        try {
            BytesIn in = new BytesIn(bytes);
            byte version = in.readByte();
            if (version < 1 || version > FORMAT_VERSION) {
                throw new IllegalStateException("unknown feature state format " + version);
            }
            int names = in.readUnsignedShort();
            for (int i = 0; i < names; i++) {
                Buckets b = new Buckets();
                f.events.put(in.readUTF(), b);
                readCounts(in, b.minutes);
                readCounts(in, b.hours);
                readCounts(in, b.days);
                if (version >= 5) { // earlier formats kept no exact times: sequences start from the next events
                    long[] recent = new long[in.readUnsignedByte()];
                    long previous = 0;
                    for (int r = 0; r < recent.length; r++) {
                        previous += readVarLong(in);
                        recent[r] = previous;
                    }
                    b.recent = recent;
                }
            }
            int purchaseDays = in.readUnsignedShort();
            for (int i = 0; i < purchaseDays; i++) {
                long day = in.readInt();
                // Format 1 kept each day's revenue only: a day with revenue counts as one purchase.
                long purchases = version == 1 ? 1 : readVarLong(in);
                f.purchasesByDay.put(day, new double[] {purchases, in.readDouble()});
            }
            int sessionDays = in.readUnsignedShort();
            long day = 0;
            for (int i = 0; i < sessionDays; i++) {
                if (version >= 6) {
                    day += readVarLong(in);
                    f.sessionsByDay.put(day, new long[] {readVarLong(in), readVarLong(in)});
                } else {
                    f.sessionsByDay.put((long) in.readInt(), new long[] {in.readInt(), in.readLong()});
                }
            }
            BinaryMaps.readStringLongs(in, f.featureLastUsed);
            BinaryMaps.readStringLongs(in, f.categoryLastViewed);
            f.sessionStart = readMoment(in, version);
            f.sessionLast = readMoment(in, version);
            f.firstActive = version == 1 ? -1 : readMoment(in, version);
            f.lastActive = readMoment(in, version);
            f.lastEvent = readMoment(in, version);
            f.lastAddToCart = readMoment(in, version);
            f.lastOrder = readMoment(in, version);
            if (version >= 3) { // formats 1 and 2 had no traits: they start empty
                f.traits = ProfileTraits.readFrom(in, version, Math.max(f.lastEvent, f.lastActive));
            }
            if (version == 1 && f.lastActive >= 0) {
                // Format 1 did not keep the first activity: tenure starts from the oldest day of activity it kept.
                f.firstActive = f.events.entrySet().stream()
                        .filter(e -> !config.isPassive(e.getKey()) && !e.getValue().days.isEmpty())
                        .mapToLong(e -> e.getValue().days.index(0) * DAY).min().orElse(f.lastActive);
                f.firstActive = Math.min(f.firstActive, f.lastActive);
            }
            return f;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A moment (epoch ms, or -1 for never): a varint of it + 1 from format 6, 8 bytes before. */
    private static long readMoment(DataInput in, int version) throws IOException {
        return version >= 6 ? readVarLong(in) - 1 : in.readLong();
    }

    /** Bucket indexes as deltas from the previous one: small numbers for the dense recent past. */
    private static void writeCounts(DataOutput out, BucketCounts counts) throws IOException {
        out.writeShort(counts.size());
        long previous = 0;
        for (int i = 0; i < counts.size(); i++) {
            writeVarLong(out, counts.index(i) - previous);
            writeVarLong(out, counts.count(i));
            previous = counts.index(i);
        }
    }

    /** Reads what {@link #writeCounts} wrote (indexes in order, each once) into empty buckets. */
    private static void readCounts(DataInput in, BucketCounts counts) throws IOException {
        int n = in.readUnsignedShort();
        long previous = 0;
        for (int i = 0; i < n; i++) {
            previous += readVarLong(in);
            counts.add(previous, (int) readVarLong(in));
        }
    }

    private static void writeVarLong(DataOutput out, long value) throws IOException {
        while ((value & ~0x7FL) != 0) {
            out.writeByte((int) ((value & 0x7F) | 0x80));
            value >>>= 7;
        }
        out.writeByte((int) value);
    }

    private static long readVarLong(DataInput in) throws IOException {
        long value = 0;
        int shift = 0;
        int b;
        do {
            b = in.readUnsignedByte();
            value |= (long) (b & 0x7F) << shift;
            shift += 7;
        } while ((b & 0x80) != 0);
        return value;
    }
}
