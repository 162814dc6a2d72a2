package io.cohortflow.core.feature;

import io.cohortflow.core.codec.NamedValues;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A user's features as of one time: what segment rules and models read.
 *
 * @param asOf                 the time they are computed for, epoch ms
 * @param recencyDays          whole days since the last active event (capped at 365; 365 when never active)
 * @param frequency30d         sessions started in the last 30 days (30-minute inactivity gap)
 * @param monetaryValue90d     revenue of the last 90 days
 * @param featureAdoptionRate  key product features used in 90 days / key features configured
 * @param supportTickets60d    support tickets created in the last 60 days
 * @param avgSessionDuration   mean duration of the last 30 days' sessions, minutes
 * @param cartOpen             something was added to the cart in the last 7 days and no order followed
 * @param cartAbandoned        the cart is open and nothing was added for the configured time (30 minutes)
 * @param purchases365d        revenue events (orders, payments) in the last 365 days
 * @param monetaryValue365d    their revenue
 * @param tenureDays           whole days since the first active event still in state (capped at 365)
 * @param overduePurchases     purchases the user would have made since last active at their own pace of the year:
 *                             purchases365d × recencyDays ÷ (days from first to last activity + recencyDays, at
 *                             least 1, at most 365); 0 without purchases
 * @param cartValue            what the cart's items cost (added in the last 30 days, no order since)
 * @param maxPriceViewed24h    the highest price among the products viewed in the last 24 hours (of the last 10)
 * @param categoriesAfterCart24h distinct categories viewed after the last add to cart, within 24 hours, other than
 *                             the cart's own: browsing around what is in the cart (the seed's bundle pattern)
 * @param counts               window ("1h", "24h", "7d", "30d", "60d", "90d") -> canonical event name -> count
 * @param categories24h        product categories viewed in the last 24 hours
 * @param featuresUsed90d      product features used in the last 90 days
 * @param events               each event's history, for the rules' behavioural operators ({@code events.count},
 *                             {@code events.absent_for}, {@code events.first_within}, {@code events.then_within})
 */
