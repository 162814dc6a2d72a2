package io.cohortflow.core.engine;

import io.cohortflow.core.event.EventTaxonomy;
import io.cohortflow.core.event.UnifiedEvent;
import io.cohortflow.core.feature.FeatureConfig;
import io.cohortflow.core.identity.IdentityLink;
import io.cohortflow.core.identity.IdentityMerge;
import io.cohortflow.core.scoring.Scorer;
import io.cohortflow.core.scoring.Scores;
import io.cohortflow.core.segment.Cause;
import io.cohortflow.core.segment.ChangeType;
import io.cohortflow.core.segment.SegmentChange;
import io.cohortflow.core.segment.SegmentDefinition;
import io.cohortflow.core.segment.SegmentRules;
import io.cohortflow.core.segment.StateHandoff;
import io.cohortflow.core.testing.Events;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.groups.Tuple.tuple;

class UserSegmentsTest {
    static final long T0 = Instant.parse("2026-03-02T10:00:00Z").toEpochMilli();
    static final long MIN = 60_000L;
    static final long HOUR = 60 * MIN;
    static final long DAY = 24 * HOUR;
    static final Ruleset RULES = Ruleset.of(FeatureConfig.defaults(),
            EventTaxonomy.defaults().canonicalNames().stream().sorted().toList(), Duration.ofDays(90),
            SegmentRules.defaults(), Scorer.NONE);

    private final List<SegmentChange> changes = new ArrayList<>();
    private final List<StateHandoff> handoffs = new ArrayList<>();

    @Test
    void anEnterComesWithTheEventThatCausesItAndTimeAloneMakesTheExit() {
        UserSegments jane = new UserSegments();
        collect(jane.apply("anon_123xyz", shoe("product_search", T0), RULES, 0));
        collect(jane.apply("anon_123xyz", shoe("product_view", T0 + 2 * MIN), RULES, 0));
        assertThat(changes).isEmpty();
        Outcome third = jane.apply("anon_123xyz", shoe("add_to_cart", T0 + 4 * MIN), RULES, 0);
        collect(third);
        assertThat(changes).as("on arrival, no watermark needed")
                .extracting(SegmentChange::segmentId, SegmentChange::type, SegmentChange::eventTime)
                .containsExactly(tuple("high_intent_1h", ChangeType.ENTER, T0 + 4 * MIN),
                        tuple("high_intent_footwear", ChangeType.ENTER, T0 + 4 * MIN));
        assertThat(third.profile()).hasValueSatisfying(p ->
                assertThat(p.segments()).containsExactly("high_intent_1h", "high_intent_footwear"));
        assertThat(third.wakeUp()).hasValue(T0 + 4 * MIN + 30 * MIN).as("the cart turns abandoned first");

        changes.clear();
        collect(jane.advanceTo("anon_123xyz", T0 + 3 * HOUR, RULES, 0));
        assertThat(changes).extracting(SegmentChange::segmentId, SegmentChange::type, SegmentChange::eventTime)
                .containsExactly(tuple("cart_abandoner", ChangeType.ENTER, T0 + 34 * MIN),
                        // the search's minute leaves the hour at T0+1h: two actions remain
                        tuple("high_intent_1h", ChangeType.EXIT, T0 + HOUR),
                        tuple("high_intent_footwear", ChangeType.EXIT, T0 + HOUR));
        assertThat(changes).allSatisfy(c -> assertThat(c.cause().kind()).isEqualTo("rule"));
        assertThat(jane.clock()).hasValue(T0 + 3 * HOUR);
    }

    @Test
    void theOutcomeDependsOnTheInputsInArrivalOrderNotOnWhenTheClockMoved() {
        List<UnifiedEvent> events = new ArrayList<>();
        Random random = new Random(7);
        long t = T0;
        String[] names = {"product_view", "product_search", "add_to_cart", "order_completed", "page_view",
                "email_opened", "feature_used"};
        for (int i = 0; i < 300; i++) {
            t += (long) (random.nextDouble() * random.nextDouble() * 6 * HOUR);
            // a few arrive out of order, behind what came before
            long at = random.nextInt(10) == 0 ? t - random.nextInt(20) * MIN : t;
            String name = names[random.nextInt(names.length)];
            events.add(Events.track("u1", name, at).with("feature", random.nextBoolean() ? "dashboards" : "api")
                    .with("revenue", 40.0).build());
        }
        List<String> withoutTimers = run(events, new Random(1), 0);
        for (int seed = 2; seed < 6; seed++) {
            assertThat(run(events, new Random(seed), 3)).as("watermarks at random moments, seed " + seed)
                    .isEqualTo(withoutTimers);
        }
        assertThat(withoutTimers).hasSizeGreaterThan(50);
    }

    /**
     * A condition runs only when one of its reads changed ({@link RuleReads}); skipping the rest must give exactly the
     * outcomes of running every one. Three engines take the same inputs (events and time passing) under 300
     * conditions: one kept as an object, which remembers its last reads; one read back from bytes before every input,
     * which remembers none and so runs every condition every time; and one copied as the job's state backend copies
     * (from bytes, keeping the original's last reads). Changes, profiles and wake-ups agree at every step.
     */
    @Test
    void skippingConditionsWhoseReadsDidNotChangeGivesTheOutcomesOfRunningThemAll() throws Exception {
        String[] names = {"product_view", "product_search", "add_to_cart", "order_completed", "page_view",
                "email_opened", "feature_used"};
        Random random = new Random(11);
        Ruleset rules = withGenerated(300, 11);
        UserSegments kept = new UserSegments();
        UserSegments readBack = new UserSegments();
        UserSegments copied = new UserSegments();
        long t = T0;
        int changed = 0;
        int forgotten = 0;
        for (int i = 0; i < 400; i++) {
            t += (long) (random.nextDouble() * random.nextDouble() * 8 * HOUR);
            Outcome a;
            Outcome b;
            Outcome c;
            readBack = roundTrip(readBack);
            UserSegments copy = roundTrip(copied);
            copy.keepEvaluationOf(copied);
            copied = copy;
            if (random.nextInt(50) == 0) { // a privacy request: every membership left, the next evaluation afresh
                a = kept.forget("u1", "request-" + i, rules, 0);
                b = readBack.forget("u1", "request-" + i, rules, 0);
                c = copied.forget("u1", "request-" + i, rules, 0);
                forgotten++;
            } else if (random.nextInt(6) == 0) {
                a = kept.advanceTo("u1", t, rules, 0);
                b = readBack.advanceTo("u1", t, rules, 0);
                c = copied.advanceTo("u1", t, rules, 0);
            } else {
                UnifiedEvent event = Events.track("u1", names[random.nextInt(names.length)], t)
                        .with("feature", random.nextBoolean() ? "dashboards" : "api").with("revenue", 40.0).build();
                a = kept.apply("u1", event, rules, 0);
                b = readBack.apply("u1", event, rules, 0);
                c = copied.apply("u1", event, rules, 0);
            }
            assertThat(a).as("input " + i).isEqualTo(b).isEqualTo(c);
            changed += a.changes().size();
        }
        assertThat(changed).as("the conditions did change memberships").isGreaterThan(300);
        assertThat(forgotten).isPositive();
    }

