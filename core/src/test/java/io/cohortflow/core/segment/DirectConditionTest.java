package io.cohortflow.core.segment;

import io.cohortflow.core.event.EventTaxonomy;
import io.cohortflow.core.feature.FeatureConfig;
import io.cohortflow.core.feature.FeatureSnapshot;
import io.cohortflow.core.feature.UserFeatures;
import io.cohortflow.core.testing.Events;
import io.cohortflow.core.testing.GeneratedSegments;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Function;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The direct evaluation against CEL's interpreter, which stays the reference: the same answer for every condition
 * (the shipped ones, a thousand generated ones, and conditions written to reach CEL's corners: errors absorbed by
 * {@code &&} and {@code ||}, overflows, NaN, an int against a double, missing keys) over users' real feature
 * snapshots and over values pushed to their edges.
 */
class DirectConditionTest {
    private static final long DAY = 86_400_000L;
    private static final long START = 1_767_225_600_000L; // 2026-01-01
    private static final List<String> NAMES = EventTaxonomy.defaults().canonicalNames().stream().sorted().toList();
    private static final String[] EVENTS = {"page_view", "product_view", "add_to_cart", "order_completed",
            "email_opened", "feature_used", "support_ticket_created", "product_search"};

    /** Conditions written to reach the corners; each is compiled directly unless it is in {@link #CEL_ONLY}. */
    private static final List<String> CORNERS = List.of(
            "scores['churn'] > 0.7",
            "'churn' in scores && scores['churn'] > 0.7",
            "scores['churn'] > 0.7 || frequency_30d >= 1",
            "frequency_30d >= 1 || scores['churn'] > 0.7",
            "scores['churn'] > 0.7 && frequency_30d >= 1",
            "frequency_30d < 0 && scores['churn'] > 0.7",
            "!(scores['bundle_propensity'] > 0.1)",
            "scores.churn >= 0.5",
            "count_7d['page_view'] * 4611686018427387904 > 0",
            "count_7d['page_view'] + 9223372036854775807 > 0",
            "count_30d['page_view'] - count_30d['order_completed'] >= 2",
            "-count_7d['page_view'] < 0",
            "-recency_days < -1.5",
            "recency_days - 1.5 > tenure_days",
            "recency_days * 2.0 >= monetary_value_90d",
            "recency_days > frequency_30d",
            "frequency_30d <= recency_days",
            "recency_days > 9223372036854775807",
            "recency_days < -9223372036854775807",
            "recency_days < 3 || count_7d['page_view'] > 2.5",
            "recency_days >= 9223372036854775807 || frequency_30d <= 1.0",
            "monetary_value_90d >= 100",
            "recency_days == 3.0",
            "recency_days != recency_days",
            "monetary_value_90d == monetary_value_90d",
            "frequency_30d == 2",
            "persona == 'High-Value Bundle Purchaser'",
            "persona != ''",
            "persona < 'M'",
            "cart_open == true",
            "cart_open != cart_abandoned",
            "cart_open ? recency_days > 1.0 : frequency_30d > 1",
            "(scores['churn'] > 0.5 ? true : false) || cart_open",
            "'jackets' in categories_24h",
            "!('dashboards' in features_used_90d) && count_90d['feature_used'] >= 1",
            "count_1h['no_such_event'] >= 0",
            "count_1h['no_such_event'] >= 0 || true",
            "events.count('page_view', '2h') >= 1",
            "events.absent_for('order_completed', '7d') && count_30d['page_view'] >= 2",
            "events.first_within('add_to_cart', '3d')",
            "events.then_within('add_to_cart', 'order_completed', '1h') || cart_abandoned",
            "categories_after_cart_24h >= 1 && max_price_viewed_24h > 50.0",
            "!(scores['churn'] > 0.7 && frequency_30d < 0)",
            "!(frequency_30d < 0 && scores['churn'] > 0.7)",
            "!(scores['churn'] > 0.7 && frequency_30d >= 0)",
            "!(scores['churn'] > 0.7 || frequency_30d >= 1)",
            "!(frequency_30d >= 1 || scores['churn'] > 0.7)",
            "!(scores['churn'] > 0.7 || frequency_30d < 1)",
            "!((scores['churn'] > 0.7) ? true : cart_open)",
            "!(-0.0 == 0.0) || recency_days == 0.0",
            "!(recency_days < monetary_value_90d) && !(recency_days >= monetary_value_90d)",
            "!(recency_days > frequency_30d) && !(recency_days <= frequency_30d)",
            "!(frequency_30d > recency_days) && !(frequency_30d <= recency_days)",
            "!(recency_days >= 9223372036854775807)",
            "categories_24h.exists(c, c.startsWith('j'))",
            "categories_24h.all(c, c.contains('e'))",
            "categories_24h.exists_one(c, c == 'jackets')",
            "features_used_90d.exists(f, f.endsWith('s')) && count_90d['feature_used'] >= 1",
            "scores.exists(k, scores[k] > 0.5)",
            "count_7d.exists(e, count_7d[e] > 2 && count_1h[e] >= 1)",
            "!count_7d.exists(e, count_1h[e] >= 1)",
            "!count_7d.all(e, count_1h[e] >= 0)",
            "!categories_24h.all(c, scores['churn'] > 0.1)",
            "categories_24h.exists(persona, persona == 'jackets')",
            "persona.startsWith('High') && !persona.endsWith('r') || persona.contains('Bundle')",
            "recency_days / 2.0 > 3.0",
            "monetary_value_90d / recency_days > 10.0",
            "recency_days / 0.0 > 0.0 || frequency_30d >= 1",
            "frequency_30d % 2 == 0",
            "count_7d['page_view'] % 0 == 0 || cart_open",
            "count_7d['page_view'] % 0 == 0 && cart_open",
            "count_30d['page_view'] / count_30d['order_completed'] >= 2",
            "(count_7d['page_view'] - 9223372036854775807 - 1) / -1 > 0",
            "(count_7d['page_view'] - 9223372036854775807 - 1) % -1 == 0",
            "-frequency_30d % 3 == -1",
            "!(frequency_30d / categories_after_cart_24h >= 0)",
            "!(frequency_30d % categories_after_cart_24h == 0)",
            // CEL's alone:
            "size(categories_24h) > 1",
            "categories_24h.filter(c, c == 'jackets') == ['jackets']",
            "persona.matches('^H')",
            "has(scores.churn)",
            "[1, 2].size() > frequency_30d",
            "count_7d == {}",
            "categories_24h == features_used_90d");
    private static final int CEL_ONLY = 7; // the last ones

