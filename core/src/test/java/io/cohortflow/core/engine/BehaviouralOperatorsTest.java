package io.cohortflow.core.engine;

import io.cohortflow.core.event.EventTaxonomy;
import io.cohortflow.core.feature.FeatureConfig;
import io.cohortflow.core.scoring.Scorer;
import io.cohortflow.core.segment.ChangeType;
import io.cohortflow.core.segment.SegmentChange;
import io.cohortflow.core.segment.SegmentDefinition;
import io.cohortflow.core.segment.SegmentProfile;
import io.cohortflow.core.segment.SegmentProfileCodec;
import io.cohortflow.core.segment.SegmentRules;
import io.cohortflow.core.testing.Events;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.groups.Tuple.tuple;

/**
 * The rule language's behavioural operators, in the stream's engine (events, and timers as time passes) and in the
 * console's preview (the published profile read back and evaluated): "did X at least N times in T", "has not done X
 * for T", "first did X within T" and "did X then Y within T".
 */
class BehaviouralOperatorsTest {
    static final long T0 = Instant.parse("2026-03-02T10:00:00Z").toEpochMilli();
    static final long MIN = 60_000L;
    static final long HOUR = 60 * MIN;
    static final long DAY = 24 * HOUR;
    static final List<String> NAMES = EventTaxonomy.defaults().canonicalNames().stream().sorted().toList();

    private final List<SegmentChange> changes = new ArrayList<>();

    @Test
    void atLeastNTimesInAWindowEntersAndLeavesWhenTimePasses() {
        Ruleset rules = rules("viewer_2h", "events.count('product_view', '2h') >= 3");
        UserSegments user = new UserSegments();
        step(user.apply("u1", view(T0), rules, 0), rules);
        step(user.apply("u1", view(T0 + 30 * MIN), rules, 0), rules);
        assertThat(changes).isEmpty();
        step(user.apply("u1", view(T0 + 90 * MIN), rules, 0), rules);
        assertThat(changes).extracting(SegmentChange::type, SegmentChange::eventTime)
                .containsExactly(tuple(ChangeType.ENTER, T0 + 90 * MIN));
        // The 10:00 hour leaves the two hours at 12:00: a timer of the rule's own window, no event needed.
        step(user.advanceTo("u1", T0 + 5 * HOUR, rules, 0), rules);
        assertThat(changes).extracting(SegmentChange::type, SegmentChange::eventTime)
                .containsExactly(tuple(ChangeType.ENTER, T0 + 90 * MIN), tuple(ChangeType.EXIT, T0 + 2 * HOUR));
    }

    @Test
    void hasNotDoneForAWindowEntersOnceTheWindowHasPassedSinceTheLastTime() {
        Ruleset rules = rules("lapsed_buyer",
                "events.count('order_completed', '90d') > 0 && events.absent_for('order_completed', '14d')");
        UserSegments user = new UserSegments();
        step(user.apply("u1", Events.track("u1", "order_completed", T0).build(), rules, 0), rules);
        assertThat(changes).isEmpty();
        step(user.advanceTo("u1", T0 + 20 * DAY, rules, 0), rules);
        long dayOfOrder = Math.floorDiv(T0, DAY) * DAY;
        assertThat(changes).extracting(SegmentChange::type, SegmentChange::eventTime)
                .containsExactly(tuple(ChangeType.ENTER, dayOfOrder + 14 * DAY));
        step(user.apply("u1", Events.track("u1", "order_completed", T0 + 21 * DAY).build(), rules, 0), rules);
        assertThat(changes).extracting(SegmentChange::type).containsExactly(ChangeType.ENTER, ChangeType.EXIT);
    }

    @Test
    void firstDidWithinAWindowIsForNewcomersOnly() {
        Ruleset rules = rules("new_buyer", "events.first_within('order_completed', '7d')");
        UserSegments newcomer = new UserSegments();
        step(newcomer.apply("u1", Events.track("u1", "order_completed", T0).build(), rules, 0), rules);
        assertThat(changes).extracting(SegmentChange::type, SegmentChange::eventTime)
                .containsExactly(tuple(ChangeType.ENTER, T0));
        step(newcomer.advanceTo("u1", T0 + 10 * DAY, rules, 0), rules);
        assertThat(changes).extracting(SegmentChange::type, SegmentChange::eventTime).containsExactly(
                tuple(ChangeType.ENTER, T0), tuple(ChangeType.EXIT, Math.floorDiv(T0, DAY) * DAY + 7 * DAY));

        changes.clear();
        UserSegments regular = new UserSegments();
        step(regular.apply("u2", Events.track("u2", "order_completed", T0 - 20 * DAY).build(), rules, 0), rules);
        step(regular.advanceTo("u2", T0 - MIN, rules, 0), rules);
        assertThat(changes).extracting(SegmentChange::type).as("a newcomer then, for a week")
                .containsExactly(ChangeType.ENTER, ChangeType.EXIT);
        changes.clear();
        step(regular.apply("u2", Events.track("u2", "order_completed", T0).build(), rules, 0), rules);
        assertThat(changes).as("bought before: not a first order").isEmpty();
    }

