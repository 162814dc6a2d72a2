package io.cohortflow.core.feature;

import io.cohortflow.core.codec.FrozenMap;
import io.cohortflow.core.segment.SegmentRules;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class FeatureSnapshotTest {
    /** Every field a value of its own, so that a name read from the wrong field shows. */
    private static final FeatureSnapshot SNAPSHOT = new FeatureSnapshot(1_000L, 1.5, 2, 3.5, 0.25, 4, 5.5, true, false,
            6, 7.5, 8.5, 9.5, 10.5, 11.5, 12,
            Map.of("1h", Map.of("a", 1L), "24h", Map.of("a", 2L), "7d", Map.of("a", 3L, "b", 0L),
                    "30d", Map.of("add_to_cart", 13L, "email_opened", 14L, "email_clicked", 15L),
                    "60d", Map.of("a", 5L), "90d", Map.of("a", 6L)),
            List.of("Shoes"), List.of("api"), new EventTimeline(1_000L, Map.of()));

    /**
     * The numeric features are built by place (the models' vector) and read by name: each name is its own field's
     * value, in {@link FeatureSnapshot#MODEL_FEATURES} order, and the model vector is the same values.
     */
    @Test
    void eachNumericFeatureIsItsOwnFieldsValueInTheModelsOrder() {
        Map<String, Double> expected = new LinkedHashMap<>();
        expected.put("recency", 1.5);
        expected.put("frequency_30d", 2.0);
        expected.put("monetary_value_90d", 3.5);
        expected.put("feature_adoption_rate", 0.25);
        expected.put("support_tickets_60d", 4.0);
        expected.put("avg_session_duration", 5.5);
        expected.put("cart_adds_30d", 13.0);
        expected.put("email_engagement_30d", 29.0);
        expected.put("purchases_365d", 6.0);
        expected.put("monetary_value_365d", 7.5);
        expected.put("tenure_days", 8.5);
        expected.put("overdue_purchases", 9.5);
        expected.put("cart_value", 10.5);
        expected.put("max_price_viewed_24h", 11.5);
        expected.put("categories_after_cart_24h", 12.0);
        Map<String, Double> numeric = SNAPSHOT.numeric();
        assertThat(numeric).isEqualTo(expected).hasSameHashCodeAs(expected);
        assertThat(numeric.keySet()).containsExactlyElementsOf(FeatureSnapshot.MODEL_FEATURES);
        assertThat(SNAPSHOT.modelVector()).containsExactly(expected.values().stream().mapToDouble(d -> d).toArray());
        assertThat(FrozenMap.copyOf(numeric)).as("unmodifiable already: taken without a copy").isSameAs(numeric);
    }

    /**
     * The rule variables are read by place (an evaluation's slots, a profile's inputs) and by name: each name is its
     * own field's value, at its place in {@link FeatureSnapshot#RULE_VARIABLES}.
     */
    @Test
    void eachRuleVariableIsItsOwnFieldsValueByNameAndByPlace() {
        Map<String, Object> expected = new LinkedHashMap<>();
        expected.put("recency_days", 1.5);
        expected.put("frequency_30d", 2L);
        expected.put("monetary_value_90d", 3.5);
        expected.put("feature_adoption_rate", 0.25);
        expected.put("support_tickets_60d", 4L);
        expected.put("avg_session_duration", 5.5);
        expected.put("cart_open", true);
        expected.put("cart_abandoned", false);
        expected.put("purchases_365d", 6L);
        expected.put("monetary_value_365d", 7.5);
        expected.put("tenure_days", 8.5);
        expected.put("overdue_purchases", 9.5);
        expected.put("cart_value", 10.5);
        expected.put("max_price_viewed_24h", 11.5);
        expected.put("categories_after_cart_24h", 12L);
        for (String window : FeatureSnapshot.COUNT_WINDOWS) {
            expected.put("count_" + window, SNAPSHOT.counts().get(window));
        }
        expected.put("categories_24h", List.of("Shoes"));
        expected.put("features_used_90d", List.of("api"));
        expected.put("events", SNAPSHOT.events());
        assertThat(SNAPSHOT.ruleVariables()).isEqualTo(expected);
        assertThat(SNAPSHOT.ruleVariables().keySet()).containsExactlyElementsOf(FeatureSnapshot.RULE_VARIABLES);
        Object[] values = SNAPSHOT.ruleValues();
        for (int place = 0; place < values.length; place++) {
            String name = FeatureSnapshot.RULE_VARIABLES.get(place);
            assertThat(values[place]).as(name).isEqualTo(expected.get(name));
            assertThat(SNAPSHOT.ruleVariable(place)).as(name).isEqualTo(expected.get(name));
            assertThat(SNAPSHOT.ruleVariable(name)).as(name).isEqualTo(expected.get(name));
        }
        assertThat(SNAPSHOT.ruleVariable("scores")).as("none of them").isNull();
    }

    /** A profile's inputs: every rule variable, in order, the count windows without their zeros. */
    @Test
    void aProfilesInputsAreTheRuleVariablesWithoutZeroCounts() {
        Map<String, Object> expected = SNAPSHOT.ruleVariables();
        expected.put("count_7d", Map.of("a", 3L));
        Map<String, Object> inputs = SegmentRules.inputs(SNAPSHOT);
        assertThat(inputs).isEqualTo(expected).hasSameHashCodeAs(expected);
        assertThat(inputs.keySet()).containsExactlyElementsOf(FeatureSnapshot.RULE_VARIABLES);
        assertThat(inputs.get("count_7d")).isEqualTo(Map.of("a", 3L));
        assertThat(inputs.get("scores")).isNull();
        assertThat(inputs.containsKey("persona")).isFalse();
    }
}