    private static List<SegmentRules.Compiled> conditions;
    private static List<Map<String, Object>> snapshots;

    @BeforeAll
    static void prepare() {
        List<SegmentDefinition> definitions = new ArrayList<>(SegmentRules.defaults());
        definitions.addAll(GeneratedSegments.of(1_000, 7));
        for (int i = 0; i < CORNERS.size(); i++) {
            definitions.add(new SegmentDefinition("corner_" + i, "Corner " + i, CORNERS.get(i), null, false));
        }
        conditions = SegmentRules.compileAll(definitions);
        snapshots = snapshots(new Random(11));
    }

    /** Users' variables as the stream evaluates them: real snapshots of random behaviour, with scores and a persona. */
    private static List<Map<String, Object>> snapshots(Random random) {
        List<Map<String, Object>> all = new ArrayList<>();
        List<Map<String, Double>> scores = List.of(Map.of(), Map.of("churn", 0.82),
                Map.of("churn", 0.31, "bundle_propensity", 0.05));
        for (int user = 0; user < 40; user++) {
            UserFeatures features = new UserFeatures(FeatureConfig.defaults());
            long t = START;
            int events = random.nextInt(60);
            for (int e = 0; e < events; e++) {
                t += (long) (random.nextDouble() * random.nextDouble() * 3 * DAY);
                String event = EVENTS[random.nextInt(EVENTS.length)];
                Events built = Events.track("u" + user, event, t);
                switch (event) {
                    case "order_completed" -> built.with("revenue", 20.0 + random.nextInt(400));
                    case "product_view" -> built.with("price", 5.0 + random.nextInt(300))
                            .with("category", random.nextBoolean() ? "jackets" : "shoes");
                    case "feature_used" -> built.with("feature", random.nextBoolean() ? "dashboards" : "exports");
                    default -> { }
                }
                features.add(built.build());
                if (user % 4 == 1 && e == 0) {
                    // An event the taxonomy does not name: this user's snapshots count by a key order of their own, in
                    // which every name's position moves (it sorts first), among snapshots of the shared one.
                    features.add(Events.track("u" + user, "a_custom_event", t).build());
                }
                if (random.nextInt(4) == 0) {
                    long at = t + (long) (random.nextDouble() * 2 * DAY);
                    features.prune(at);
                    FeatureSnapshot snapshot = features.snapshot(at, NAMES);
                    all.add(SegmentRules.variables(snapshot, scores.get(random.nextInt(scores.size())),
                            random.nextBoolean() ? "" : "High-Value Bundle Purchaser"));
                }
            }
        }
        return all;
    }