    /**
     * A user without memberships starts its first evaluation where a new user does ({@link RuleReads#empty}): only
     * the conditions whose reads differ from a new user's run, and those a new user matches. That must give what
     * running every condition gives: 300 users with a few random inputs each (events, time passing, a privacy
     * request now and then, which leaves every membership and starts afresh), under 300 generated conditions and
     * some that a new user matches (never purchased, no page view this week), on one engine that starts from the new
     * user and on one that runs them all.
     */
    @Test
    void aUserWithoutMembershipsStartsWhereANewUserDoesWithTheOutcomesOfRunningEveryCondition() {
        String[] names = {"product_view", "product_search", "add_to_cart", "order_completed", "page_view",
                "email_opened", "feature_used"};
        List<SegmentDefinition> definitions = new ArrayList<>(SegmentRules.defaults());
        definitions.addAll(io.cohortflow.core.testing.GeneratedSegments.of(300, 13));
        definitions.add(new SegmentDefinition("never_purchased", "Never purchased", "purchases_365d == 0", null,
                false));
        definitions.add(new SegmentDefinition("no_page_view_7d", "No page view this week",
                "count_7d['page_view'] < 1 && !(count_1h['product_view'] >= 2)", null, false));
        Ruleset rules = Ruleset.of(FeatureConfig.defaults(), RULES.eventNames(), Duration.ofDays(90), definitions,
                Scorer.NONE);
        Random random = new Random(13);
        int changes = 0;
        int enteredAtOnce = 0;
        for (int u = 0; u < 300; u++) {
            String id = "u" + u;
            UserSegments started = new UserSegments();
            UserSegments everyCondition = new UserSegments();
            everyCondition.evaluateEveryCondition = true;
            long t = T0 + (long) (random.nextDouble() * 30 * DAY);
            int inputs = 1 + random.nextInt(8);
            for (int i = 0; i < inputs; i++) {
                t += (long) (random.nextDouble() * random.nextDouble() * 12 * HOUR);
                Outcome a;
                Outcome b;
                if (random.nextInt(12) == 0) {
                    a = started.forget(id, "request-" + i, rules, 0);
                    b = everyCondition.forget(id, "request-" + i, rules, 0);
                } else if (random.nextInt(5) == 0) {
                    a = started.advanceTo(id, t, rules, 0);
                    b = everyCondition.advanceTo(id, t, rules, 0);
                } else {
                    UnifiedEvent event = Events.track(id, names[random.nextInt(names.length)], t)
                            .with("feature", random.nextBoolean() ? "dashboards" : "api").with("revenue", 40.0)
                            .with("price", 25.0).build();
                    a = started.apply(id, event, rules, 0);
                    b = everyCondition.apply(id, event, rules, 0);
                    if (i == 0) {
                        enteredAtOnce += (int) a.changes().stream()
                                .filter(c -> c.segmentId().equals("never_purchased")).count();
                    }
                }
                assertThat(a).as("user %d, input %d", u, i).isEqualTo(b);
                changes += a.changes().size();
            }
        }
        assertThat(rules.reads().emptyStart()).as("users started where a new user does").isNotNull();
        assertThat(rules.reads().emptyStart().matching()).as("conditions a new user matches").contains(true);
        assertThat(enteredAtOnce).as("new users who entered 'never purchased' at their first event").isPositive();
        assertThat(changes).isGreaterThan(1_000);
    }

    /**
     * A step's profile built many steps later (as the segmentation job builds one it writes at a checkpoint) is the one
     * built at once: what it is built from does not move with the user's later inputs (features, traits, the cart,
     * memberships, the clock).
     */
    @Test
    void aProfileBuiltStepsLaterIsTheOneBuiltAtOnce() {
        Ruleset rules = withGenerated(100, 5);
        String[] names = {"product_view", "add_to_cart", "order_completed", "page_view", "email_opened",
                "checkout_started", "feature_used"};
        var codec = new io.cohortflow.core.segment.SegmentProfileCodec();
        Random random = new Random(5);
        UserSegments now = new UserSegments();
        UserSegments later = new UserSegments();
        List<byte[]> builtAtOnce = new ArrayList<>();
        List<StepProfile> kept = new ArrayList<>();
        long t = T0;
        for (int i = 0; i < 600; i++) {
            t += (long) (random.nextDouble() * random.nextDouble() * 10 * HOUR);
            Outcome a;
            Outcome b;
            if (random.nextInt(5) == 0) {
                a = now.advanceTo("u1", t, rules, 0);
                b = later.advanceTo("u1", t, rules, 0);
            } else {
                String name = names[random.nextInt(names.length)];
                Events event = i % 40 == 3 ? Events.identify("u1", t).trait("email", "u" + i + "@example.com")
                        : Events.track("u1", name, t).with("feature", "f" + random.nextInt(3));
                if (name.equals("product_view") || name.equals("add_to_cart")) {
                    event.with("product_id", "p" + random.nextInt(30)).with("price", 5.0 * random.nextInt(40))
                            .with("category", "c" + random.nextInt(4));
                }
                if (name.equals("order_completed")) {
                    event.with("revenue", 10.0 + random.nextInt(200));
                }
                UnifiedEvent built = event.build();
                a = now.apply("u1", built, rules, 0);
                b = later.apply("u1", built, rules, 0);
            }
            a.profile().ifPresent(profile -> builtAtOnce.add(codec.encode(profile)));
            b.published().ifPresent(kept::add);
        }
        assertThat(kept).hasSameSizeAs(builtAtOnce).hasSizeGreaterThan(400);
        for (int i = 0; i < kept.size(); i++) {
            assertThat(new String(codec.encode(kept.get(i).get()), java.nio.charset.StandardCharsets.UTF_8))
                    .as("profile %d", i)
                    .isEqualTo(new String(builtAtOnce.get(i), java.nio.charset.StandardCharsets.UTF_8));
        }
    }

