package io.cohortflow.core.feature;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.cohortflow.core.config.ConfFiles;

import java.io.Serializable;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * How features are computed (conf/features.yaml): which product features are "key" for the adoption rate, the
 * session inactivity gap, when an open cart counts as abandoned, and which events count as activity, revenue or
 * support tickets. Stream and batch load the same file, so they compute the same features.
 */
public final class FeatureConfig implements Serializable {
    private static final long serialVersionUID = 1L;

    private final List<String> keyFeatures;
    private final Duration sessionGap;
    private final Duration cartAbandonAfter;
    private final Set<String> revenueEvents;
    private final Set<String> passiveEvents;
    private final Set<String> activityEvents;
    /** The activity of a web shop and app, when a features file names none. */
    static final List<String> DEFAULT_ACTIVITY = List.of("page_view", "product_view", "product_search", "add_to_cart",
            "checkout_started", "order_completed", "feature_used");

    @JsonCreator
    public FeatureConfig(@JsonProperty("keyFeatures") List<String> keyFeatures,
                         @JsonProperty("sessionGapMinutes") int sessionGapMinutes,
                         @JsonProperty("cartAbandonAfterMinutes") int cartAbandonAfterMinutes,
                         @JsonProperty("revenueEvents") List<String> revenueEvents,
                         @JsonProperty("passiveEvents") List<String> passiveEvents,
                         @JsonProperty("activityEvents") List<String> activityEvents) {
        this.keyFeatures = List.copyOf(Objects.requireNonNull(keyFeatures, "keyFeatures"));
        if (sessionGapMinutes < 1 || cartAbandonAfterMinutes < 1) {
            throw new IllegalArgumentException("sessionGapMinutes and cartAbandonAfterMinutes must be positive");
        }
        this.sessionGap = Duration.ofMinutes(sessionGapMinutes);
        this.cartAbandonAfter = Duration.ofMinutes(cartAbandonAfterMinutes);
        this.revenueEvents = Set.copyOf(revenueEvents == null ? List.of() : revenueEvents);
        this.passiveEvents = Set.copyOf(passiveEvents == null ? List.of() : passiveEvents);
        if (activityEvents != null && activityEvents.isEmpty()) {
            throw new IllegalArgumentException("activityEvents must name at least one event: the churn label and "
                    + "the training population are defined by them");
        }
        // A features file written before the list existed keeps the events training used then.
        this.activityEvents = Set.copyOf(activityEvents == null ? DEFAULT_ACTIVITY : activityEvents);
    }

    public static FeatureConfig defaults() {
        return ConfFiles.read(ConfFiles.defaultLocation("features.yaml"), FeatureConfig.class);
    }

    public static FeatureConfig load(String location) {
        return ConfFiles.read(location, FeatureConfig.class);
    }

    public List<String> keyFeatures() {
        return keyFeatures;
    }

    public long sessionGapMs() {
        return sessionGap.toMillis();
    }

    public long cartAbandonAfterMs() {
        return cartAbandonAfter.toMillis();
    }

    /** Events whose {@code revenue} or {@code amount} property is money spent. */
    public boolean isRevenue(String event) {
        return revenueEvents.contains(event);
    }

    /**
     * The events that make someone a customer still there, for the churn label and the training population: an
     * order-only source lists its order event, a web app its page and feature events.
     */
    public Set<String> activityEvents() {
        return activityEvents;
    }

    /** Events that happen to a user (an email opened, a payment) rather than by them: no session, no recency. */
    public boolean isPassive(String event) {
        return passiveEvents.contains(event);
    }
}
