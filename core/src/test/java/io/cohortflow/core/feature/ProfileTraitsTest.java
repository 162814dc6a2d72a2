package io.cohortflow.core.feature;

import io.cohortflow.core.event.UnifiedEvent;
import io.cohortflow.core.testing.Events;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class ProfileTraitsTest {
    private static final long T0 = 1_772_445_600_000L; // 2026-03-02T10:00:00Z
    private static final long MIN = 60_000L;

    @Test
    void contactDetailsAreKeptOnlyAsCustomerMatchHashes() {
        // Google's customer-match example: " Jane.Doe@Example.com " and "jane.doe@example.com" hash alike.
        // Expected digests from another implementation (Python's hashlib) of the normalised text.
        assertThat(ProfileTraits.hashEmail(" Jane.Doe@Example.com "))
                .isEqualTo("86e0b9e56c17cc4d12387e1949b85053fbe73bc3ce5a1188713a9d300cc6133d");
        assertThat(ProfileTraits.hashPhone("+1 (415) 555-0123"))
                .isEqualTo("36a2cef4ff9bf7a1abd2a93359136b870393be4106e6c5d19b72ff564f9deca4");
        assertThat(ProfileTraits.hashPhone("0044 20 7946 0958")).isEqualTo(ProfileTraits.sha256("+442079460958"));
        assertThat(ProfileTraits.hashPhone("12-34")).as("too short to match anyone").isNull();

        UserFeatures features = new UserFeatures(FeatureConfig.defaults());
        features.add(Events.identify("user_jane", T0).trait("email", "Jane.Doe@Example.com")
                .trait("phone", "+1 415 555 0123").build());
        Map<String, Object> traits = features.traits().asMap();
        assertThat(traits).containsOnlyKeys("email_sha256", "phone_sha256");
        assertThat(traits.get("email_sha256")).isEqualTo(ProfileTraits.sha256("jane.doe@example.com"));
        assertThat(traits.toString()).doesNotContain("Jane").doesNotContain("555");
    }

    @Test
    void theLastProductsViewedAndTheCartAreBoundedAndFollowOrders() {
        UserFeatures features = new UserFeatures(FeatureConfig.defaults());
        for (int i = 0; i < 14; i++) {
            features.add(view("u1", "p" + i, T0 + i * MIN, 10.0 * i));
        }
        features.add(view("u1", "p3", T0 + 20 * MIN, 30.0)); // seen again: moves to the front, not twice
        features.add(view("u1", "p13", T0 - MIN, 130.0)); // an older view of a product seen since: changes nothing
        List<ProfileTraits.Product> viewed = features.traits().viewed();
        assertThat(viewed).hasSize(ProfileTraits.MAX_VIEWED);
        assertThat(viewed).extracting(ProfileTraits.Product::id)
                .containsExactly("p3", "p13", "p12", "p11", "p10", "p9", "p8", "p7", "p6", "p5");

        features.add(cart("u1", "shoes", T0 + 30 * MIN, 120.0));
        features.add(cart("u1", "jacket", T0 + 31 * MIN, 180.0));
        assertThat(features.traits().cart()).extracting(ProfileTraits.Product::id).containsExactly("jacket", "shoes");
        assertThat(features.traits().asMap().get("cart_items")).asList().first()
                .isEqualTo(Map.of("product_id", "jacket", "name", "Product jacket", "category", "Outerwear", "price", 180.0));
        features.add(Events.track("u1", "order_completed", T0 + 40 * MIN).with("revenue", 300.0).build());
        assertThat(features.traits().cart()).as("an order empties the cart").isEmpty();

        features.add(cart("u1", "socks", T0 + 50 * MIN, 9.0));
        features.prune(T0 + 50 * MIN + (ProfileTraits.CART_KEPT_DAYS + 1) * UserFeatures.DAY);
        assertThat(features.traits().cart()).as("untouched for 30 days").isEmpty();
    }

    @Test
    void aDevicesViewsAndCartFollowItIntoTheKnownUserAndSurviveTheBinaryForm() {
        UserFeatures device = new UserFeatures(FeatureConfig.defaults());
        device.add(view("anon_1", "shoes", T0, 120.0));
        device.add(cart("anon_1", "shoes", T0 + MIN, 120.0));
        UserFeatures user = new UserFeatures(FeatureConfig.defaults());
        user.add(Events.identify("user_1", T0 + 2 * MIN).trait("email", "a@b.co").build());
        user.add(view("user_1", "jacket", T0 + 3 * MIN, 180.0));
        user.merge(UserFeatures.fromBytes(device.toBytes(), FeatureConfig.defaults()));

        UserFeatures restored = UserFeatures.fromBytes(user.toBytes(), FeatureConfig.defaults());
        assertThat(restored.traits().asMap()).isEqualTo(user.traits().asMap());
        assertThat(restored.traits().viewed()).extracting(ProfileTraits.Product::id).containsExactly("jacket", "shoes");
        assertThat(restored.traits().cart()).extracting(ProfileTraits.Product::id).containsExactly("shoes");
        assertThat(restored.traits().emailSha256()).isEqualTo(ProfileTraits.hashEmail("a@b.co"));
    }

    @Test
    void theSeedsPatternIsSeenByTheFeaturesAndFadesWithTime() {
        UserFeatures features = new UserFeatures(FeatureConfig.defaults());
        features.add(view("anon_1", "shoes", T0, 149.0));
        features.add(cart("anon_1", "shoes", T0 + MIN, 149.0));
        features.add(view("anon_1", "jacket", T0 + 2 * MIN, 189.0));
        features.add(product("anon_1", "product_view", "socks", T0 + 3 * MIN, 19.0)); // "Shoes", the cart's own
        FeatureSnapshot now = features.snapshot(T0 + 4 * MIN, List.of());
        assertThat(now.cartValue()).isEqualTo(149.0);
        assertThat(now.maxPriceViewed24h()).isEqualTo(189.0);
        assertThat(now.categoriesAfterCart24h()).as("Outerwear, browsed around the shoes").isEqualTo(1);
        assertThat(now.numeric()).containsEntry("cart_value", 149.0).containsEntry("categories_after_cart_24h", 1.0);

        long dayLater = T0 + UserFeatures.DAY + 4 * MIN;
        assertThat(features.nextChange(T0 + 4 * MIN)).isPresent();
        FeatureSnapshot later = features.snapshot(dayLater, List.of());
        assertThat(later.maxPriceViewed24h()).as("a day on: the views have left the window").isZero();
        assertThat(later.categoriesAfterCart24h()).isZero();
        assertThat(later.cartValue()).as("the cart stays until an order").isEqualTo(149.0);
        features.add(view("anon_1", "cap", T0 + 10 * MIN, 25.0));
        features.add(Events.track("anon_1", "order_completed", T0 + 11 * MIN).with("revenue", 338.0).with("items", 2)
                .build());
        FeatureSnapshot bought = features.snapshot(T0 + 12 * MIN, List.of());
        assertThat(bought.cartValue()).isZero();
        assertThat(bought.categoriesAfterCart24h()).as("an order since the add: nothing is being built").isZero();
    }

    @Test
    void aUserKnownOnlyByAnIdentifyKeepsTheHashedEmailForAYear() {
        UserFeatures features = new UserFeatures(FeatureConfig.defaults());
        features.add(Events.identify("user_1", T0).trait("email", "a@b.co").build());
        assertThat(features.isEmpty(T0)).as("no behaviour, but a contact to activate").isFalse();
        long yearLater = T0 + UserFeatures.LOOKBACK_DAYS * UserFeatures.DAY;
        assertThat(features.nextChange(T0)).hasValue(yearLater);
        UserFeatures restored = UserFeatures.fromBytes(features.toBytes(), FeatureConfig.defaults());
        assertThat(restored.isEmpty(yearLater - 1)).isFalse();
        assertThat(restored.isEmpty(yearLater)).as("a year on, nothing else came: dropped").isTrue();
    }

    @Test
    void aProductEventWithoutAnIdIsNotKept() {
        UserFeatures features = new UserFeatures(FeatureConfig.defaults());
        features.add(Events.track("u1", "product_view", T0).with("category", "Shoes").build());
        assertThat(features.traits().isEmpty()).isTrue();
        assertThat(features.traits().asMap()).isEmpty();
    }

    /**
     * {@link ProfileTraits#asMap} is kept until the traits change: after every step of a random history (views, adds,
     * removals, orders, contact details, prunes, folds; a new user every 100 steps, so that folds bring contact details
     * the user lacks), it must equal what a copy read back from bytes builds afresh, and stay the same map while nothing
     * changed.
     */
    @Test
    void theTraitsMapKeptBetweenChangesIsTheOneBuiltAfresh() {
        java.util.Random random = new java.util.Random(11);
        UserFeatures features = new UserFeatures(FeatureConfig.defaults());
        long t = T0;
        int rebuilt = 0;
        for (int step = 0; step < 2_000; step++) {
            if (step % 100 == 0) {
                features = new UserFeatures(FeatureConfig.defaults());
            }
            String product = "p" + random.nextInt(25);
            Map<String, Object> before = features.traits().asMap();
            switch (random.nextInt(8)) {
                case 0 -> features.add(view("u1", product, t - random.nextInt(3) * MIN, random.nextInt(200)));
                case 1 -> features.add(cart("u1", product, t, random.nextInt(200)));
                case 2 -> features.add(product("u1", "remove_from_cart", product, t, 0));
                case 3 -> features.add(Events.track("u1", "order_completed", t - random.nextInt(2) * MIN).build());
                case 4 -> features.add(contact("u1", t, random));
                case 5 -> {
                    UserFeatures device = new UserFeatures(FeatureConfig.defaults());
                    device.add(switch (random.nextInt(3)) {
                        case 0 -> view("anon", product, t, 5.0);
                        case 1 -> cart("anon", product, t, 5.0);
                        default -> contact("anon", t, random);
                    });
                    features.merge(device);
                }
                case 6 -> features.add(Events.track("u1", "page_view", t).build()); // touches no trait
                default -> {
                    t += random.nextInt(4) == 0 ? random.nextInt(40) * UserFeatures.DAY : random.nextInt(30) * MIN;
                    features.prune(t);
                }
            }
            Map<String, Object> kept = features.traits().asMap();
            Map<String, Object> fresh = UserFeatures.fromBytes(features.toBytes(), FeatureConfig.defaults()).traits()
                    .asMap();
            assertThat(kept).as("step %d", step).isEqualTo(fresh);
            assertThat(features.traits().asMap()).as("asked again").isSameAs(kept);
            rebuilt += kept == before ? 0 : 1;
        }
        assertThat(rebuilt).as("steps that changed the traits").isBetween(300, 1_900);
    }

    /** A product's map has the fields it has, in order: id, name, category, price. */
    @Test
    void aProductsMapLeavesOutWhatTheEventDidNotSay() {
        assertThat(new ProfileTraits.Product("p1", null, "Shoes", Double.NaN, T0).asMap())
                .isEqualTo(Map.of("product_id", "p1", "category", "Shoes"));
        assertThat(new ProfileTraits.Product("p2", "Boot", null, 9.5, T0).asMap().keySet())
                .containsExactly("product_id", "name", "price");
        assertThat(new ProfileTraits.Product("p3", "Boot", "Shoes", 0.0, T0).asMap())
                .containsExactly(Map.entry("product_id", "p3"), Map.entry("name", "Boot"),
                        Map.entry("category", "Shoes"), Map.entry("price", 0.0));
        assertThat(new ProfileTraits.Product("p4", null, null, Double.NaN, T0).asMap())
                .isEqualTo(Map.of("product_id", "p4"));
    }

    /** An identify with an email or a phone number, one of a few. */
    private static UnifiedEvent contact(String user, long t, java.util.Random random) {
        return random.nextBoolean()
                ? Events.identify(user, t).trait("email", "a" + random.nextInt(3) + "@b.co").build()
                : Events.identify(user, t).trait("phone", "+1 415 555 01" + random.nextInt(10)).build();
    }

    private static UnifiedEvent view(String user, String product, long t, double price) {
        return product(user, "product_view", product, t, price);
    }

    private static UnifiedEvent cart(String user, String product, long t, double price) {
        return product(user, "add_to_cart", product, t, price);
    }

    private static UnifiedEvent product(String user, String event, String product, long t, double price) {
        return Events.track(user, event, t).with(Map.of("product_id", product, "name", "Product " + product,
                "category", product.equals("jacket") ? "Outerwear" : "Shoes", "price", price)).build();
    }
}