    /**
     * A timer that fires with the watermark far past it (a catch-up) and passes every moment up to the watermark in one
     * step does what the timers of each of those moments, fired in turn, would: the same changes, the same state (its
     * bytes) and wake-up, and as its one profile the last one theirs published. Also when an event comes behind the
     * watermark afterwards: the clock stopped at the last moment, not at the watermark.
     */
    @Test
    void aTimerFiredFarBehindTheWatermarkDoesWhatTheTimersOfEachMomentWould() throws Exception {
        String[] names = {"product_view", "product_search", "add_to_cart", "order_completed", "page_view",
                "email_opened", "feature_used"};
        Random random = new Random(23);
        TwoHosts hosts = new TwoHosts(withGenerated(100, 7), false);
        long t = T0;
        long watermark = Long.MIN_VALUE;
        int behind = 0;
        for (int i = 0; i <= 500; i++) {
            t += (long) (random.nextDouble() * random.nextDouble() * 6 * HOUR);
            // The watermark jumps now and then, up to a day ahead of the next event (which then comes behind it).
            long candidate = i == 500 ? t + 400 * DAY
                    : t - random.nextInt((int) (2 * HOUR)) + (random.nextInt(8) == 0 ? random.nextInt((int) DAY) : 0);
            if (candidate > watermark && random.nextInt(3) > 0) {
                watermark = candidate;
                behind += t <= watermark ? 1 : 0;
                hosts.watermark(watermark);
            }
            if (i < 500) {
                hosts.apply(Events.track("u1", names[random.nextInt(names.length)], t)
                        .with("feature", random.nextBoolean() ? "dashboards" : "api").with("revenue", 40.0).build());
            }
        }
        assertThat(hosts.fromPerWatermark).isEqualTo(hosts.fromOneByOne).hasSizeGreaterThan(200);
        hosts.assertSameState("at the end");
        assertThat(hosts.steps).as("timers fired: %d one by one", hosts.fires).isLessThan(hosts.fires / 3);
        assertThat(behind).as("events that came behind the watermark").isPositive();
    }

    /**
     * Moments that move only counts no condition or model reads (or end a session) are not evaluated: the changes, the
     * state and each watermark's last profile are those of evaluating every moment, with the shipped segments and
     * behavioural operators that look back beyond their own window (first_within over 90 days, then_within's
     * remembered times), timers fired per watermark against one by one, through the end of input (the watermark
     * {@link Long#MAX_VALUE}) with a member who never leaves.
     */
    @Test
    @org.junit.jupiter.api.Timeout(value = 120, threadMode = org.junit.jupiter.api.Timeout.ThreadMode.SEPARATE_THREAD)
    void skippingMomentsNobodyReadsGivesWhatEvaluatingEveryMomentGives() throws Exception {
        List<SegmentDefinition> definitions = new ArrayList<>(SegmentRules.defaults());
        definitions.add(new SegmentDefinition("first_checkout_7d", "First checkout this week",
                "events.first_within('checkout_started', '7d')", null, false));
        definitions.add(new SegmentDefinition("cart_then_order_2h", "Cart then order",
                "events.then_within('add_to_cart', 'order_completed', '2h')", null, false));
        definitions.add(new SegmentDefinition("no_email_30d", "No email for a month",
                "events.absent_for('email_opened', '30d')", null, false));
        definitions.add(new SegmentDefinition("browsing_45m", "Browsing", "events.count('page_view', '45m') >= 2",
                null, false));
        Ruleset rules = Ruleset.of(FeatureConfig.defaults(), RULES.eventNames(), Duration.ofDays(90), definitions,
                Scorer.NONE);
        String[] names = {"product_view", "product_search", "add_to_cart", "order_completed", "page_view",
                "email_opened", "checkout_started", "feature_used", "support_ticket_created"};
        Random random = new Random(31);
        TwoHosts hosts = new TwoHosts(rules, true);
        long t = T0;
        long watermark = Long.MIN_VALUE;
        for (int i = 0; i <= 400; i++) {
            t += random.nextInt(6) == 0 ? random.nextInt(100) * DAY : (long) (random.nextDouble() * 3 * HOUR);
            long candidate = i == 400 ? Long.MAX_VALUE : t - random.nextInt((int) (2 * HOUR));
            if (candidate > watermark && (i == 400 || random.nextInt(3) > 0)) {
                watermark = candidate;
                hosts.watermark(watermark);
            }
            if (i < 400) {
                hosts.apply(Events.track("u1", names[random.nextInt(names.length)], t)
                        .with("feature", "dashboards").with("revenue", 40.0).with("category", "c" + random.nextInt(3))
                        .with("product_id", "p" + random.nextInt(5)).with("price", 150.0).build());
            }
        }
        assertThat(hosts.fromPerWatermark).isEqualTo(hosts.fromOneByOne);
        for (String segment : List.of("first_checkout_7d", "cart_then_order_2h", "no_email_30d", "browsing_45m")) {
            assertThat(hosts.fromOneByOne).as(segment).anyMatch(c -> c.contains(" " + segment + " EXIT "));
        }
        assertThat(hosts.perWatermark.explain("no_email_30d", rules)).as("a member who never leaves, at the end of input")
                .hasValueSatisfying(explanation -> assertThat(explanation.member()).isTrue());
    }

    /**
     * One user driven by two hosts: one fires a timer per moment ({@link UserSegments#advanceTo(String, long, Ruleset,
     * long)}, the reference, which evaluates every moment when {@code everyMoment}), the other a timer per watermark
     * ({@link UserSegments#advanceTo(String, long, long, Ruleset, long)}). At every input their changes so far, their
     * states (bytes) and their profiles must agree: the last of a watermark's profiles one by one against the per
     * watermark step's one.
     */
    private static final class TwoHosts {
        final Ruleset rules;
        final boolean everyMoment;
        final io.cohortflow.core.segment.SegmentProfileCodec codec = new io.cohortflow.core.segment.SegmentProfileCodec();
        final List<String> fromOneByOne = new ArrayList<>();
        final List<String> fromPerWatermark = new ArrayList<>();
        UserSegments oneByOne;
        UserSegments perWatermark = new UserSegments();
        int fires;
        int steps;

