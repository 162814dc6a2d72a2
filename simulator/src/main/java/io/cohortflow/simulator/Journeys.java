package io.cohortflow.simulator;

import io.cohortflow.simulator.Catalog.Product;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Writes the calls of one session, or of one day of server-side activity, for a person. Names follow what each
 * source really sends: the web SDK uses Segment's e-commerce spec ("Product Viewed"), the mobile SDKs snake case
 * ("product_viewed"), servers their own vocabulary; the taxonomy maps all of them onto the canonical names.
 */
final class Journeys {
    private Journeys() {
    }

    /** Builds the calls of one session with a running clock. */
    static final class Session {
        final SimUser user;
        final SimUser.Device device;
        final SplittableRandom rng;
        final List<SimEvent> events = new ArrayList<>();
        /** The playback's bundles due, by person: a look's purchase is left here. */
        final Map<Integer, SimUser.PendingBundle> bundles;
        long clock;

        Session(SimUser user, SimUser.Device device, long start, SplittableRandom rng,
                Map<Integer, SimUser.PendingBundle> bundles) {
            this.user = user;
            this.device = device;
            this.clock = start;
            this.rng = rng;
            this.bundles = bundles;
        }

        boolean mobile() {
            return !device.source().equals("web");
        }

        String userId() {
            return user.identifiedDevices.contains(device.anonymousId()) ? user.userId : null;
        }

        Session gap(int minSeconds, int maxSeconds) {
            clock += 1000L * (minSeconds + rng.nextInt(maxSeconds - minSeconds + 1));
            return this;
        }

        Session page(String name, String path) {
            Map<String, Object> props = new LinkedHashMap<>();
            props.put("path", path);
            props.put("title", name);
            if (!mobile()) {
                props.put("url", "https://shop.example.com" + path);
            }
            events.add(new SimEvent(mobile() ? "screen" : "page", name, device.anonymousId(), userId(), clock,
                    device.clockSkewMs(), device.source(), props, Map.of(), null));
            return gap(5, 40);
        }

        /** A track call; {@code specName} is the web SDK's name, mobile sends it in snake case. */
        Session track(String specName, Map<String, Object> props) {
            String name = mobile() ? specName.toLowerCase(Locale.ROOT).replace(' ', '_') : specName;
            events.add(new SimEvent("track", name, device.anonymousId(), userId(), clock, device.clockSkewMs(),
                    device.source(), props, Map.of(), null));
            return gap(5, 60);
        }

        Session identify(Map<String, Object> traits) {
            user.identifiedDevices.add(device.anonymousId());
            events.add(new SimEvent("identify", null, device.anonymousId(), user.userId, clock, device.clockSkewMs(),
                    device.source(), Map.of(), traits, null));
            return gap(1, 5);
        }

        Session identifyIfDue(int day) {
            if (user.identifyDay >= 0 && day >= user.identifyDay
                    && !user.identifiedDevices.contains(device.anonymousId())) {
                identify(traits(user));
            }
            return this;
        }

        Session viewProduct(Product product, int dwellMinSeconds, int dwellMaxSeconds) {
            track("Product Viewed", product.properties());
            return gap(dwellMinSeconds, dwellMaxSeconds);
        }
    }

    static Map<String, Object> traits(SimUser user) {
        Map<String, Object> traits = new LinkedHashMap<>();
        traits.put("email", user.email);
        traits.put("name", "User " + user.index);
        return traits;
    }

    /** One web or app session of {@code user} on {@code day}. */
    static List<SimEvent> session(SimUser user, SimUser.Device device, int day, long start, SplittableRandom rng,
                                  Map<Integer, SimUser.PendingBundle> bundles) {
        Session s = new Session(user, device, start, rng, bundles);
        switch (user.actingPersona(start)) {
            case BROWSER -> browse(s, day);
            case CART_ABANDONER -> abandonCart(s, day);
            case BUNDLE_BUYER -> buyBundle(s, day);
            case SAAS_POWER_USER -> useProduct(s, day, 4, 9, 0.03);
            case EMAIL_ENGAGED_NON_TRIALIST -> readFromEmail(s, day);
            case CHURNING -> useProduct(s, day, 1, 4, 0.12 + 0.3 * progressToChurn(user, day));
        }
        return s.events;
    }

    private static double progressToChurn(SimUser user, int day) {
        return user.churnDay <= 0 ? 0 : Math.min(1.0, (double) day / user.churnDay);
    }