    /** {@code base}'s variables with numbers at their edges and count maps missing entries. */
    private static Map<String, Object> pushed(Map<String, Object> base, Random random) {
        Map<String, Object> vars = new LinkedHashMap<>(base);
        double[] doubles = {Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, -0.0, 0.0, 3.0, 1e300,
                9.223372036854775807E18, -1.5};
        long[] longs = {0, 1, 2, -1, Long.MAX_VALUE, Long.MIN_VALUE, 4611686018427387904L};
        for (String name : List.of("recency_days", "monetary_value_90d", "tenure_days", "max_price_viewed_24h")) {
            if (random.nextBoolean()) {
                vars.put(name, doubles[random.nextInt(doubles.length)]);
            }
        }
        for (String name : List.of("frequency_30d", "categories_after_cart_24h")) {
            if (random.nextBoolean()) {
                vars.put(name, longs[random.nextInt(longs.length)]);
            }
        }
        for (String window : FeatureSnapshot.COUNT_WINDOWS) {
            @SuppressWarnings("unchecked")
            Map<String, Object> counts = new HashMap<>((Map<String, Object>) base.get("count_" + window));
            counts.keySet().removeIf(k -> random.nextInt(3) == 0);
            counts.replaceAll((k, v) -> random.nextInt(4) == 0 ? longs[random.nextInt(longs.length)] : v);
            vars.put("count_" + window, counts);
        }
        vars.put("scores", random.nextBoolean() ? Map.of("churn", doubles[random.nextInt(doubles.length)])
                : Map.of("bundle_propensity", 0.4));
        return vars;
    }

    /**
     * Each condition's value over {@code vars} is CEL's: through a lookup by name, and (for the stream's variables)
     * through the variables themselves, which a direct condition reads by slot.
     */
    private static void assertSameAsCel(Map<String, Object> vars) {
        Function<String, Object> lookup = vars::get;
        for (SegmentRules.Compiled condition : conditions) {
            boolean cel = SegmentRules.celMatches(condition, lookup);
            assertThat(SegmentRules.matches(condition, lookup))
                    .as("%s over %s", condition.definition().condition(), vars)
                    .isEqualTo(cel);
            assertThat(SegmentRules.matches(condition, vars))
                    .as("%s over %s, read by slot", condition.definition().condition(), vars)
                    .isEqualTo(cel);
        }
    }

    @Test
    void theShapesMarketersWriteAreEvaluatedDirectly() {
        int generated = SegmentRules.defaults().size() + 1_000;
        assertThat(conditions.subList(0, generated)).allSatisfy(c -> assertThat(c.direct())
                .as(c.definition().condition()).isNotNull());
        List<SegmentRules.Compiled> corners = conditions.subList(generated, conditions.size());
        assertThat(corners.subList(0, corners.size() - CEL_ONLY)).allSatisfy(c -> assertThat(c.direct())
                .as(c.definition().condition()).isNotNull());
        assertThat(corners.subList(corners.size() - CEL_ONLY, corners.size())).allSatisfy(c -> assertThat(c.direct())
                .as(c.definition().condition()).isNull());
    }

    @Test
    void everyConditionGivesCelsAnswerOnRealSnapshots() {
        assertThat(snapshots).hasSizeGreaterThan(100);
        long matched = 0;
        for (Map<String, Object> vars : snapshots) {
            assertSameAsCel(vars);
            matched += conditions.stream().filter(c -> SegmentRules.matches(c, vars)).count();
        }
        // Not a test that passes on "false" everywhere: many conditions hold, many do not.
        assertThat(matched).isBetween((long) snapshots.size() * 50, (long) snapshots.size() * (conditions.size() - 50));
    }

    @Test
    void everyConditionGivesCelsAnswerAtTheEdges() {
        Random random = new Random(5);
        for (int i = 0; i < 200; i++) {
            assertSameAsCel(pushed(snapshots.get(random.nextInt(snapshots.size())), random));
        }
    }