        TwoHosts(Ruleset rules, boolean everyMoment) {
            this.rules = rules;
            this.everyMoment = everyMoment;
            this.oneByOne = reference();
        }

        private UserSegments reference() {
            UserSegments user = new UserSegments();
            user.evaluateEveryMoment = everyMoment;
            return user;
        }

        void watermark(long watermark) throws Exception {
            String last = null;
            while (oneByOne.wakeUp().isPresent() && oneByOne.wakeUp().getAsLong() <= watermark) {
                Outcome each = oneByOne.advanceTo("u1", oneByOne.wakeUp().getAsLong(), rules, 0);
                each.changes().forEach(c -> fromOneByOne.add(describe(c)));
                last = each.profile().map(p -> json(codec, p)).orElse(last);
                oneByOne = each.cleared() ? reference() : oneByOne;
                fires++;
            }
            if (perWatermark.wakeUp().isPresent() && perWatermark.wakeUp().getAsLong() <= watermark) {
                Outcome one = perWatermark.advanceTo("u1", perWatermark.wakeUp().getAsLong(), watermark, rules, 0);
                one.changes().forEach(c -> fromPerWatermark.add(describe(c)));
                assertThat(one.profile().map(p -> json(codec, p)).orElse(null))
                        .as("the profile at watermark %d", watermark).isEqualTo(last);
                perWatermark = one.cleared() ? new UserSegments() : perWatermark;
                steps++;
            }
            assertThat(fromPerWatermark).as("at watermark %d", watermark).isEqualTo(fromOneByOne);
            assertSameState("at watermark " + watermark);
        }

        void assertSameState(String when) throws Exception {
            assertThat(bytes(perWatermark)).as("the state %s", when).isEqualTo(bytes(oneByOne));
        }

        void apply(UnifiedEvent event) {
            Outcome a = oneByOne.apply("u1", event, rules, 0);
            Outcome b = perWatermark.apply("u1", event, rules, 0);
            a.changes().forEach(c -> fromOneByOne.add(describe(c)));
            b.changes().forEach(c -> fromPerWatermark.add(describe(c)));
            assertThat(b.profile().map(p -> json(codec, p))).as("event at %d", event.timestamp())
                    .isEqualTo(a.profile().map(p -> json(codec, p)));
        }
    }

    /**
     * first_within looks back 90 days, beyond its own window: a day of its event leaving the 90 days is a moment it
     * sees, even when no session's day leaves with it (a session that began the day before) and no rule counts that
     * event over 90 days. Passed in one step, it ENTERs at that midnight, not at the next moment something else moves.
     */
    @Test
    void aDayAnOperatorStillSeesLeavingIsEvaluatedWhenPassedInOneStep() {
        List<SegmentDefinition> definitions = new ArrayList<>(SegmentRules.defaults());
        definitions.add(new SegmentDefinition("first_checkout_7d", "First checkout this week",
                "events.first_within('checkout_started', '7d')", null, false));
        Ruleset rules = Ruleset.of(FeatureConfig.defaults(), RULES.eventNames(), Duration.ofDays(90), definitions,
                Scorer.NONE);
        long midnight = Math.floorDiv(T0, DAY) * DAY;
        UserSegments user = new UserSegments();
        user.apply("u1", Events.track("u1", "page_view", midnight - 10 * MIN).build(), rules, 0); // the session begins
        user.apply("u1", Events.track("u1", "checkout_started", midnight + 10 * MIN).build(), rules, 0);
        Outcome again = user.apply("u1", Events.track("u1", "checkout_started", midnight + 85 * DAY + 12 * HOUR).build(),
                rules, 0);
        assertThat(again.changes()).as("the first checkout's week ended; the new one is not the first in 90 days")
                .extracting(SegmentChange::type).containsExactly(ChangeType.EXIT);
        Outcome passed = user.advanceTo("u1", user.wakeUp().getAsLong(), midnight + 91 * DAY, rules, 0);
        assertThat(passed.changes()).extracting(SegmentChange::segmentId, SegmentChange::type, SegmentChange::eventTime)
                .contains(tuple("first_checkout_7d", ChangeType.ENTER, midnight + 90 * DAY));
    }

    /** Applies {@code events} in order, moving the clock to a random point before each event now and then. */
    private static List<String> run(List<UnifiedEvent> events, Random random, int advancesPerEvent) {
        UserSegments user = new UserSegments();
        List<String> out = new ArrayList<>();
        long watermark = Long.MIN_VALUE;
        long[] earliestToCome = new long[events.size()];
        for (int i = events.size() - 1; i >= 0; i--) {
            earliestToCome[i] = Math.min(events.get(i).timestamp(),
                    i + 1 < events.size() ? earliestToCome[i + 1] : Long.MAX_VALUE);
        }
        for (int e = 0; e < events.size(); e++) {
            UnifiedEvent event = events.get(e);
            for (int i = 0; i < advancesPerEvent; i++) {
                // within the out-of-orderness bound, a watermark never passes an event still to come
                long candidate = earliestToCome[e] - 1 - random.nextInt((int) (3 * HOUR));
                if (candidate > watermark && random.nextBoolean()) {
                    watermark = candidate;
                    user.advanceTo("u1", watermark, RULES, 0).changes().forEach(c -> out.add(describe(c)));
                }
            }
            user.apply("u1", event, RULES, 0).changes().forEach(c -> out.add(describe(c)));
        }
        user.advanceTo("u1", events.get(events.size() - 1).timestamp() + 200 * DAY, RULES, 0).changes()
                .forEach(c -> out.add(describe(c)));
        return out;
    }

    /** The shipped segments and {@code count} generated ones (see {@code GeneratedSegments}), without a model. */
    private static Ruleset withGenerated(int count, long seed) {
        List<SegmentDefinition> definitions = new ArrayList<>(SegmentRules.defaults());
        definitions.addAll(io.cohortflow.core.testing.GeneratedSegments.of(count, seed));
        return Ruleset.of(FeatureConfig.defaults(), RULES.eventNames(), Duration.ofDays(90), definitions, Scorer.NONE);
    }

