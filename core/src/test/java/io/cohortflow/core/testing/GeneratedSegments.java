package io.cohortflow.core.testing;

import io.cohortflow.core.engine.Ruleset;
import io.cohortflow.core.event.EventTaxonomy;
import io.cohortflow.core.feature.FeatureConfig;
import io.cohortflow.core.scoring.Scorer;
import io.cohortflow.core.segment.SegmentDefinition;
import io.cohortflow.core.segment.SegmentRules;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Many segment definitions of the kinds marketers write, for tests and benchmarks of a large running set (shared
 * through core's test-jar): counts of an event in a window over a threshold, sums of two, recency and frequency, the
 * cart, features used, and now and then a behavioural operator. The same {@code seed} gives the same definitions.
 */
public final class GeneratedSegments {
    private static final String[] EVENTS = {"product_view", "product_search", "add_to_cart", "order_completed",
            "page_view", "email_opened", "email_clicked", "feature_used", "trial_started", "support_ticket_created"};
    private static final String[] WINDOWS = {"1h", "24h", "7d", "30d", "60d", "90d"};

    private GeneratedSegments() {
    }

    /** {@code n} definitions, ids {@code generated_0} ... */
    public static List<SegmentDefinition> of(int n, long seed) {
        Random random = new Random(seed);
        List<SegmentDefinition> definitions = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            String a = EVENTS[random.nextInt(EVENTS.length)];
            String b = EVENTS[random.nextInt(EVENTS.length)];
            String condition = switch (i % 20) {
                case 0, 5, 10, 15 -> count(random, a) + " >= " + (1 + random.nextInt(5));
                case 1, 6, 11, 16 -> count(random, a) + " + " + count(random, b) + " >= " + (2 + random.nextInt(6))
                        + " && recency_days < " + (1 + random.nextInt(30));
                case 2, 7, 12 -> count(random, a) + " >= " + (1 + random.nextInt(3)) + " && " + count(random, b)
                        + " == 0";
                case 3, 8, 13 -> "frequency_30d >= " + (1 + random.nextInt(10)) + " || (cart_abandoned && cart_value >= "
                        + (20 + random.nextInt(200)) + ".0)";
                case 4, 9, 14 -> "monetary_value_90d >= " + (10 + random.nextInt(500)) + ".0 && purchases_365d >= "
                        + (1 + random.nextInt(4));
                case 17 -> "'dashboards' in features_used_90d && " + count(random, a) + " >= 1";
                case 18 -> "events.count('" + a + "', '" + (1 + random.nextInt(48)) + "h') >= " + (2 + random.nextInt(3));
                default -> "events.absent_for('" + a + "', '" + (1 + random.nextInt(30)) + "d') && " + count(random, b)
                        + " >= 1";
            };
            definitions.add(new SegmentDefinition("generated_" + i, "Generated " + i, condition, null, false));
        }
        return definitions;
    }

    /**
     * The shipped segments and {@code n} generated ones, running with the default features, the taxonomy's event names,
     * a merge memory of 90 days and no model.
     */
    public static Ruleset withShipped(int n, long seed) {
        List<SegmentDefinition> definitions = new ArrayList<>(SegmentRules.defaults());
        definitions.addAll(of(n, seed));
        return Ruleset.of(FeatureConfig.defaults(), EventTaxonomy.defaults().canonicalNames().stream().sorted().toList(),
                Duration.ofDays(90), definitions, Scorer.NONE);
    }

    private static String count(Random random, String event) {
        return "count_" + WINDOWS[random.nextInt(WINDOWS.length)] + "['" + event + "']";
    }
}