    @Test
    void everyConditionGivesCelsAnswerForEachPairOfEdgeValues() {
        double[] doubles = {Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, -0.0, 0.0, 1.0, 1e300,
                9.223372036854775807E18, -9.223372036854775807E18};
        long[] longs = {0, 1, -1, Long.MAX_VALUE, Long.MIN_VALUE};
        Map<String, Object> base = snapshots.get(0);
        for (double recency : doubles) {
            for (double money : doubles) {
                for (long frequency : longs) {
                    Map<String, Object> vars = new HashMap<>(base);
                    vars.put("recency_days", recency);
                    vars.put("monetary_value_90d", money);
                    vars.put("frequency_30d", frequency);
                    vars.put("scores", Map.of("bundle_propensity", 0.4));
                    assertSameAsCel(vars);
                }
            }
        }
    }

    /**
     * The engine runs a condition only when the outcome of a comparison it depends on changed
     * ({@link SegmentRules.Threshold}, {@code RuleReads}): any other value of a compared read with the same outcomes
     * must give the same answer, CEL's and the direct one's. Over every condition, real snapshots and their edges,
     * each compared read (but the operators', which the engine's own test covers) takes every candidate value whose
     * outcomes are the same as its own.
     */
    @Test
    void aConditionDependsOnItsComparedReadsThroughTheComparisonsOutcomesAlone() {
        Object[] candidates = {null, 0L, 1L, 2L, 3L, 4L, 5L, 7L, 12L, -1L, Long.MAX_VALUE, Long.MIN_VALUE, 0.0, -0.0,
                1.0, 2.5, 20.0, 150.0, 499.0, 1e300, Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, "",
                "M", "High-Value Bundle Purchaser", true, false, 3};
        Random random = new Random(13);
        int compared = 0;
        int substituted = 0;
        for (SegmentRules.Compiled condition : conditions) {
            Map<SegmentRules.Read, List<SegmentRules.Threshold>> byRead = new LinkedHashMap<>();
            condition.thresholds().stream().filter(t -> t.read().operator() == null)
                    .forEach(t -> byRead.computeIfAbsent(t.read(), r -> new ArrayList<>()).add(t));
            if (byRead.isEmpty()) {
                continue;
            }
            compared++;
            for (int sample = 0; sample < 4; sample++) {
                Map<String, Object> base = snapshots.get(random.nextInt(snapshots.size()));
                base = random.nextBoolean() ? base : pushed(base, random);
                boolean cel = SegmentRules.celMatches(condition, base::get);
                for (Map.Entry<SegmentRules.Read, List<SegmentRules.Threshold>> entry : byRead.entrySet()) {
                    Object original = entry.getKey().valueIn(base);
                    for (Object candidate : candidates) {
                        if (!entry.getValue().stream().allMatch(t -> java.util.Objects.equals(t.outcome(candidate),
                                t.outcome(original)))) {
                            continue;
                        }
                        Map<String, Object> vars = with(base, entry.getKey(), candidate);
                        assertThat(SegmentRules.celMatches(condition, vars::get))
                                .as("%s: %s = %s instead of %s", condition.definition().condition(), entry.getKey(),
                                        candidate, original).isEqualTo(cel);
                        assertThat(SegmentRules.matches(condition, vars)).isEqualTo(cel);
                        substituted++;
                    }
                }
            }
        }
        assertThat(compared).as("conditions with compared reads").isGreaterThan(700);
        assertThat(substituted).isGreaterThan(10_000);
    }