    private static String json(io.cohortflow.core.segment.SegmentProfileCodec codec,
                               io.cohortflow.core.segment.SegmentProfile profile) {
        return new String(codec.encode(profile), java.nio.charset.StandardCharsets.UTF_8);
    }

    private static String describe(SegmentChange c) {
        return c.changeId() + " " + c.segmentId() + " " + c.type() + " " + c.eventTime() + " " + c.features();
    }

    @Test
    void anEventBehindTheClockIsAppliedAsOfTheClock() {
        UserSegments user = new UserSegments();
        collect(user.apply("u1", Events.track("u1", "order_completed", T0 + 50 * MIN).with("revenue", 99.0).build(),
                RULES, 0));
        collect(user.apply("u1", Events.track("u1", "add_to_cart", T0).build(), RULES, 0));
        collect(user.advanceTo("u1", T0 + 2 * HOUR, RULES, 0));
        assertThat(changes).as("the add came after the order in arrival, and before it in event time: no open cart")
                .extracting(SegmentChange::segmentId).doesNotContain("cart_abandoner");

        UserSegments inOrder = new UserSegments();
        changes.clear();
        collect(inOrder.apply("u1", Events.track("u1", "add_to_cart", T0).build(), RULES, 0));
        collect(inOrder.apply("u1", Events.track("u1", "order_completed", T0 + 50 * MIN).with("revenue", 99.0)
                .build(), RULES, 0));
        assertThat(changes).extracting(SegmentChange::segmentId, SegmentChange::type, SegmentChange::eventTime)
                .containsExactly(tuple("cart_abandoner", ChangeType.ENTER, T0 + 30 * MIN),
                        tuple("cart_abandoner", ChangeType.EXIT, T0 + 50 * MIN));
    }

    @Test
    void aLateEventCountsInAWindowStillOpenAsACorrectionAndNotInOneAlreadyClosed() {
        UserSegments user = new UserSegments();
        user.apply("u1", Events.track("u1", "product_view", T0).build(), RULES, 0);
        user.apply("u1", Events.track("u1", "product_view", T0 + 10 * MIN).build(), RULES, 0);
        user.advanceTo("u1", T0 + 20 * MIN, RULES, 0);
        // A third view from T0 + 5 min, arriving after ingest's allowed lateness: the hour is still open.
        Outcome late = user.correct("u1", Events.track("u1", "product_view", T0 + 5 * MIN).build(), RULES, 0);
        assertThat(late.changes()).extracting(SegmentChange::segmentId)
                .containsExactly("high_intent_1h", "product_viewer_3x_1h");
        assertThat(late.changes()).filteredOn(c -> c.segmentId().equals("product_viewer_3x_1h")).singleElement().satisfies(c -> {
            assertThat(c.type()).isEqualTo(ChangeType.ENTER);
            assertThat(c.eventTime()).as("as of the clock").isEqualTo(T0 + 20 * MIN);
            assertThat(c.cause().kind()).isEqualTo("late");
            assertThat(c.cause().id()).isEqualTo("product_viewer_3x_1h");
        });

        UserSegments other = new UserSegments();
        other.apply("u2", Events.track("u2", "product_view", T0).build(), RULES, 0);
        other.apply("u2", Events.track("u2", "product_view", T0 + 10 * MIN).build(), RULES, 0);
        other.advanceTo("u2", T0 + 3 * HOUR, RULES, 0);
        Outcome closed = other.correct("u2", Events.track("u2", "product_view", T0 + 5 * MIN).build(), RULES, 0);
        assertThat(closed.changes()).as("its hour is over: the 1h window does not count it").isEmpty();
        assertThat(other.snapshot(RULES).count("24h", "product_view")).as("the 24h window does").isEqualTo(3);
    }

    @Test
    void aMergeExitsTheAnonymousIdAtItsMarkerHandsItsStateOverAndStragglersFollow() {
        UserSegments anon = anonymousCartAbandoner();
        UnifiedEvent login = login(T0 + DAY);
        Outcome atMarker = anon.apply("anon_123xyz", IdentityLink.marker(login, "anon_123xyz"), RULES, 0);
        assertThat(atMarker.handoffs()).as("the decision is not known yet").isEmpty();
        Outcome held = anon.apply("anon_123xyz", shoe("product_view", T0 + DAY + MIN), RULES, 0);
        assertThat(held.changes()).isEmpty();
        assertThat(held.handoffs()).as("held behind the marker").isEmpty();
        Outcome merged = anon.decided("anon_123xyz", merged(login), RULES, 0);
        collect(merged);
        assertThat(changes).last().satisfies(c -> {
            assertThat(c.type()).isEqualTo(ChangeType.EXIT);
            assertThat(c.eventTime()).isEqualTo(T0 + DAY);
            assertThat(c.cause()).isEqualTo(new Cause("identity", "merged into user_jane", null));
        });
        assertThat(merged.profile()).hasValueSatisfying(p -> assertThat(p.mergedInto()).isEqualTo("user_jane"));
        assertThat(handoffs).as("the merge, then the event held behind the marker, a straggler").hasSize(2);
        assertThat(handoffs.get(0).linkId()).isEqualTo(login.messageId());
        assertThat(handoffs.get(1).linkId()).isNull();

        // The same inputs with the decision first: the same outcome.
        UserSegments early = anonymousCartAbandoner();
        List<SegmentChange> earlyChanges = new ArrayList<>(early.decided("anon_123xyz", merged(login), RULES, 0).changes());
        assertThat(earlyChanges).isEmpty();
        Outcome atMarkerAfterDecision = early.apply("anon_123xyz", IdentityLink.marker(login, "anon_123xyz"), RULES, 0);
        assertThat(atMarkerAfterDecision.changes()).isEqualTo(merged.changes());
        assertThat(atMarkerAfterDecision.handoffs()).isEqualTo(handoffs.subList(0, 1));

        collect(anon.apply("anon_123xyz", shoe("product_view", T0 + DAY + 2 * MIN), RULES, 0));
        assertThat(handoffs).as("a later straggler follows her").hasSize(3);
        assertThat(anon.advanceTo("anon_123xyz", T0 + 92 * DAY, RULES, 0).cleared())
                .as("the merged id forgets where it went after the merge memory").isTrue();
    }

