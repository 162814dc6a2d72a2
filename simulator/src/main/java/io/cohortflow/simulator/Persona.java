package io.cohortflow.simulator;

/**
 * The behaviour a simulated user follows. The share of each persona in the population is {@link #weight}.
 * The persona is the ground truth that clustering is later scored against.
 */
public enum Persona {
    /** Reads pages, searches now and then, rarely buys or signs up. */
    BROWSER(0.25, 0.6),
    /** Views and adds to cart, then leaves without ordering. */
    CART_ABANDONER(0.18, 0.7),
    /**
     * Builds a look (a high-value product in the cart, then related categories browsed) and mostly comes back within
     * 72 hours to order the bundle; or fills a cart with several items and orders in one visit. Browsers and cart
     * abandoners build a look now and then too, and some of them buy.
     */
    BUNDLE_BUYER(0.14, 0.8),
    /** A SaaS user on a trial or subscription, using many product features; renews and pays. */
    SAAS_POWER_USER(0.15, 1.6),
    /** Opens and clicks marketing email, visits sometimes, never starts a trial. */
    EMAIL_ENGAGED_NON_TRIALIST(0.13, 0.5),
    /** Starts as an active customer, then uses the product less, files tickets, and stops. */
    CHURNING(0.15, 1.2);

    /** Share of the population. */
    final double weight;
    /** Mean sessions per day while active. */
    final double sessionsPerDay;

    Persona(double weight, double sessionsPerDay) {
        this.weight = weight;
        this.sessionsPerDay = sessionsPerDay;
    }
}