    /**
     * A condition made of {@code &&}, {@code ||} and {@code !} of its comparisons with literals is decided by their
     * outcomes ({@link SegmentRules#decide}) as CEL decides it, whenever every outcome is a truth value: over every
     * condition, real snapshots and their edges (absent entries, NaN, the int range's ends, values of another type).
     */
    @Test
    void theComparisonsOutcomesDecideWhatCelDecides() {
        Random random = new Random(19);
        int withDecision = 0;
        int decided = 0;
        int undecided = 0;
        for (SegmentRules.Compiled condition : conditions) {
            if (condition.decision().isEmpty()) {
                continue;
            }
            withDecision++;
            int[] decision = condition.decision().stream().mapToInt(Integer::intValue).toArray();
            for (int sample = 0; sample < 20; sample++) {
                Map<String, Object> base = snapshots.get(random.nextInt(snapshots.size()));
                Map<String, Object> vars = sample % 2 == 0 ? base : pushed(base, random);
                if (sample % 5 == 4) {
                    vars = new HashMap<>(vars);
                    vars.put("frequency_30d", 2.0); // of another type than declared
                    vars.put("recency_days", 3L);
                }
                Map<String, Object> at = vars;
                List<Object> values = new ArrayList<>();
                condition.reads().forEach(read -> values.add(read.valueIn(at)));
                condition.thresholds().forEach(t -> values.add(t.outcome(t.read().valueIn(at))));
                int value = SegmentRules.decide(decision, values.toArray(), condition.reads().size(), 0);
                if (value < 0) {
                    undecided++;
                    continue;
                }
                assertThat(value == 1).as("%s over %s", condition.definition().condition(), vars)
                        .isEqualTo(SegmentRules.celMatches(condition, vars::get));
                decided++;
            }
        }
        assertThat(withDecision).as("conditions their comparisons decide").isGreaterThan(400);
        assertThat(decided).isGreaterThan(5_000);
        assertThat(undecided).isPositive();
        assertThat(SegmentRules.compile(definition("count_7d['a'] >= 1 && !(recency_days < 3 || count_1h['a'] == 0)"))
                .decision()).containsExactly(0, 1, 2, SegmentRules.OR, SegmentRules.NOT, SegmentRules.AND);
        assertThat(SegmentRules.compile(definition("count_7d['a'] + count_7d['b'] >= 2")).decision()).isEmpty();
        assertThat(SegmentRules.compile(definition("cart_abandoned && cart_value >= 20.0")).decision())
                .as("a read of a bool").containsExactly(SegmentRules.read(0), 0, SegmentRules.AND);
        assertThat(SegmentRules.compile(definition("'x' in categories_24h || cart_open")).decision()).isEmpty();
    }

    /** {@code base} with {@code read}'s value replaced by {@code value} (null: absent). */
    @SuppressWarnings("unchecked")
    private static Map<String, Object> with(Map<String, Object> base, SegmentRules.Read read, Object value) {
        Map<String, Object> vars = new HashMap<>(base);
        if (read.key() == null) {
            vars.put(read.variable(), value);
            return vars;
        }
        Map<String, Object> map = new HashMap<>((Map<String, Object>) base.get(read.variable()));
        if (value == null) {
            map.remove(read.key());
        } else {
            map.put(read.key(), value);
        }
        vars.put(read.variable(), map);
        return vars;
    }

    @Test
    void theComparisonsWithLiteralsAConditionDependsOn() {
        assertThat(SegmentRules.compile(definition("count_7d['add_to_cart'] >= 3 && 2 > count_1h['page_view']"))
                .thresholds()).containsExactly(
                new SegmentRules.Threshold(new SegmentRules.Read("count_7d", "add_to_cart"), SegmentRules.Comparison.AT_LEAST, 3L),
                new SegmentRules.Threshold(new SegmentRules.Read("count_1h", "page_view"), SegmentRules.Comparison.LESS, 2L));
        assertThat(SegmentRules.compile(definition("recency_days < 5.0 || recency_days == 0.0 || "
                + "(cart_abandoned && cart_value >= 20.0) || persona == 'x'")).thresholds()).containsExactly(
                new SegmentRules.Threshold(new SegmentRules.Read("recency_days", null), SegmentRules.Comparison.LESS, 5.0),
                new SegmentRules.Threshold(new SegmentRules.Read("recency_days", null), SegmentRules.Comparison.EQUAL, 0.0),
                new SegmentRules.Threshold(new SegmentRules.Read("cart_value", null), SegmentRules.Comparison.AT_LEAST, 20.0),
                new SegmentRules.Threshold(new SegmentRules.Read("persona", null), SegmentRules.Comparison.EQUAL, "x"));
        assertThat(SegmentRules.compile(definition("events.count('add_to_cart', '2h') >= 2")).thresholds())
                .containsExactly(new SegmentRules.Threshold(
                        SegmentRules.Read.operator("count", List.of("add_to_cart", "2h")), SegmentRules.Comparison.AT_LEAST, 2L));
        assertThat(SegmentRules.compile(definition(
                "count_7d['a'] >= 1 && count_7d['a'] + count_7d['b'] >= 2")).thresholds())
                .as("a read also in a sum counts by its value").isEmpty();
        assertThat(SegmentRules.compile(definition("count_7d['a'] > count_7d['b'] || recency_days > tenure_days"))
                .thresholds()).as("read against read").isEmpty();
        assertThat(SegmentRules.compile(definition("cart_open == true && cart_open")).thresholds())
                .as("also used bare").isEmpty();
        assertThat(SegmentRules.compile(definition("count_7d.exists(e, count_7d[e] > 2) && count_7d['a'] >= 1"))
                .thresholds()).as("the whole map is read, the entry only compared").containsExactly(
                new SegmentRules.Threshold(new SegmentRules.Read("count_7d", "a"), SegmentRules.Comparison.AT_LEAST, 1L));
    }