    @Test
    void theUserFoldsTheHandoffInRightAfterItsLinkingEventWhicheverArrivesFirst() throws Exception {
        UnifiedEvent login = login(T0 + DAY);
        StateHandoff handoff = cartHandoff(login);
        UnifiedEvent linking = IdentityLink.annotate(login, "anon_123xyz");
        UnifiedEvent later = Events.track("user_jane", "product_view", T0 + DAY + MIN).build();

        // The linking event first: what follows it waits for the handoff.
        UserSegments first = new UserSegments();
        List<SegmentChange> inOrder = new ArrayList<>(first.apply("user_jane", linking, RULES, 0).changes());
        Outcome waiting = first.apply("user_jane", later, RULES, 0);
        assertThat(waiting.changes()).isEmpty();
        assertThat(first.clock()).hasValue(T0 + DAY);
        inOrder.addAll(first.absorb("user_jane", handoff, RULES, 0).changes());
        assertThat(first.clock()).as("the held event applied after the fold").hasValue(T0 + DAY + MIN);

        // The handoff first: kept until the linking event.
        UserSegments second = new UserSegments();
        List<SegmentChange> handoffFirst = new ArrayList<>(second.absorb("user_jane", handoff, RULES, 0).changes());
        assertThat(handoffFirst).isEmpty();
        handoffFirst.addAll(second.apply("user_jane", linking, RULES, 0).changes());
        handoffFirst.addAll(second.apply("user_jane", later, RULES, 0).changes());

        assertThat(inOrder).extracting(SegmentChange::segmentId, SegmentChange::type, SegmentChange::eventTime)
                .contains(tuple("cart_abandoner", ChangeType.ENTER, T0 + DAY));
        assertThat(handoffFirst).isEqualTo(inOrder);
        assertThat(bytes(second)).isEqualTo(bytes(first));
    }

    @Test
    void aRefusedLinkReleasesTheUserWithNothingFolded() {
        UnifiedEvent login = login(T0 + DAY);
        UserSegments jane = new UserSegments();
        jane.apply("user_jane", IdentityLink.annotate(login, "anon_123xyz"), RULES, 0);
        assertThat(jane.apply("user_jane", Events.track("user_jane", "add_to_cart", T0 + DAY + MIN).build(), RULES, 0)
                .changes()).isEmpty();
        IdentityMerge refused = new IdentityMerge("anon_123xyz", "user_jane", IdentityMerge.Status.REJECTED_CAP,
                "identify", login.messageId(), T0 + DAY, 5);
        Outcome released = jane.decided("user_jane", refused, RULES, 0);
        assertThat(jane.clock()).hasValue(T0 + DAY + MIN);
        assertThat(released.wakeUp()).isPresent();
    }

    @Test
    void aHandoffThatNeverComesIsGivenUpAfterTooManyHeldInputs() {
        UserSegments jane = new UserSegments();
        jane.apply("user_jane", IdentityLink.annotate(login(T0), "anon_123xyz"), RULES, 0);
        int givenUp = 0;
        for (int i = 1; i <= UserSegments.MAX_HELD; i++) {
            givenUp += jane.apply("user_jane", Events.track("user_jane", "page_view", T0 + i).build(), RULES, 0)
                    .linksGivenUp();
        }
        assertThat(givenUp).isEqualTo(1);
        assertThat(jane.clock()).hasValue(T0 + UserSegments.MAX_HELD);
    }

    @Test
    void atTheEndOfInputAWaitEndsAndWhatWasHeldIsApplied() {
        UserSegments jane = new UserSegments();
        Outcome waiting = jane.apply("user_jane", IdentityLink.annotate(login(T0), "anon_123xyz"), RULES, 0);
        assertThat(waiting.wakeUp()).as("time is held: only the end of input wakes her").hasValue(UserSegments.END_OF_INPUT);
        jane.apply("user_jane", Events.track("user_jane", "add_to_cart", T0 + MIN).build(), RULES, 0);
        Outcome end = jane.advanceTo("user_jane", UserSegments.END_OF_INPUT, RULES, 0);
        assertThat(end.linksGivenUp()).isEqualTo(1);
        assertThat(jane.clock()).hasValue(T0 + MIN);
        assertThat(end.wakeUp()).as("her own timers again").isPresent();
        assertThat(end.wakeUp().getAsLong()).isLessThan(T0 + DAY);
        assertThat(jane.advanceTo("user_jane", UserSegments.END_OF_INPUT, RULES, 0).changes())
                .as("for a user who waits for nothing, the end of input is no step of time").isEmpty();
    }

    @Test
    void anEarlyHandoffDoesNotKeepAnEmptyUserFromStartingAfresh() throws Exception {
        UnifiedEvent login = login(T0 + DAY);
        StateHandoff handoff = cartHandoff(login);
        // A call with no behaviour from her server, far ahead, then her login (out of order on her key).
        UnifiedEvent server = Events.identify("user_jane", T0 + 2 * DAY).build();
        UnifiedEvent linking = IdentityLink.annotate(login, "anon_123xyz");

        UserSegments late = new UserSegments(); // the handoff comes after the server call: she was cleared
        assertThat(late.apply("user_jane", server, RULES, 0).cleared()).isTrue();
        UserSegments afresh = new UserSegments();
        afresh.absorb("user_jane", handoff, RULES, 0);
        List<SegmentChange> whenLate = new ArrayList<>(afresh.apply("user_jane", linking, RULES, 0).changes());

        UserSegments early = new UserSegments(); // the handoff comes first
        early.absorb("user_jane", handoff, RULES, 0);
        Outcome afterServer = early.apply("user_jane", server, RULES, 0);
        assertThat(afterServer.cleared()).isFalse();
        assertThat(early.clock()).as("starts afresh, keeping the handoff").isEmpty();
        List<SegmentChange> whenEarly = new ArrayList<>(early.apply("user_jane", linking, RULES, 0).changes());
        assertThat(whenEarly).isEqualTo(whenLate).isNotEmpty();
    }