public record FeatureSnapshot(long asOf, double recencyDays, long frequency30d, double monetaryValue90d,
                              double featureAdoptionRate, long supportTickets60d, double avgSessionDuration,
                              boolean cartOpen, boolean cartAbandoned, long purchases365d, double monetaryValue365d,
                              double tenureDays, double overduePurchases, double cartValue, double maxPriceViewed24h,
                              long categoriesAfterCart24h, Map<String, Map<String, Long>> counts,
                              List<String> categories24h, List<String> featuresUsed90d, EventTimeline events) {

    public static final List<String> COUNT_WINDOWS = List.of("1h", "24h", "7d", "30d", "60d", "90d");

    /**
     * The features the models may use, in a fixed order: the seed's six; two behaviours that tell shoppers who
     * abandon carts and readers of marketing email from other light users; and the year-long purchase history
     * (how often, how much, since when, and how overdue at that pace) that a customer who orders a few times a year
     * is judged by; and what a shopper is building now (the cart's value, the dearest product viewed today, the
     * categories browsed around the cart), which the seed's bundle purchase follows. A bundle declares
     * this whole list (its hash is what the stream checks before it swaps a bundle in); its models read, by name, the
     * ones that varied in the run's training rows.
     */
    public static final List<String> MODEL_FEATURES = List.of("recency", "frequency_30d", "monetary_value_90d",
            "feature_adoption_rate", "support_tickets_60d", "avg_session_duration", "cart_adds_30d",
            "email_engagement_30d", "purchases_365d", "monetary_value_365d", "tenure_days", "overdue_purchases",
            "cart_value", "max_price_viewed_24h", "categories_after_cart_24h");

    /**
     * The counts other features are made of, window -> events: the models' {@code cart_adds_30d},
     * {@code email_engagement_30d} and {@code support_tickets_60d} (the rules' too). A moment one of them moves is one
     * a model, or a rule on those features, sees; the other counts are seen only by the rules that read them and the
     * profile. {@code UserFeaturesTest} checks that no other feature moves when only the other counts do.
     */
    public static final Map<String, java.util.Set<String>> COUNTS_IN_FEATURES = Map.of(
            "30d", java.util.Set.of("add_to_cart", "email_opened", "email_clicked"),
            "60d", java.util.Set.of("support_ticket_created"));

    public long count(String window, String event) {
        return counts.getOrDefault(window, Map.of()).getOrDefault(event, 0L);
    }

    private static final NamedValues.Names NUMERIC = new NamedValues.Names(MODEL_FEATURES);

    /**
     * The numeric features by name, in {@link #MODEL_FEATURES} order (what profiles and changes carry); unmodifiable.
     */
    public Map<String, Double> numeric() {
        double[] vector = modelVector();
        Object[] values = new Object[vector.length];
        for (int i = 0; i < vector.length; i++) {
            values[i] = vector[i];
        }
        return new NamedValues<>(NUMERIC, values);
    }

    /** The values of {@link #MODEL_FEATURES}, in that order: what the models are trained on. */
    public double[] modelVector() {
        return new double[] {recencyDays, frequency30d, monetaryValue90d, featureAdoptionRate, supportTickets60d,
                avgSessionDuration, count("30d", "add_to_cart"), count("30d", "email_opened")
                + count("30d", "email_clicked"), purchases365d, monetaryValue365d, tenureDays, overduePurchases,
                cartValue, maxPriceViewed24h, categoriesAfterCart24h};
    }

    /**
     * The variables segment rules see, by the names of conf/segments.yaml: {@code recency_days}, {@code frequency_30d},
     * {@code monetary_value_90d}, {@code feature_adoption_rate}, {@code support_tickets_60d},
     * {@code avg_session_duration}, {@code cart_open}, {@code cart_abandoned}, {@code purchases_365d},
     * {@code monetary_value_365d}, {@code tenure_days}, {@code overdue_purchases}, {@code cart_value},
     * {@code max_price_viewed_24h}, {@code categories_after_cart_24h}, {@code count_1h} ... {@code count_90d}
     * (maps from canonical event name to count), {@code categories_24h}, {@code features_used_90d}, {@code events}.
     */
    public Map<String, Object> ruleVariables() {
        Map<String, Object> vars = new LinkedHashMap<>(64); // 24 and room for scores and persona, without a resize
        Object[] values = ruleValues();
        for (int i = 0; i < values.length; i++) {
            vars.put(RULE_VARIABLES.get(i), values[i]);
        }
        return vars;
    }

    /** The values of {@link #ruleVariables}, in {@link #RULE_VARIABLES} order, in an array of their own. */
    public Object[] ruleValues() {
        Object[] values = new Object[RULE_VARIABLES.size()];
        for (int i = 0; i < values.length; i++) {
            values[i] = ruleVariable(i);
        }
        return values;
    }

    /** The rule variable at {@code place} in {@link #RULE_VARIABLES}. */
    public Object ruleVariable(int place) {
        return switch (place) {
            case 0 -> recencyDays;
            case 1 -> frequency30d;
            case 2 -> monetaryValue90d;
            case 3 -> featureAdoptionRate;
            case 4 -> supportTickets60d;
            case 5 -> avgSessionDuration;
            case 6 -> cartOpen;
            case 7 -> cartAbandoned;
            case 8 -> purchases365d;
            case 9 -> monetaryValue365d;
            case 10 -> tenureDays;
            case 11 -> overduePurchases;
            case 12 -> cartValue;
            case 13 -> maxPriceViewed24h;
            case 14 -> categoriesAfterCart24h;
            case 15 -> countsIn("1h");
            case 16 -> countsIn("24h");
            case 17 -> countsIn("7d");
            case 18 -> countsIn("30d");
            case 19 -> countsIn("60d");
            case 20 -> countsIn("90d");
            case 21 -> categories24h;
            case 22 -> featuresUsed90d;
            case 23 -> events;
            default -> throw new IndexOutOfBoundsException("no rule variable at " + place);
        };
    }

    private Map<String, Long> countsIn(String window) {
        return counts.getOrDefault(window, Map.of());
    }

    /**
     * {@code counts} (one window of {@link #counts}) without its zeros, in its order: what a profile shows. A
     * snapshot's own counts are read from their arrays; any other map is filtered into a new one.
     */
    public static Map<String, Long> nonZero(Map<String, Long> counts) {
        if (counts instanceof CountMap countMap) {
            return NonZeroCounts.of(countMap);
        }
        Map<String, Long> nonZero = new LinkedHashMap<>();
        counts.forEach((event, n) -> {
            if (n != 0) {
                nonZero.put(event, n);
            }
        });
        return nonZero;
    }

    /** The names of {@link #ruleVariables}, in its order. */
    public static final List<String> RULE_VARIABLES = List.of("recency_days", "frequency_30d", "monetary_value_90d",
            "feature_adoption_rate", "support_tickets_60d", "avg_session_duration", "cart_open", "cart_abandoned",
            "purchases_365d", "monetary_value_365d", "tenure_days", "overdue_purchases", "cart_value",
            "max_price_viewed_24h", "categories_after_cart_24h", "count_1h", "count_24h", "count_7d", "count_30d",
            "count_60d", "count_90d", "categories_24h", "features_used_90d", "events");
    /** {@link #RULE_VARIABLES} and each one's place: what maps over {@link #ruleValues} are built on. */
    public static final NamedValues.Names RULE_VARIABLE_NAMES = new NamedValues.Names(RULE_VARIABLES);

    /**
     * One of {@link #ruleVariables} by name, without building the map (what an evaluation reads, once per condition
     * and read); null for a name that is none of them.
     */
    public Object ruleVariable(String name) {
        int place = RULE_VARIABLE_NAMES.placeOf(name);
        return place < 0 ? null : ruleVariable(place);
    }
}
