package io.cohortflow.simulator;

import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.PriorityQueue;
import java.util.SplittableRandom;

/**
 * Generates the deliveries of a simulated population, day by day, in the order the collector receives them.
 *
 * <p>Deterministic: every random choice comes from a generator seeded by (seed, person, day), so the same config gives
 * the same deliveries, byte for byte, whatever the consumer does. Memory is bounded by one day of traffic plus the
 * few late deliveries that spill into the next day.
 */
public final class Simulator implements Iterable<Delivery> {
    /** The seed's visitor: an anonymous cookie id, later identified as {@link #JANE_USER_ID}. */
    public static final String JANE_ANONYMOUS_ID = "anon_123xyz";
    public static final String JANE_USER_ID = "user_jane";

    private static final long HOUR_MS = 3_600_000L;
    private static final Comparator<Pending> ORDER =
            Comparator.comparingLong((Pending p) -> p.delivery.deliveredAt()).thenComparingLong(p -> p.seq);

    private final SimulatorConfig config;
    private final List<SimUser> users;
    /** The first person simulated: 0, or where {@link #people}'s part of the population starts. */
    private final int first;

    private record Pending(Delivery delivery, long seq) {
    }

    public Simulator(SimulatorConfig config) {
        this(config, 0, config.users());
    }

    private Simulator(SimulatorConfig config, int from, int to) {
        this.config = config;
        this.first = from;
        List<SimUser> created = new ArrayList<>(to - from);
        for (int i = from; i < to; i++) {
            created.add(SimUser.create(i, config, rng(i, -1), rng(i, -2)));
        }
        this.users = List.copyOf(created);
    }

    /**
     * The people {@code from} (inclusive) to {@code to} (exclusive) of {@code config}'s population, for a population
     * too large to simulate at once (a day of a million people's deliveries does not fit in a few GB): each person is
     * the same person, with the same events at the same times, as in the whole simulation, and the parts together are
     * the whole population. What the parts do not share with the whole is the draw of each delivery's delay (50 ms to
     * 1.5 s, and lateness and duplicates at their rates) and of its message id, made in order over a day's events:
     * each part draws its own. The part from 0 plays the seed story, if the config has it.
     */
    public static Simulator people(SimulatorConfig config, int from, int to) {
        if (from < 0 || to > config.users() || from > to) {
            throw new IllegalArgumentException("people " + from + " to " + to + " are not a part of " + config.users());
        }
        return new Simulator(config, from, to);
    }

    /** Whether this simulation plays the seed story: it has it, and holds the population's start. */
    private boolean playsStory() {
        return config.seedStory() && first == 0;
    }

    public SimulatorConfig config() {
        return config;
    }

    /** What each simulated person is, for evaluating models against; includes the seed story's visitor. */
    public List<GroundTruth> groundTruth() {
        List<GroundTruth> truth = new ArrayList<>();
        for (SimUser u : users) {
            truth.add(new GroundTruth(u.userId, u.persona,
                    u.devices.stream().map(SimUser.Device::anonymousId).toList(), u.identifyDay, u.churns(),
                    u.churns() ? dayStart(u.churnDay) : -1));
        }
        if (playsStory()) {
            truth.add(new GroundTruth(JANE_USER_ID, Persona.BUNDLE_BUYER, List.of(JANE_ANONYMOUS_ID),
                    config.storyDay(), false, -1));
        }
        return truth;
    }

    /** Every delivery, ordered by delivery time. */
    @Override
    public Iterator<Delivery> iterator() {
        return new DeliveryIterator();
    }

    public long dayStart(int day) {
        return config.start().toEpochMilli() + day * SimUser.DAY_MS;
    }

    private final class DeliveryIterator implements Iterator<Delivery> {
        private final PriorityQueue<Pending> pending = new PriorityQueue<>(ORDER);
        /** Bundles people will come back to buy (see {@link Journeys#buildLook}), by person. */
        private final java.util.Map<Integer, SimUser.PendingBundle> bundles = new java.util.HashMap<>();
        private int nextDay;
        private long seq;

        @Override
        public boolean hasNext() {
            // Generate until something is due before the start of the next day (or all days are generated).
            while (nextDay < config.days()
                    && (pending.isEmpty() || pending.peek().delivery.deliveredAt() >= dayStart(nextDay))) {
                generateDay(nextDay++);
            }
            return !pending.isEmpty();
        }

        @Override
        public Delivery next() {
            if (!hasNext()) {
                throw new NoSuchElementException();
            }
            return pending.poll().delivery;
        }

        private void generateDay(int day) {
            List<SimEvent> events = new ArrayList<>();
            for (SimUser user : users) {
                SplittableRandom rng = rng(user.index, day);
                int sessions = poisson(rng, user.sessionRate(day));
                for (int s = 0; s < sessions; s++) {
                    SimUser.Device device = user.devices.get(rng.nextInt(user.devices.size()));
                    events.addAll(Journeys.session(user, device, day, dayStart(day) + sessionStartOffset(rng), rng,
                            bundles));
                }
                events.addAll(Journeys.serverSide(user, day, dayStart(day), rng));
                SimUser.PendingBundle bundle = bundles.get(user.index);
                if (bundle != null && bundle.at() < dayStart(day + 1)) {
                    bundles.remove(user.index);
                    if (user.activeOn(day)) {
                        events.addAll(Journeys.completeBundle(user, bundle, rng));
                    }
                }
            }
            // The day's delivery draws: a generator no person's is (persons count up from 0), of its own for each part.
            SplittableRandom rng = rng(Integer.MAX_VALUE - first, day);
            for (SimEvent event : events) {
                enqueue(event, rng, true);
            }
            if (playsStory()) {
                // The seed story plays exactly as written: no late, duplicate or broken deliveries of it.
                for (SimEvent event : SeedStory.day(day - config.storyDay(), dayStart(day))) {
                    enqueue(event, rng, false);
                }
            }
        }