    @Test
    void stateOfTheFirstFormatIsReadAndItsWaitingMergeDropped() throws Exception {
        UserSegments current = anonymousCartAbandoner();
        ByteArrayOutputStream v1 = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(v1)) {
            out.writeByte(1);
            out.writeLong(current.clock().getAsLong());
            out.writeLong(current.wakeUp().getAsLong());
            out.writeBoolean(false); // not merged away
            out.writeBoolean(true);  // a merge waiting for the clock, as format 1 kept it
            for (String field : List.of("anon_123xyz", "user_jane", "identify", "m-old")) {
                out.writeUTF(field);
            }
            out.writeLong(T0 + DAY);
            out.writeInt(1);
            byte[] v2 = bytes(current); // the rest is laid out as in format 2, up to the merge bookkeeping
            int featuresAt = 1 + 8 + 8 + 1;
            out.write(v2, featuresAt, v2.length - featuresAt - 1);
        }
        UserSegments read = UserSegments.readFrom(new DataInputStream(new ByteArrayInputStream(v1.toByteArray())));
        assertThat(bytes(read)).isEqualTo(bytes(current));
    }

    /** What the anonymous cart abandoner hands to user_jane when {@code login} links them. */
    private StateHandoff cartHandoff(UnifiedEvent login) {
        UserSegments anon = anonymousCartAbandoner();
        anon.apply("anon_123xyz", IdentityLink.marker(login, "anon_123xyz"), RULES, 0);
        return anon.decided("anon_123xyz", merged(login), RULES, 0).handoffs().get(0);
    }

    private UserSegments anonymousCartAbandoner() {
        UserSegments anon = new UserSegments();
        List<SegmentChange> seen = new ArrayList<>();
        seen.addAll(anon.apply("anon_123xyz", shoe("product_view", T0), RULES, 0).changes());
        seen.addAll(anon.apply("anon_123xyz", shoe("add_to_cart", T0 + MIN), RULES, 0).changes());
        seen.addAll(anon.advanceTo("anon_123xyz", T0 + HOUR, RULES, 0).changes());
        assertThat(seen).extracting(SegmentChange::segmentId, SegmentChange::type)
                .containsExactly(tuple("cart_abandoner", ChangeType.ENTER));
        return anon;
    }

    private static UnifiedEvent login(long t) {
        return Events.identify("user_jane", t).device("anon_123xyz").messageId("m-login").build();
    }

    private static IdentityMerge merged(UnifiedEvent login) {
        return new IdentityMerge("anon_123xyz", "user_jane", IdentityMerge.Status.MERGED, "identify",
                login.messageId(), login.timestamp(), 1);
    }

    @Test
    void everythingIsClearedAfterTheLongestWindowOnceTheUserIsInNoSegment() {
        UserSegments user = new UserSegments();
        collect(user.apply("u1", Events.track("u1", "add_to_cart", T0).build(), RULES, 0));
        Outcome last = null;
        long t = T0;
        // the host wakes the engine at every wake-up it is given, as the stream's timers do
        for (Outcome o = user.advanceTo("u1", T0 + HOUR, RULES, 0); ; o = user.advanceTo("u1", t, RULES, 0)) {
            collect(o);
            last = o;
            if (o.cleared() || o.wakeUp().isEmpty()) {
                break;
            }
            t = o.wakeUp().getAsLong();
        }
        assertThat(last.cleared()).isTrue();
        assertThat(t).as("a year: recency and the year's purchases count that long").isLessThanOrEqualTo(T0 + 366 * DAY);
        assertThat(changes).extracting(SegmentChange::type).last().isEqualTo(ChangeType.EXIT);
        assertThat(new UserSegments().apply("u2", Events.identify("u2", T0).build(), RULES, 0).cleared())
                .as("an id with no behaviour keeps nothing").isTrue();
    }

    @Test
    void theBinaryFormRoundTripsAndBehavesTheSame() throws Exception {
        UserSegments user = anonymousCartAbandoner();
        UnifiedEvent login = login(T0 + DAY);
        user.apply("anon_123xyz", IdentityLink.marker(login, "anon_123xyz"), RULES, 0);
        user.apply("anon_123xyz", shoe("product_view", T0 + DAY + MIN), RULES, 0);
        user.advanceTo("anon_123xyz", T0 + 2 * DAY, RULES, 0);
        user.decided("anon_123xyz", new IdentityMerge("anon_123xyz", "user_x", IdentityMerge.Status.MERGED,
                "identify", "another-link", T0, 1), RULES, 0);
        UserSegments copy = roundTrip(user);
        assertThat(bytes(copy)).isEqualTo(bytes(user));
        Outcome a = user.decided("anon_123xyz", merged(login), RULES, 0);
        Outcome b = copy.decided("anon_123xyz", merged(login), RULES, 0);
        assertThat(b).isEqualTo(a);
        assertThat(a.handoffs()).hasSize(2);
        assertThat(bytes(copy)).isEqualTo(bytes(user));
    }

    @Test
    void explainGivesTheVerdictAndEveryValueTheConditionReads() {
        UserSegments user = new UserSegments();
        for (int i = 0; i < 3; i++) {
            user.apply("u1", Events.track("u1", "product_view", T0 + i * MIN).build(), RULES, 0);
        }
        assertThat(user.explain("product_viewer_3x_1h", RULES)).hasValueSatisfying(e -> {
            assertThat(e.matches()).isTrue();
            assertThat(e.member()).isTrue();
            assertThat(e.since()).isEqualTo(T0 + 2 * MIN);
            assertThat(e.inputs()).containsOnlyKeys("count_1h");
            @SuppressWarnings("unchecked")
            Map<String, Long> counts = (Map<String, Long>) e.inputs().get("count_1h");
            assertThat(counts).containsEntry("product_view", 3L);
            assertThat(e.clauses()).singleElement().satisfies(c -> {
                assertThat(c.text()).isEqualTo("count_1h['product_view'] >= 3");
                assertThat(c.value()).isTrue();
            });
        });
        assertThat(user.explain("no_such_segment", RULES)).isEmpty();
    }

    @Test
    void aConditionThatReadsTheModelNamesTheModelAsItsCause() {
        Scorer scorer = new Scorer() {
            @Override
            public Scores score(io.cohortflow.core.feature.FeatureSnapshot features) {
                return new Scores(Map.of("churn", 0.9), "Dormant Browser", "bundle@v7");
            }

            @Override
            public java.util.Collection<String> personas() {
                return List.of("Dormant Browser");
            }
        };
        Ruleset rules = Ruleset.of(FeatureConfig.defaults(), RULES.eventNames(), Duration.ofDays(90),
                List.of(new SegmentDefinition("churny", "Churny", "'churn' in scores && scores['churn'] > 0.5", null,
                        false)), scorer);
        Outcome o = new UserSegments().apply("u1", Events.track("u1", "page_view", T0).build(), rules, 0);
        assertThat(o.changes()).extracting(SegmentChange::segmentId, SegmentChange::cause).containsExactly(
                tuple("churny", new Cause("model", "churny", "bundle@v7")),
                tuple("persona_dormant_browser", new Cause("model", "persona", "bundle@v7")));
        assertThat(o.changes().get(1).segmentName()).isEqualTo("Dormant Browser");
    }

    @Test
    void aNewPersonaFromTheModelExitsTheLastOneUnderTheSameRules() {
        Scorer scorer = new Scorer() { // the second page view makes a newcomer a regular
            @Override
            public Scores score(io.cohortflow.core.feature.FeatureSnapshot features) {
                @SuppressWarnings("unchecked")
                long views = ((Map<String, Long>) features.ruleVariable("count_24h")).getOrDefault("page_view", 0L);
                return new Scores(Map.of(), views >= 2 ? "Regular" : "Newcomer", "bundle@v7");
            }

            @Override
            public java.util.Collection<String> personas() {
                return List.of("Newcomer", "Regular");
            }
        };
        Ruleset rules = Ruleset.of(FeatureConfig.defaults(), RULES.eventNames(), Duration.ofDays(90),
                SegmentRules.defaults(), scorer);
        UserSegments user = new UserSegments();
        assertThat(user.apply("u1", Events.track("u1", "page_view", T0).build(), rules, 0).changes())
                .extracting(SegmentChange::segmentId, SegmentChange::type)
                .containsExactly(tuple("persona_newcomer", ChangeType.ENTER));

        assertThat(user.apply("u1", Events.track("u1", "page_view", T0 + MIN).build(), rules, 0).changes())
                .extracting(SegmentChange::segmentId, SegmentChange::type)
                .containsExactly(tuple("persona_newcomer", ChangeType.EXIT), tuple("persona_regular", ChangeType.ENTER));
    }

    @Test
    void aPrivacyRequestExitsEverySegmentWithoutFeatureValuesAndLeavesNothing() {
        UserSegments jane = new UserSegments();
        collect(jane.apply("anon_123xyz", shoe("product_search", T0), RULES, 0));
        collect(jane.apply("anon_123xyz", shoe("product_view", T0 + 2 * MIN), RULES, 0));
        collect(jane.apply("anon_123xyz", shoe("add_to_cart", T0 + 4 * MIN), RULES, 0));
        changes.clear();

        Outcome forgotten = jane.forget("anon_123xyz", "req-1", RULES, 99);

        assertThat(forgotten.changes())
                .extracting(SegmentChange::segmentId, SegmentChange::type, SegmentChange::eventTime, SegmentChange::cause)
                .containsExactly(tuple("high_intent_1h", ChangeType.EXIT, T0 + 4 * MIN, new Cause("privacy", "req-1", null)),
                        tuple("high_intent_footwear", ChangeType.EXIT, T0 + 4 * MIN, new Cause("privacy", "req-1", null)));
        assertThat(forgotten.changes()).allSatisfy(c -> assertThat(c.features()).as("nothing of what is erased").isEmpty());
        assertThat(forgotten.profile()).hasValueSatisfying(p -> assertThat(p.isTombstone()).isTrue());
        assertThat(forgotten.cleared()).isTrue();
        assertThat(forgotten.wakeUp()).as("no timer left").isEmpty();
        assertThat(jane.clock()).isEmpty();

        // What comes afterwards starts afresh: the search of an hour ago is gone, one view is not high intent.
        Outcome after = jane.apply("anon_123xyz", shoe("product_view", T0 + 10 * MIN), RULES, 0);
        assertThat(after.changes()).isEmpty();
        assertThat(after.profile()).as("a fresh profile: one view, in nothing").hasValueSatisfying(p -> {
            assertThat(p.segments()).isEmpty();
            assertThat((Map<?, ?>) p.inputs().get("count_1h")).isEqualTo(Map.of("product_view", 1L));
        });
        assertThat(new UserSegments().forget("nobody", "req-2", RULES, 5).changes()).isEmpty();
    }

    @Test
    void aDeviceErasedInTheMiddleOfItsMergeHandsItsUserAnEmptyStateSoTheWaitEnds() {
        UnifiedEvent login = login(T0 + DAY);
        UserSegments atMarker = anonymousCartAbandoner();
        atMarker.apply("anon_123xyz", IdentityLink.marker(login, "anon_123xyz"), RULES, 0);
        Outcome erased = atMarker.forget("anon_123xyz", "req-1", RULES, 0);
        assertThat(erased.handoffs()).singleElement().satisfies(h -> {
            assertThat(h.toId()).isEqualTo("user_jane");
            assertThat(h.linkId()).isEqualTo(login.messageId());
            assertThat(io.cohortflow.core.feature.UserFeatures.fromBytes(java.util.Base64.getDecoder()
                    .decode(h.features()), io.cohortflow.core.feature.FeatureConfig.defaults()).isEmpty(Long.MAX_VALUE))
                    .as("nothing of what was erased").isTrue();
        });

        UserSegments decidedFirst = anonymousCartAbandoner();
        decidedFirst.decided("anon_123xyz", merged(login), RULES, 0);
        assertThat(decidedFirst.forget("anon_123xyz", "req-1", RULES, 0).handoffs()).singleElement()
                .satisfies(h -> assertThat(h.linkId()).isEqualTo(login.messageId()));
        assertThat(anonymousCartAbandoner().forget("anon_123xyz", "req-1", RULES, 0).handoffs())
                .as("no merge under way: nobody waits").isEmpty();
    }

    private static UnifiedEvent shoe(String name, long t) {
        return Events.track(name.startsWith("u") ? "u1" : "anon_123xyz", name, t)
                .with("category", "Men's Running Shoes").build();
    }

    private void collect(Outcome outcome) {
        changes.addAll(outcome.changes());
        handoffs.addAll(outcome.handoffs());
    }

    private static byte[] bytes(UserSegments user) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        user.writeTo(new DataOutputStream(out));
        return out.toByteArray();
    }

    private static UserSegments roundTrip(UserSegments user) throws Exception {
        return UserSegments.readFrom(new DataInputStream(new ByteArrayInputStream(bytes(user))));
    }
}
