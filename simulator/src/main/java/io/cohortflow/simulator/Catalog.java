package io.cohortflow.simulator;

import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/** The simulated shop's products and the SaaS product's features. */
final class Catalog {
    record Product(String sku, String name, String category, double price) {
        Map<String, Object> properties() {
            return Map.of("product_id", sku, "name", name, "category", category, "price", price, "currency", "USD");
        }
    }

    static final List<String> CATEGORIES = List.of("Men's Running Shoes", "Women's Running Shoes", "Women's Jackets",
            "Men's Jackets", "Trail Gear", "Accessories");

    static final List<Product> PRODUCTS = List.of(
            new Product("sku-trail-42", "TrailBlazer GTX", "Men's Running Shoes", 149.0),
            new Product("sku-road-17", "RoadRunner 5", "Men's Running Shoes", 119.0),
            new Product("sku-w-road-3", "Swift W", "Women's Running Shoes", 129.0),
            new Product("sku-w-trail-8", "Summit W", "Women's Running Shoes", 159.0),
            new Product("sku-wj-alpine", "Alpine Shell Jacket", "Women's Jackets", 189.0),
            new Product("sku-wj-storm", "Storm Runner Jacket", "Women's Jackets", 139.0),
            new Product("sku-wj-light", "Featherlight Windbreaker", "Women's Jackets", 99.0),
            new Product("sku-mj-ridge", "Ridge Insulated Jacket", "Men's Jackets", 219.0),
            new Product("sku-tg-pack", "Vest Pack 12L", "Trail Gear", 89.0),
            new Product("sku-tg-poles", "Carbon Poles", "Trail Gear", 129.0),
            new Product("sku-acc-socks", "Merino Socks", "Accessories", 19.0),
            new Product("sku-acc-cap", "Run Cap", "Accessories", 25.0));

    static final List<String> SEARCHES = List.of("trail running shoes", "waterproof jacket", "running socks",
            "lightweight running shoes", "hydration vest", "women's rain jacket");

    /** The SaaS product's features; a power user adopts most of them. */
    static final List<String> FEATURES = List.of("dashboards", "reports", "alerts", "integrations", "api",
            "exports", "automations", "sso");

    private Catalog() {
    }

    static Product product(SplittableRandom rng) {
        return PRODUCTS.get(rng.nextInt(PRODUCTS.size()));
    }

    /** The price from which a product counts as high-value (the seed's shoes are 149). */
    static final double HIGH_VALUE = 139.0;

    static Product highValue(SplittableRandom rng) {
        List<Product> dear = PRODUCTS.stream().filter(p -> p.price() >= HIGH_VALUE).toList();
        return dear.get(rng.nextInt(dear.size()));
    }

    static Product productIn(SplittableRandom rng, String category) {
        List<Product> inCategory = PRODUCTS.stream().filter(p -> p.category().equals(category)).toList();
        return inCategory.get(rng.nextInt(inCategory.size()));
    }

    static <T> T pick(SplittableRandom rng, List<T> items) {
        return items.get(rng.nextInt(items.size()));
    }
}