    /**
     * The seed's pattern: a high-value product viewed and added to the cart, then related but different categories
     * browsed around it. With {@code buyChance} the person comes back within 1 to 72 hours and orders the bundle (the
     * cart's item and one of those browsed): the purchase is left in the session's {@code bundles} for the day it
     * falls on.
     */
    static void buildLook(Session s, int day, double buyChance) {
        s.identifyIfDue(day);
        s.page("Home", "/");
        Product hero = Catalog.highValue(s.rng);
        s.page(hero.category(), "/c/" + slug(hero.category()));
        s.viewProduct(hero, 30, 150);
        s.track("Product Added", withQuantity(hero.properties()));
        List<String> around = new ArrayList<>(Catalog.CATEGORIES);
        around.remove(hero.category());
        int browsed = 2 + s.rng.nextInt(2);
        List<Product> seen = new ArrayList<>();
        for (int i = 0; i < browsed; i++) {
            String category = around.remove(s.rng.nextInt(around.size()));
            s.page(category, "/c/" + slug(category));
            Product product = Catalog.productIn(s.rng, category);
            s.viewProduct(product, 20, 90);
            seen.add(product);
        }
        if (s.rng.nextDouble() < buyChance && !s.bundles.containsKey(s.user.index)) { // one bundle due at a time
            long at = s.clock + 3_600_000L + s.rng.nextLong(71 * 3_600_000L);
            s.bundles.put(s.user.index,
                    new SimUser.PendingBundle(at, s.device, hero, seen.get(s.rng.nextInt(seen.size()))));
        }
    }

    /** The return visit that buys a look's bundle: the browsed item joins the cart, and both are ordered. */
    static List<SimEvent> completeBundle(SimUser user, SimUser.PendingBundle bundle, SplittableRandom rng) {
        Session s = new Session(user, bundle.device(), bundle.at(), rng, Map.of());
        s.page("Home", "/");
        s.viewProduct(bundle.addOn(), 10, 40);
        s.track("Product Added", withQuantity(bundle.addOn().properties()));
        if (s.userId() == null && rng.nextDouble() < 0.3) {
            s.identify(traits(user)); // an account at checkout; the others check out as guests, on the device's id
        }
        double total = bundle.inCart().price() + bundle.addOn().price();
        s.track("Checkout Started", Map.of("value", total, "currency", "USD"));
        s.track("Order Completed", Map.of("order_id", "o-" + Long.toHexString(rng.nextLong() >>> 8),
                "revenue", Math.round(total * 100) / 100.0, "currency", "USD", "items", 2));
        return s.events;
    }

    private static void browse(Session s, int day) {
        if (s.rng.nextDouble() < 0.15) {
            buildLook(s, day, 0.6); // a browser taken with a look, now and then: a first purchase may follow
            return;
        }
        s.identifyIfDue(day);
        s.page("Home", "/");
        int pages = 1 + s.rng.nextInt(5);
        for (int i = 0; i < pages; i++) {
            String category = Catalog.pick(s.rng, Catalog.CATEGORIES);
            s.page(category, "/c/" + slug(category));
        }
        if (s.rng.nextDouble() < 0.3) {
            s.track("Products Searched", Map.of("query", Catalog.pick(s.rng, Catalog.SEARCHES)));
        }
        int views = s.rng.nextInt(3);
        for (int i = 0; i < views; i++) {
            s.viewProduct(Catalog.product(s.rng), 10, 60);
        }
    }

    private static void abandonCart(Session s, int day) {
        if (s.rng.nextDouble() < 0.2) {
            buildLook(s, day, 0.5);
            return;
        }
        s.identifyIfDue(day);
        s.page("Home", "/");
        if (s.rng.nextDouble() < 0.6) {
            s.track("Products Searched", Map.of("query", Catalog.pick(s.rng, Catalog.SEARCHES)));
        }
        String category = Catalog.pick(s.rng, Catalog.CATEGORIES);
        s.page(category, "/c/" + slug(category));
        Product last = null;
        int views = 2 + s.rng.nextInt(3);
        for (int i = 0; i < views; i++) {
            last = Catalog.productIn(s.rng, category);
            s.viewProduct(last, 20, 120);
        }
        if (s.rng.nextDouble() < 0.8) {
            s.track("Product Added", withQuantity(last.properties()));
            if (s.rng.nextDouble() < 0.2) {
                s.track("Checkout Started", Map.of("value", last.price(), "currency", "USD"));
            }
        }
    }

    private static void buyBundle(Session s, int day) {
        if (!s.bundles.containsKey(s.user.index) && s.rng.nextDouble() < 0.8) {
            buildLook(s, day, 0.8);
            return;
        }
        // Or the whole bundle in one visit, without the pattern before it.
        s.identifyIfDue(day);
        s.page("Home", "/");
        double cart = 0;
        int items = 0;
        int categories = 2 + s.rng.nextInt(2);
        for (int c = 0; c < categories; c++) {
            String category = Catalog.pick(s.rng, Catalog.CATEGORIES);
            s.page(category, "/c/" + slug(category));
            Product product = Catalog.productIn(s.rng, category);
            s.viewProduct(product, 30, 120);
            if (s.rng.nextDouble() < 0.75) {
                s.track("Product Added", withQuantity(product.properties()));
                cart += product.price();
                items++;
            }
        }
        if (items >= 2 && s.rng.nextDouble() < 0.6) {
            if (s.userId() == null) {
                s.identify(traits(s.user)); // checkout requires an account
            }
            s.track("Checkout Started", Map.of("value", cart, "currency", "USD"));
            s.track("Order Completed", Map.of("order_id", "o-" + Long.toHexString(s.rng.nextLong() >>> 8),
                    "revenue", Math.round(cart * 100) / 100.0, "currency", "USD", "items", items));
        }
    }