    @Test
    void thenWithinIsASequenceInOrderAndInTime() {
        Ruleset rules = rules("cart_to_order_1h", "events.then_within('add_to_cart', 'order_completed', '1h')");
        assertThat(enters(rules, "add_to_cart", T0, "order_completed", T0 + 40 * MIN)).as("in order, in time")
                .containsExactly(T0 + 40 * MIN);
        assertThat(enters(rules, "add_to_cart", T0, "order_completed", T0 + 90 * MIN)).as("too late").isEmpty();
        assertThat(enters(rules, "order_completed", T0, "add_to_cart", T0 + 10 * MIN)).as("the wrong order").isEmpty();
    }

    @Test
    void aWindowMustBeWrittenOutAndAtMostNinetyDays() {
        assertThatThrownBy(() -> SegmentRules.compile(new SegmentDefinition("bad", "Bad",
                "events.count('product_view', '3 weeks') > 1", null, false)))
                .isInstanceOfSatisfying(SegmentRules.InvalidCondition.class, e -> assertThat(e.problems())
                        .singleElement().satisfies(p -> {
                            assertThat(p.message()).contains("count: a window is a whole number of m, h or d");
                            assertThat(p.column()).isEqualTo(30);
                        }));
        assertThatThrownBy(() -> SegmentRules.compile(new SegmentDefinition("bad", "Bad",
                "events.absent_for('order_completed', '120d')", null, false))).hasMessageContaining("at most 90d");
        assertThatThrownBy(() -> SegmentRules.compile(new SegmentDefinition("bad", "Bad",
                "events.count('product_view', persona) > 1", null, false))).hasMessageContaining("written out");
        assertThat(SegmentRules.compile(new SegmentDefinition("ok", "Ok",
                "events.count('product_view', '45m') > 1 || events.absent_for('a', '2d') || events.then_within('a',"
                        + " 'b', '3d')", null, false)).windows()).as("a sequence's window sets no timer")
                .containsExactlyInAnyOrder(45 * MIN, 2 * DAY);
    }

    // ---- the engine, and the preview's reading of each profile ---------------------------------------------------

    private List<Long> enters(Ruleset rules, String first, long at, String then, long later) {
        changes.clear();
        UserSegments user = new UserSegments();
        step(user.apply("u", Events.track("u", first, at).build(), rules, 0), rules);
        step(user.apply("u", Events.track("u", then, later).build(), rules, 0), rules);
        return changes.stream().filter(c -> c.type() == ChangeType.ENTER).map(SegmentChange::eventTime).toList();
    }

    /**
     * Collects the step's changes, and checks that its profile, as the console reads it back from the topic, gives
     * the membership the stream decided.
     */
    private void step(Outcome outcome, Ruleset rules) {
        changes.addAll(outcome.changes());
        outcome.profile().ifPresent(profile -> {
            SegmentProfileCodec codec = new SegmentProfileCodec();
            SegmentProfile read = codec.decode(codec.encode(profile));
            Map<String, Object> variables = SegmentRules.variables(read, NAMES).orElseThrow();
            for (SegmentRules.Compiled segment : rules.segments().values()) {
                assertThat(SegmentRules.matches(segment, variables)).as("the preview of " + segment.definition().id()
                        + " as of " + Instant.ofEpochMilli(read.asOf())).isEqualTo(
                        profile.segments().contains(segment.definition().id()));
            }
        });
    }

    private static io.cohortflow.core.event.UnifiedEvent view(long at) {
        return Events.track("u1", "product_view", at).build();
    }

    private static Ruleset rules(String id, String condition) {
        return Ruleset.of(FeatureConfig.defaults(), NAMES, Duration.ofDays(90),
                List.of(new SegmentDefinition(id, id, condition, null, false)), Scorer.NONE);
    }
}
