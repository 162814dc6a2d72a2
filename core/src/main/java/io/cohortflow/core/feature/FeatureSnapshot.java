package io.cohortflow.core.feature;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A user's features as of one time: what segment rules and models read.
 *
 * @param asOf                 the time they are computed for, epoch ms
 * @param recencyDays          whole days since the last active event (capped at 90; 90 when never active)
 * @param frequency30d         sessions started in the last 30 days (30-minute inactivity gap)
 * @param monetaryValue90d     revenue of the last 90 days
 * @param featureAdoptionRate  key product features used in 90 days / key features configured
 * @param supportTickets60d    support tickets created in the last 60 days
 * @param avgSessionDuration   mean duration of the last 30 days' sessions, minutes
 * @param cartOpen             something was added to the cart in the last 7 days and no order followed
 * @param cartAbandoned        the cart is open and nothing was added for the configured time (30 minutes)
 * @param counts               window ("1h", "24h", "7d", "30d", "60d", "90d") -> canonical event name -> count
 * @param categories24h        product categories viewed in the last 24 hours
 * @param featuresUsed90d      product features used in the last 90 days
 */
public record FeatureSnapshot(long asOf, double recencyDays, long frequency30d, double monetaryValue90d,
                              double featureAdoptionRate, long supportTickets60d, double avgSessionDuration,
                              boolean cartOpen, boolean cartAbandoned, Map<String, Map<String, Long>> counts,
                              List<String> categories24h, List<String> featuresUsed90d) {

    public static final List<String> COUNT_WINDOWS = List.of("1h", "24h", "7d", "30d", "60d", "90d");

    /**
     * The features of the models, in a fixed order (the schema is hashed; a bundle trained on another list is refused
     * by the stream): the seed's six, then two behaviours that tell shoppers who abandon carts and readers of
     * marketing email from other light users.
     */
    public static final List<String> MODEL_FEATURES = List.of("recency", "frequency_30d", "monetary_value_90d",
            "feature_adoption_rate", "support_tickets_60d", "avg_session_duration", "cart_adds_30d",
            "email_engagement_30d");

    public long count(String window, String event) {
        return counts.getOrDefault(window, Map.of()).getOrDefault(event, 0L);
    }

    /** The numeric features by name, in {@link #MODEL_FEATURES} order (what profiles and changes carry). */
    public Map<String, Double> numeric() {
        Map<String, Double> values = new LinkedHashMap<>();
        values.put("recency", recencyDays);
        values.put("frequency_30d", (double) frequency30d);
        values.put("monetary_value_90d", monetaryValue90d);
        values.put("feature_adoption_rate", featureAdoptionRate);
        values.put("support_tickets_60d", (double) supportTickets60d);
        values.put("avg_session_duration", avgSessionDuration);
        values.put("cart_adds_30d", (double) count("30d", "add_to_cart"));
        values.put("email_engagement_30d", (double) (count("30d", "email_opened") + count("30d", "email_clicked")));
        return values;
    }

    /** The values of {@link #MODEL_FEATURES}, in that order: what the models are trained on. */
    public double[] modelVector() {
        Map<String, Double> numeric = numeric();
        return MODEL_FEATURES.stream().mapToDouble(numeric::get).toArray();
    }

    /**
     * The variables segment rules see, by the names of conf/segments.yaml: {@code recency_days}, {@code frequency_30d},
     * {@code monetary_value_90d}, {@code feature_adoption_rate}, {@code support_tickets_60d},
     * {@code avg_session_duration}, {@code cart_open}, {@code cart_abandoned}, {@code count_1h} ... {@code count_90d}
     * (maps from canonical event name to count), {@code categories_24h}, {@code features_used_90d}.
     */
    public Map<String, Object> ruleVariables() {
        Map<String, Object> vars = new LinkedHashMap<>();
        vars.put("recency_days", recencyDays);
        vars.put("frequency_30d", frequency30d);
        vars.put("monetary_value_90d", monetaryValue90d);
        vars.put("feature_adoption_rate", featureAdoptionRate);
        vars.put("support_tickets_60d", supportTickets60d);
        vars.put("avg_session_duration", avgSessionDuration);
        vars.put("cart_open", cartOpen);
        vars.put("cart_abandoned", cartAbandoned);
        for (String window : COUNT_WINDOWS) {
            vars.put("count_" + window, counts.getOrDefault(window, Map.of()));
        }
        vars.put("categories_24h", categories24h);
        vars.put("features_used_90d", featuresUsed90d);
        return vars;
    }
}