    private static void useProduct(Session s, int day, int minFeatures, int maxFeatures, double ticketChance) {
        boolean firstEver = s.user.identifiedDevices.isEmpty();
        if (firstEver) {
            s.page("Sign up", "/signup");
            s.identify(traits(s.user));
            // The CRM learns about the new trial a minute later.
            s.events.add(new SimEvent("identify", "Contact Created", null, s.user.userId, s.clock + 60_000, 0L,
                    "salesforce", Map.of(), traits(s.user), null));
            s.track("Signed Up", Map.of("plan", "trial"));
            s.track("Trial Started", Map.of("plan", "pro", "trial_days", 14));
        } else {
            s.identifyIfDue(day);
        }
        s.page("App", "/app");
        int uses = minFeatures + s.rng.nextInt(maxFeatures - minFeatures + 1);
        // Power users spread over many features; churners stick to the first few.
        int reach = s.user.persona == Persona.CHURNING ? 3 : Catalog.FEATURES.size();
        for (int i = 0; i < uses; i++) {
            s.track("Feature Used", Map.of("feature", Catalog.FEATURES.get(s.rng.nextInt(reach))));
            s.gap(20, 300);
        }
        if (s.rng.nextDouble() < ticketChance) {
            s.page("Help", "/help");
        }
    }

    private static void readFromEmail(Session s, int day) {
        s.identifyIfDue(day);
        s.page("Spring Collection", "/campaigns/spring?utm_source=newsletter");
        int pages = s.rng.nextInt(3);
        for (int i = 0; i < pages; i++) {
            String category = Catalog.pick(s.rng, Catalog.CATEGORIES);
            s.page(category, "/c/" + slug(category));
        }
        if (s.rng.nextDouble() < 0.4) {
            s.viewProduct(Catalog.product(s.rng), 10, 60);
        }
    }

    /** Server-side calls of one day: payments (Stripe), tickets (Zendesk), marketing email (HubSpot). */
    static List<SimEvent> serverSide(SimUser user, int day, long dayStart, SplittableRandom rng) {
        List<SimEvent> events = new ArrayList<>();
        if (!user.activeOn(day)) {
            return events;
        }
        boolean saas = user.persona == Persona.SAAS_POWER_USER || user.persona == Persona.CHURNING;
        if (saas && day % 28 == user.billingDay && day > 0) {
            long at = dayStart + 3_600_000L + rng.nextLong(3_600_000L);
            double amount = user.persona == Persona.SAAS_POWER_USER ? 49.0 : 29.0;
            events.add(server(user, "stripe", "Charge Succeeded", at,
                    Map.of("amount", amount, "currency", "USD", "invoice_id", "in_" + Long.toHexString(rng.nextLong() >>> 8))));
            events.add(server(user, "stripe", "Subscription Renewed", at + 2_000,
                    Map.of("plan", "pro", "amount", amount)));
        }
        if (saas) {
            double ticketChance = user.persona == Persona.CHURNING ? 0.08 + 0.35 * progressToChurn(user, day) : 0.02;
            if (rng.nextDouble() < ticketChance) {
                events.add(server(user, "zendesk", "Ticket Created", dayStart + rng.nextLong(SimUser.DAY_MS),
                        Map.of("ticket_id", "t-" + Long.toHexString(rng.nextLong() >>> 12),
                                "priority", rng.nextDouble() < 0.3 ? "high" : "normal",
                                "subject", Catalog.pick(rng, List.of("Export fails", "Billing question",
                                        "Cannot log in", "Slow dashboards", "How to cancel")))));
            }
        }
        double openChance = switch (user.persona) {
            case EMAIL_ENGAGED_NON_TRIALIST -> 0.7;
            case BUNDLE_BUYER, SAAS_POWER_USER -> 0.15;
            default -> user.identifyDay >= 0 && day >= user.identifyDay ? 0.05 : 0.0;
        };
        if (rng.nextDouble() < openChance) {
            long at = dayStart + 6 * 3_600_000L + rng.nextLong(14 * 3_600_000L);
            String campaign = Catalog.pick(rng, List.of("spring-collection", "weekly-digest", "product-tips"));
            events.add(server(user, "hubspot", "Email Opened", at, Map.of("campaign", campaign)));
            if (rng.nextDouble() < (user.persona == Persona.EMAIL_ENGAGED_NON_TRIALIST ? 0.5 : 0.2)) {
                events.add(server(user, "hubspot", "Email Link Clicked", at + 30_000 + rng.nextLong(600_000),
                        Map.of("campaign", campaign, "link", "https://shop.example.com/campaigns/" + campaign)));
            }
        }
        return events;
    }

    private static SimEvent server(SimUser user, String source, String event, long at, Map<String, Object> props) {
        return new SimEvent("track", event, null, user.userId, at, 0L, source, props, traits(user), null);
    }

    private static Map<String, Object> withQuantity(Map<String, Object> product) {
        Map<String, Object> props = new LinkedHashMap<>(product);
        props.put("quantity", 1);
        return props;
    }

    static String slug(String name) {
        return name.toLowerCase(Locale.ROOT).replace("'", "").replace(' ', '-');
    }
}
