package io.cohortflow.core.event;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class EventTaxonomyTest {
    private final EventTaxonomy taxonomy = EventTaxonomy.defaults();

    @Test
    void theSameActionHasOneNameFromEverySource() {
        assertThat(taxonomy.canonical("Product Viewed")).contains("product_view");   // analytics.js
        assertThat(taxonomy.canonical("product_viewed")).contains("product_view");   // mobile SDKs
        assertThat(taxonomy.canonical("PRODUCT-VIEWED")).contains("product_view");
        assertThat(taxonomy.canonical("product_view")).contains("product_view");     // canonical itself
        assertThat(taxonomy.canonical("Signed Up")).contains("user_signup");
        assertThat(taxonomy.canonical("Charge Succeeded")).contains("payment_succeeded"); // Stripe
        assertThat(taxonomy.canonical("Ticket Created")).contains("support_ticket_created"); // Zendesk
        assertThat(taxonomy.canonical("Something Else")).isEmpty();
        assertThat(taxonomy.canonical(null)).isEmpty();
    }

    @Test
    void coversTheSeedsCanonicalNames() {
        assertThat(taxonomy.canonicalNames()).contains("page_view", "product_search", "product_view", "add_to_cart",
                "checkout_started", "order_completed", "user_signup", "feature_used", "support_ticket_created",
                "email_opened", "email_clicked", "trial_started", "subscription_renewed", "payment_succeeded");
    }

    @Test
    void anAliasClaimedByTwoEventsIsAConfigError() {
        assertThatThrownBy(() -> new EventTaxonomy(Map.of("a_event", List.of("Same"), "b_event", List.of("same"))))
                .hasMessageContaining("maps to both");
    }
}
