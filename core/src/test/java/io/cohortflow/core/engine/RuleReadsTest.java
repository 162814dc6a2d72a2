package io.cohortflow.core.engine;

import io.cohortflow.core.feature.EventTimeline;
import io.cohortflow.core.segment.SegmentDefinition;
import io.cohortflow.core.segment.SegmentRules;
import io.cohortflow.core.segment.SegmentRules.Read;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class RuleReadsTest {
    private static SegmentRules.Compiled compile(String condition) {
        return SegmentRules.compile(new SegmentDefinition("s", "S", condition, null, false));
    }

    @Test
    void aConditionReadsTheEntriesItNamesAndTheWholeOfAnyOtherVariable() {
        assertThat(compile("count_1h['product_search'] + count_1h['product_view'] >= 3 "
                + "&& categories_24h.exists(c, c.contains('Running Shoes'))").reads())
                .containsExactly(new Read("count_1h", "product_search"), new Read("count_1h", "product_view"),
                        new Read("categories_24h", null));
        assertThat(compile("'churn' in scores && scores['churn'] >= 0.7").reads())
                .as("'in' reads the whole map").containsExactlyInAnyOrder(new Read("scores", "churn"),
                        new Read("scores", null));
        assertThat(compile("count_7d[persona] > 0").reads()).as("a key computed at run time reads the whole map")
                .containsExactlyInAnyOrder(new Read("count_7d", null), new Read("persona", null));
        assertThat(compile("cart_abandoned").reads()).containsExactly(new Read("cart_abandoned", null));
        assertThat(compile("events.count('product_view', '2h') >= 3 && events.then_within('a', 'b', '1h')").reads())
                .as("an operator with literal arguments is a read of its result").containsExactly(
                        Read.operator("count", List.of("product_view", "2h")),
                        Read.operator("then_within", List.of("a", "b", "1h")));
        SegmentRules.Compiled named = compile("events.count(persona, '2h') >= 1");
        assertThat(named.readsTime()).as("an event named at run time: all of events, at every moment").isTrue();
        assertThat(compile("events.count('product_view', '2h') >= 3").readsTime()).isFalse();
        assertThat(compile("count_1h['product_view'] >= 3").readsTime()).isFalse();
    }

    @Test
    void theTimersFollowEachEventsOwnOperatorWindows() {
        RuleReads reads = RuleReads.of(List.of(compile("events.count('product_view', '2h') >= 3"),
                compile("events.absent_for('order_completed', '14d') && events.first_within('product_view', '3d')"),
                compile("events.then_within('add_to_cart', 'order_completed', '1h')")));
        assertThat(reads.windowsOf("product_view")).containsExactlyInAnyOrder(2 * HOUR, 3 * DAY);
        assertThat(reads.windowsOf("order_completed")).as("a sequence's window is no expiry").containsExactly(14 * DAY);
        assertThat(reads.windowsOf("page_view")).isEmpty();
        RuleReads named = RuleReads.of(List.of(compile("events.count('product_view', '2h') >= 3"),
                compile("events.absent_for(persona, '5h')")));
        assertThat(named.windowsOf("page_view")).as("an operator on an event named at run time: every event")
                .containsExactly(5 * HOUR);
        assertThat(named.windowsOf("product_view")).containsExactlyInAnyOrder(2 * HOUR, 5 * HOUR);
    }

    /**
     * A read resolved once ({@link Read#resolved}: an operator's window, an entry's place in the counts' key order)
     * gives what the read gives, over snapshots whose counts have two key orders (a user with an event the taxonomy
     * does not name has one of their own), alternated, and over a plain map of the variables.
     */
    @Test
    void aReadResolvedOnceGivesTheReadsValueAcrossKeyOrders() {
        List<String> names = io.cohortflow.core.event.EventTaxonomy.defaults().canonicalNames().stream().sorted()
                .toList();
        io.cohortflow.core.feature.FeatureConfig config = io.cohortflow.core.feature.FeatureConfig.defaults();
        long t0 = 1_767_225_600_000L;
        java.util.Random random = new java.util.Random(17);
        String[] events = {"product_view", "add_to_cart", "page_view", "order_completed", "email_opened"};
        io.cohortflow.core.feature.UserFeatures taxonomy = new io.cohortflow.core.feature.UserFeatures(config);
        io.cohortflow.core.feature.UserFeatures ownNames = new io.cohortflow.core.feature.UserFeatures(config);
        RuleReads reads = RuleReads.of(SegmentRules.compileAll(
                io.cohortflow.core.testing.GeneratedSegments.of(300, 17)));
        List<SegmentRules.Resolved> resolved = reads.reads().stream().map(Read::resolved).toList();
        assertThat(resolved).filteredOn(java.util.Objects::nonNull).hasSizeGreaterThan(80);
        long t = t0;
        int compared = 0;
        for (int i = 0; i < 200; i++) {
            t += random.nextInt(4 * (int) HOUR);
            String name = events[random.nextInt(events.length)];
            taxonomy.add(io.cohortflow.core.testing.Events.track("u1", name, t).build());
            ownNames.add(io.cohortflow.core.testing.Events.track("u2", i % 7 == 0 ? "custom_" + (i % 3) : name, t)
                    .build());
            for (io.cohortflow.core.feature.UserFeatures user : List.of(taxonomy, ownNames)) {
                var snapshot = user.snapshot(t, names);
                Map<String, Object> variables = SegmentRules.variables(snapshot, Map.of(), null);
                Map<String, Object> plain = new HashMap<>(variables);
                for (int r = 0; r < resolved.size(); r++) {
                    Read read = reads.reads().get(r);
                    if (resolved.get(r) != null) {
                        assertThat(resolved.get(r).valueIn(variables, read.slot())).as("%s at %d", read, i)
                                .isEqualTo(read.valueIn(variables, read.slot()));
                        assertThat(resolved.get(r).valueIn(plain, -1)).isEqualTo(read.valueIn(plain));
                        compared++;
                    }
                }
            }
        }
        assertThat(compared).isEqualTo(200 * 2 * resolved.stream().filter(java.util.Objects::nonNull).count());
    }

    /**
     * A condition its comparisons and reads of a bool decide ({@link RuleReads#decided}) is decided over these rules'
     * places of them, as it evaluates: 300 generated conditions and the shipped ones over a user's snapshots as events
     * come, every decided condition against running it.
     */
    @Test
    void aConditionDecidedByItsComparisonsIsWhatItEvaluatesTo() {
        List<String> names = io.cohortflow.core.event.EventTaxonomy.defaults().canonicalNames().stream().sorted()
                .toList();
        List<SegmentDefinition> definitions = new java.util.ArrayList<>(SegmentRules.defaults());
        definitions.addAll(io.cohortflow.core.testing.GeneratedSegments.of(300, 23));
        List<SegmentRules.Compiled> compiled = SegmentRules.compileAll(definitions);
        RuleReads reads = RuleReads.of(compiled);
        io.cohortflow.core.feature.UserFeatures user =
                new io.cohortflow.core.feature.UserFeatures(io.cohortflow.core.feature.FeatureConfig.defaults());
        String[] events = {"product_view", "add_to_cart", "page_view", "order_completed", "email_opened",
                "feature_used", "support_ticket_created", "trial_started"};
        java.util.Random random = new java.util.Random(23);
        Object[] values = reads.unknown();
        long t = 1_767_225_600_000L;
        int decided = 0;
        int decidedWithBools = 0;
        for (int i = 0; i < 150; i++) {
            t += random.nextInt(6 * (int) HOUR);
            user.add(io.cohortflow.core.testing.Events.track("u1", events[random.nextInt(events.length)], t)
                    .with("feature", random.nextBoolean() ? "dashboards" : "api").with("price", 25.0)
                    .with("revenue", 120.0).build());
            Map<String, Object> variables = SegmentRules.variables(user.snapshot(t, names), Map.of(), null);
            boolean[] moved = new boolean[reads.reads().size()];
            reads.update(variables, values, moved);
            reads.due(moved, values);
            for (int c = 0; c < compiled.size(); c++) {
                int value = reads.decided(c, values);
                if (value >= 0) {
                    assertThat(value == 1).as("%s at %d", compiled.get(c).definition().condition(), i)
                            .isEqualTo(SegmentRules.matches(compiled.get(c), variables));
                    decided++;
                    decidedWithBools += compiled.get(c).decision().stream()
                            .anyMatch(op -> op <= SegmentRules.read(0)) ? 1 : 0;
                }
            }
        }
        assertThat(decided).isGreaterThan(150 * 100);
        assertThat(decidedWithBools).as("decided with reads of a bool among their operands").isGreaterThan(150 * 20);
    }

    private static final long HOUR = 3_600_000L;
    private static final long DAY = 24 * HOUR;

    @Test
    void onlyTheConditionsWhoseReadsChangedAreDue() {
        RuleReads reads = RuleReads.of(List.of(compile("count_1h['product_view'] >= 3"), compile("cart_abandoned"),
                compile("count_1h['product_view'] + count_1h['add_to_cart'] >= 2"),
                compile("events.absent_for('order_completed', '14d')")));
        assertThat(reads.reads()).as("one read shared by two conditions is read once").containsExactly(
                new Read("count_1h", "product_view"), new Read("cart_abandoned", null),
                new Read("count_1h", "add_to_cart"), Read.operator("absent_for", List.of("order_completed", "14d")));
        assertThat(reads.thresholds()).as("the first condition depends on its comparison, not on the count")
                .containsExactly(new SegmentRules.Threshold(new Read("count_1h", "product_view"),
                        SegmentRules.Comparison.AT_LEAST, 3L));
        Object[] values = reads.unknown();
        boolean[] changed = new boolean[reads.reads().size()];
        long t = 100 * DAY;
        Map<String, Object> vars = new HashMap<>(Map.of("count_1h", Map.of("product_view", 1L, "add_to_cart", 0L),
                "cart_abandoned", false, "events", new EventTimeline(t, Map.of())));
        reads.update(vars, values, changed);
        assertThat(changed).containsOnly(true);

        assertThat(reads.due(changed, values)).containsOnly(true);

        vars.put("count_1h", Map.of("product_view", 2L, "add_to_cart", 0L));
        reads.update(vars, values, changed);
        assertThat(reads.due(changed, values))
                .as("views 1 -> 2: 'views >= 3' is still false, the sum moved; no order then or now: absent_for has not "
                        + "changed").containsExactly(false, false, true, false);

        vars.put("count_1h", Map.of("product_view", 3L, "add_to_cart", 0L));
        reads.update(vars, values, changed);
        assertThat(reads.due(changed, values)).as("views 2 -> 3: 'views >= 3' turned true")
                .containsExactly(true, false, true, false);

        vars.put("cart_abandoned", true);
        vars.put("events", new EventTimeline(t + HOUR, Map.of("order_completed", new EventTimeline.Event(new long[0],
                new int[0], new long[0], new int[0], new long[] {t / DAY}, new int[] {1}, new long[] {t}))));
        reads.update(vars, values, changed);
        assertThat(reads.due(changed, values))
                .as("an order: absent_for turned false").containsExactly(false, true, false, true);

        vars.put("events", new EventTimeline(t + 2 * HOUR, Map.of("order_completed", new EventTimeline.Event(
                new long[0], new int[0], new long[0], new int[0], new long[] {t / DAY}, new int[] {1}, new long[] {t}))));
        reads.update(vars, values, changed);
        assertThat(reads.due(changed, values)[3]).as("an hour later it still is: the condition need not run").isFalse();
    }
}