    private static SegmentDefinition definition(String condition) {
        return new SegmentDefinition("t", "T", condition, null, false);
    }

    @Test
    void aComparisonsOutcomeIsABoolOnlyWhereEveryEvaluatorAgrees() {
        SegmentRules.Read read = new SegmentRules.Read("recency_days", null);
        SegmentRules.Threshold under = new SegmentRules.Threshold(read, SegmentRules.Comparison.LESS, 5.0);
        assertThat(under.outcome(4.0)).isEqualTo(true);
        assertThat(under.outcome(5.0)).isEqualTo(false);
        assertThat(new SegmentRules.Threshold(read, SegmentRules.Comparison.EQUAL, 0.0).outcome(-0.0)).isEqualTo(true);
        assertThat(under.outcome(Double.NaN)).as("NaN stands for itself").isNotInstanceOf(Boolean.class)
                .isEqualTo(under.outcome(Double.NaN));
        assertThat(under.outcome(4L)).as("a value of another type").isNotInstanceOf(Boolean.class)
                .isNotEqualTo(under.outcome(3L));
        assertThat(under.outcome(null)).isNotInstanceOf(Boolean.class);
        SegmentRules.Threshold atLeast = new SegmentRules.Threshold(new SegmentRules.Read("frequency_30d", null),
                SegmentRules.Comparison.AT_LEAST, 3L);
        assertThat(atLeast.outcome(Long.MAX_VALUE)).isEqualTo(atLeast.outcome(3L)).isEqualTo(true);
        assertThat(atLeast.outcome(3)).as("an Integer is not CEL's int").isNotInstanceOf(Boolean.class);
        SegmentRules.Threshold days = new SegmentRules.Threshold(read, SegmentRules.Comparison.LESS, 30L);
        assertThat(days.outcome(29.5)).as("a double ordered against an int literal: by their values")
                .isEqualTo(days.outcome(-0.0)).isEqualTo(days.outcome(Double.NEGATIVE_INFINITY))
                .isNotEqualTo(days.outcome(30.0));
        assertThat(days.outcome(29.5)).as("and never as a value of the literal's type, which recency_days is not")
                .isNotEqualTo(days.outcome(29L));
        assertThat(days.outcome(Double.NaN)).isNotEqualTo(days.outcome(30.0)).isNotEqualTo(days.outcome(29.0));
        SegmentRules.Threshold frequent = new SegmentRules.Threshold(new SegmentRules.Read("frequency_30d", null),
                SegmentRules.Comparison.GREATER, 2.5);
        assertThat(frequent.outcome(3L)).isEqualTo(frequent.outcome(Long.MAX_VALUE)).isNotEqualTo(frequent.outcome(2L));
        assertThat(frequent.outcome(3.0)).as("a double where frequency_30d is declared an int")
                .isNotEqualTo(frequent.outcome(3L));
        assertThat(new SegmentRules.Threshold(new SegmentRules.Read("count_7d", "page_view"),
                SegmentRules.Comparison.AT_LEAST, 3L).outcome(20.0)).as("a double where a count is declared an int")
                .isNotInstanceOf(Boolean.class);
        SegmentRules.Threshold before = new SegmentRules.Threshold(new SegmentRules.Read("persona", null), SegmentRules.Comparison.LESS, "M");
        assertThat(before.outcome("A")).as("strings are ordered by their own rules: each stands for itself")
                .isNotEqualTo(before.outcome("B"));
        SegmentRules.Threshold named = new SegmentRules.Threshold(new SegmentRules.Read("persona", null), SegmentRules.Comparison.NOT_EQUAL, "x");
        assertThat(named.outcome("a")).isEqualTo(named.outcome("b")).isEqualTo(true);
        assertThatThrownBy(() -> new SegmentRules.Threshold(read, SegmentRules.Comparison.LESS, 1))
                .as("an Integer is no literal of CEL's").isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void valuesOfAnotherTypeThanDeclaredAreLeftToCel() {
        Map<String, Object> vars = new HashMap<>(snapshots.get(snapshots.size() - 1));
        vars.put("frequency_30d", 3); // an Integer where CEL declares an int (a Long)
        vars.put("recency_days", 2L); // a Long where it declares a double
        vars.remove("tenure_days"); // absent
        assertSameAsCel(vars);
    }
}