        private void enqueue(SimEvent event, SplittableRandom rng, boolean withFaults) {
            // Most deliveries take well under a second; a few sit in an offline mobile queue for minutes.
            long delay = withFaults && rng.nextDouble() < config.lateRate()
                    ? 60_000L + rng.nextLong(30 * 60_000L)
                    : 50L + rng.nextLong(1_500L);
            long deliveredAt = event.trueTime() + delay;
            String messageId = Payloads.messageId(rng);
            ObjectNode json = Payloads.json(event, messageId, deliveredAt);
            // Like a collector: the device id first, so all calls of a device (before and after login) share a
            // partition and keep their order; server-side calls have only the user id.
            String key = event.anonymousId() != null ? event.anonymousId() : event.userId();
            add(new Delivery(key, event.source(), Payloads.bytes(json), deliveredAt, "event"));
            if (withFaults && rng.nextDouble() < config.duplicateRate()) {
                // A retry after a lost acknowledgement: same messageId, same payload, a little later.
                long retryAt = deliveredAt + 1_000L + rng.nextLong(10 * 60_000L);
                add(new Delivery(key, event.source(), Payloads.bytes(Payloads.json(event, messageId, retryAt)),
                        retryAt, "duplicate"));
            }
            // Broken payloads come from SDK traffic (webhook senders are servers with fixed schemas).
            if (withFaults && Payloads.isSdkSource(event.source()) && rng.nextDouble() < config.malformedRate()) {
                String kind = Payloads.MALFORMED_KINDS.get(rng.nextInt(Payloads.MALFORMED_KINDS.size()));
                add(new Delivery(null, event.source(), Payloads.malformed(kind, json, rng), deliveredAt + 1,
                        "malformed:" + kind));
            }
        }

        private void add(Delivery delivery) {
            pending.add(new Pending(delivery, seq++));
        }
    }

    /** Most sessions happen between 07:00 and 23:00. */
    private static long sessionStartOffset(SplittableRandom rng) {
        int hour = rng.nextDouble() < 0.9 ? 7 + rng.nextInt(16) : rng.nextInt(24);
        return hour * HOUR_MS + rng.nextLong(HOUR_MS);
    }

    private static int poisson(SplittableRandom rng, double mean) {
        if (mean <= 0) {
            return 0;
        }
        double limit = Math.exp(-mean);
        double product = rng.nextDouble();
        int n = 0;
        while (product > limit) {
            product *= rng.nextDouble();
            n++;
        }
        return n;
    }

    private SplittableRandom rng(int person, int day) {
        long mixed = config.seed() * 0x9E3779B97F4A7C15L + person * 0xBF58476D1CE4E5B9L + (day + 7L) * 0x94D049BB133111EBL;
        return new SplittableRandom(mixed);
    }

    /** The seed document's story, event by event. */
    static final class SeedStory {
        private SeedStory() {
        }

        /** Her events on the {@code day}-th day from her visit. */
        static List<SimEvent> day(int day, long dayStart) {
            List<SimEvent> events = new ArrayList<>();
            if (day == 0) {
                long t = dayStart + 10 * HOUR_MS; // 10:00, arriving from a social ad for running shoes
                events.add(page(t, "Home", "/?utm_source=social&utm_campaign=running-shoes"));
                events.add(page(t += 20_000, "Men's Running Shoes", "/c/mens-running-shoes"));
                events.add(track(t += 25_000, "Products Searched", Map.of("query", "trail running shoes")));
                Catalog.Product shoes = Catalog.PRODUCTS.get(0);
                events.add(track(t += 15_000, "Product Viewed", shoes.properties()));
                // 90 seconds on the product page, reading reviews
                Map<String, Object> added = new java.util.LinkedHashMap<>(shoes.properties());
                added.put("quantity", 1);
                events.add(track(t += 90_000, "Product Added", added));
                events.add(page(t += 30_000, "Women's Jackets", "/c/womens-jackets"));
                for (Catalog.Product jacket : Catalog.PRODUCTS.subList(4, 7)) {
                    events.add(track(t += 40_000, "Product Viewed", jacket.properties()));
                }
                // "browsing related but different categories": trail gear, for the trail shoes
                events.add(page(t += 30_000, "Trail Gear", "/c/trail-gear"));
                events.add(track(t += 30_000, "Product Viewed", Catalog.PRODUCTS.get(8).properties()));
                // ...then a few minutes of inactivity, and she leaves. That evening she comes back and signs up.
                t = dayStart + 19 * HOUR_MS;
                events.add(new SimEvent("identify", null, JANE_ANONYMOUS_ID, JANE_USER_ID, t, 0L, "web", Map.of(),
                        Map.of("email", "Jane.Doe@Example.com", "name", "Jane Doe"), null));
                events.add(new SimEvent("page", "Home", JANE_ANONYMOUS_ID, JANE_USER_ID, t + 5_000, 0L, "web",
                        Map.of("path", "/", "title", "Home", "url", "https://shop.example.com/"), Map.of(), null));
            }
            return events;
        }

        private static SimEvent page(long t, String name, String path) {
            return new SimEvent("page", name, JANE_ANONYMOUS_ID, null, t, 0L, "web",
                    Map.of("path", path, "title", name, "url", "https://shop.example.com" + path), Map.of(), null);
        }

        private static SimEvent track(long t, String event, Map<String, Object> props) {
            return new SimEvent("track", event, JANE_ANONYMOUS_ID, null, t, 0L, "web", props, Map.of(), null);
        }
    }
}
