package io.cohortflow.core.segment;

import io.cohortflow.core.feature.FeatureSnapshot;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SegmentRulesTest {
    static final List<String> EVENTS = List.of("product_search", "product_view", "add_to_cart", "email_opened",
            "email_clicked", "trial_started", "order_completed");
    private final Map<String, SegmentRules.Compiled> shipped = SegmentRules.compileAll(SegmentRules.defaults()).stream()
            .collect(Collectors.toMap(c -> c.definition().id(), c -> c));

    @Test
    void shipsTheSeedsSegments() {
        assertThat(shipped).containsKeys("high_intent_1h", "high_intent_footwear", "product_viewer_3x_1h",
                "feature_x_not_y", "email_engaged_no_trial", "cart_abandoner", "frequent_visitor", "churn_risk_high",
                "bundle_buyer_high_propensity");
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "count_1h['product_view'] >=",                // syntax
            "unknown_feature > 3",                        // undeclared variable
            "frequency_30d + 1",                          // not a bool
            "frequency_30d == 'often'",                   // type error
            "java.lang.Runtime.getRuntime() != null"      // no way into the JVM
    })
    void refusesInvalidConditionsWithTheCompilersReason(String condition) {
        assertThatThrownBy(() -> SegmentRules.compile(new SegmentDefinition("bad", "Bad", condition, null, false)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("segment bad");
    }

    @Test
    void anInvalidConditionSaysWhereTheProblemIs() {
        assertThatThrownBy(() -> SegmentRules.compile(new SegmentDefinition("bad", "Bad",
                "cart_open &&\n  recency > 3", null, false)))
                .isInstanceOfSatisfying(SegmentRules.InvalidCondition.class, e -> assertThat(e.problems())
                        .singleElement().satisfies(p -> {
                            assertThat(p.message()).contains("undeclared reference to 'recency'");
                            assertThat(p.line()).isEqualTo(2);
                            assertThat(p.column()).isEqualTo(3);
                        }));
    }

    @Test
    void everyVariableInTheCatalogIsOneTheCompilerKnowsAndItsExampleCompilesReadingIt() {
        assertThat(SegmentRules.catalog()).extracting(SegmentRules.Variable::name)
                .containsExactlyElementsOf(SegmentRules.types().keySet())
                .contains("recency_days", "count_7d", "categories_24h", "scores", "persona");
        for (SegmentRules.Variable variable : SegmentRules.catalog()) {
            SegmentRules.Compiled example = SegmentRules.compile(
                    new SegmentDefinition("example", "Example", variable.example(), null, false));
            assertThat(example.variables()).as(variable.example()).contains(variable.name());
            assertThat(variable.meaning()).isNotBlank();
        }
        assertThat(SegmentRules.catalog()).filteredOn(v -> v.name().equals("count_1h")).singleElement()
                .satisfies(v -> assertThat(v.type()).isEqualTo("map(string, int)"));
    }

    @Test
    void clausesGiveEachPartOfTheConditionWithItsValue() {
        SegmentRules.Compiled segment = SegmentRules.compile(new SegmentDefinition("mixed", "Mixed",
                "count_1h['product_view'] >= 3 && (cart_open || !('api' in features_used_90d)) && scores['churn'] > 0.5",
                null, false));
        Map<String, Object> vars = SegmentRules.variables(snapshot(Map.of("product_view", 4L), List.of(),
                List.of("api"), 0, false), Map.of(), "");
        assertThat(SegmentRules.clauses(segment, vars)).extracting(SegmentRules.Clause::depth,
                SegmentRules.Clause::text, SegmentRules.Clause::operator, SegmentRules.Clause::value).containsExactly(
                org.assertj.core.groups.Tuple.tuple(0, segment.definition().condition(), "and", false),
                org.assertj.core.groups.Tuple.tuple(1, "count_1h[\"product_view\"] >= 3", "clause", true),
                org.assertj.core.groups.Tuple.tuple(1, "cart_open || !(\"api\" in features_used_90d)", "or", false),
                org.assertj.core.groups.Tuple.tuple(2, "cart_open", "clause", false),
                org.assertj.core.groups.Tuple.tuple(2, "!(\"api\" in features_used_90d)", "not", false),
                org.assertj.core.groups.Tuple.tuple(3, "\"api\" in features_used_90d", "clause", true),
                org.assertj.core.groups.Tuple.tuple(1, "scores[\"churn\"] > 0.5", "clause", false));
        assertThat(SegmentRules.clauses(segment, vars).get(6).error()).as("no churn score yet").contains("churn");
    }

    @Test
    void aPublishedProfileIsEvaluatedAsTheStreamEvaluatesTheSnapshotItCameFrom() {
        FeatureSnapshot features = snapshot(Map.of("product_view", 3L, "add_to_cart", 1L), List.of("Women's Jackets"),
                List.of("dashboards"), 2, true, 80.0);
        SegmentProfile published = new SegmentProfile("u1", features.asOf(), List.of(), features.numeric(), Map.of("churn", 0.8),
                "Casual Browser", "bundle@v1", null, Map.of(), SegmentRules.inputs(features));
        assertThat((Map<?, ?>) published.inputs().get("count_1h")).as("zeros are not published")
                .isEqualTo(Map.of("product_view", 3L, "add_to_cart", 1L));
        SegmentProfileCodec codec = new SegmentProfileCodec();
        SegmentProfile read = codec.decode(codec.encode(published));
        Map<String, Object> stream = SegmentRules.variables(features, Map.of("churn", 0.8), "Casual Browser");
        Map<String, Object> console = SegmentRules.variables(read, EVENTS).orElseThrow();
        assertThat(console).isEqualTo(stream);
        for (SegmentRules.Compiled segment : shipped.values()) {
            assertThat(SegmentRules.matches(segment, console)).as(segment.definition().id())
                    .isEqualTo(SegmentRules.matches(segment, stream));
        }
        assertThat(SegmentRules.variables(new SegmentProfile("u2", 1L, List.of(), Map.of(), Map.of(), null, "none",
                "u1", Map.of(), Map.of()), EVENTS)).as("a merged id's last profile has nothing to evaluate").isEmpty();
    }

    @Test
    void refusesBadIds() {
        assertThatThrownBy(() -> new SegmentDefinition("Bad Id", "x", "true", null, false)).hasMessageContaining("lower case");
    }

    @Test
    void everyShippedSegmentMatchesItsCaseAndNotTheOthers() {
        assertThat(matching(snapshot(Map.of("product_search", 1L, "product_view", 1L, "add_to_cart", 1L),
                List.of("Men's Running Shoes"), List.of(), 0, false), Map.of(), ""))
                .containsExactlyInAnyOrder("high_intent_1h", "high_intent_footwear");
        assertThat(matching(snapshot(Map.of("product_view", 3L), List.of("Women's Jackets"), List.of(), 0, false),
                Map.of(), "")).containsExactlyInAnyOrder("high_intent_1h", "product_viewer_3x_1h");
        assertThat(matching(snapshot(Map.of(), List.of(), List.of("dashboards", "reports"), 0, false), Map.of(), ""))
                .containsExactly("feature_x_not_y");
        assertThat(matching(snapshot(Map.of(), List.of(), List.of("dashboards", "api"), 0, false), Map.of(), "")).isEmpty();
        assertThat(matching(snapshot(Map.of("email_opened", 2L), List.of(), List.of(), 0, false), Map.of(), ""))
                .containsExactly("email_engaged_no_trial");
        assertThat(matching(snapshot(Map.of("email_opened", 2L, "trial_started", 1L), List.of(), List.of(), 0, false),
                Map.of(), "")).isEmpty();
        assertThat(matching(snapshot(Map.of(), List.of(), List.of(), 0, true), Map.of(), "")).containsExactly("cart_abandoner");
        assertThat(matching(snapshot(Map.of(), List.of(), List.of(), 9, false), Map.of(), "")).containsExactly("frequent_visitor");
    }

    @Test
    void modelSegmentsNeverMatchWithoutScoresAndMatchWithThem() {
        FeatureSnapshot nothing = snapshot(Map.of(), List.of(), List.of(), 0, false);
        assertThat(matching(nothing, Map.of(), "")).isEmpty();
        assertThat(matching(nothing, Map.of("churn", 0.82), "")).containsExactly("churn_risk_high");
        assertThat(matching(nothing, Map.of("bundle_propensity", 0.7), "High-Value Bundle Purchaser"))
                .as("likely, but nothing of value in the cart or viewed today").isEmpty();
        FeatureSnapshot building = snapshot(Map.of(), List.of(), List.of(), 0, false, 149.0);
        assertThat(matching(building, Map.of("bundle_propensity", 0.7), ""))
                .as("a new prospect with a high-value cart: no persona needed").containsExactly("bundle_buyer_high_propensity");
        assertThat(matching(building, Map.of("bundle_propensity", 0.1), "")).isEmpty();
    }

    private List<String> matching(FeatureSnapshot features, Map<String, Double> scores, String persona) {
        Map<String, Object> vars = SegmentRules.variables(features, scores, persona);
        return shipped.values().stream().filter(s -> SegmentRules.matches(s, vars)).map(s -> s.definition().id()).toList();
    }

    /** A snapshot whose 1h, 30d and 90d counts are {@code counts} (all other names zero). */
    static FeatureSnapshot snapshot(Map<String, Long> counts, List<String> categories, List<String> features,
                                    long sessions30, boolean cartAbandoned) {
        return snapshot(counts, categories, features, sessions30, cartAbandoned, 0);
    }

    static FeatureSnapshot snapshot(Map<String, Long> counts, List<String> categories, List<String> features,
                                    long sessions30, boolean cartAbandoned, double cartValue) {
        Map<String, Map<String, Long>> byWindow = new HashMap<>();
        for (String window : FeatureSnapshot.COUNT_WINDOWS) {
            Map<String, Long> all = new TreeMap<>();
            for (String name : EVENTS) {
                all.put(name, counts.getOrDefault(name, 0L));
            }
            byWindow.put(window, all);
        }
        return new FeatureSnapshot(0L, 1, sessions30, 0, 0, 0, 0, cartAbandoned, cartAbandoned, 0, 0, 0, 0, cartValue, 0, 0, byWindow,
                categories, features, new io.cohortflow.core.feature.EventTimeline(0L, Map.of()));
    }
}
