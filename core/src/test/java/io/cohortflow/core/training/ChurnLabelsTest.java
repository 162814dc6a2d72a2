package io.cohortflow.core.training;

import io.cohortflow.core.event.EventTaxonomy;
import io.cohortflow.core.event.EventType;
import io.cohortflow.core.event.UnifiedEvent;
import io.cohortflow.core.feature.FeatureConfig;
import io.cohortflow.core.feature.FeatureSnapshot;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

class ChurnLabelsTest {
    private static final long DAY = 86_400_000L;
    private static final long CUTOFF = Instant.parse("2026-04-01T00:00:00Z").toEpochMilli();
    private static final ChurnLabels LABELS = new ChurnLabels(Duration.ofDays(14),
            Set.of("page_view", "product_view", "feature_used", "order_completed"));
    private static final Set<String> NAMES = EventTaxonomy.defaults().canonicalNames();
    private final FeatureConfig config = FeatureConfig.defaults();
    private int seq;

    @Test
    void labelsChurnersByTheHorizonAndSkipsPeopleWhoWereNotThere() {
        List<UnifiedEvent> stays = List.of(event("page_view", CUTOFF - 20 * DAY), event("page_view", CUTOFF - 3 * DAY));
        List<UnifiedEvent> leaves = List.of(event("page_view", CUTOFF - 20 * DAY), event("email_opened", CUTOFF - 3 * DAY));
        List<UnifiedEvent> lapsing = List.of(event("page_view", CUTOFF - 200 * DAY));
        List<UnifiedEvent> gone = List.of(event("page_view", CUTOFF - 400 * DAY));
        assertThat(LABELS.example("u1", stays, CUTOFF, config, NAMES)).get()
                .satisfies(e -> assertThat(e.churned()).isFalse());
        assertThat(LABELS.example("u2", leaves, CUTOFF, config, NAMES)).get()
                .as("an email opened is not activity").satisfies(e -> assertThat(e.churned()).isTrue());
        assertThat(LABELS.example("u3", lapsing, CUTOFF, config, NAMES)).as("active in the year: in the population")
                .get().satisfies(e -> assertThat(e.churned()).isTrue())
                .satisfies(e -> assertThat(e.features().recencyDays()).isEqualTo(186.0));
        assertThat(LABELS.example("u4", gone, CUTOFF, config, NAMES)).as("not active in the year before").isEmpty();
        ChurnLabels month = new ChurnLabels(Duration.ofDays(14), Set.of("page_view"), Duration.ofDays(3),
                Duration.ofDays(30));
        assertThat(month.example("u3", lapsing, CUTOFF, config, NAMES)).as("a shorter lookback").isEmpty();
        assertThat(month.current(stays, CUTOFF, config, NAMES)).get()
                .satisfies(f -> assertThat(f.recencyDays()).isEqualTo(3.0));
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> new ChurnLabels(Duration.ofDays(14), Set.of("page_view"),
                Duration.ofDays(3), Duration.ofDays(400))).hasMessageContaining("at most 365 days");
    }

    @Test
    void nothingAfterTheFeatureTimeLeaksIntoTheFeatures() {
        List<UnifiedEvent> history = new ArrayList<>();
        for (int d = 40; d >= 15; d -= 3) {
            history.add(event("page_view", CUTOFF - d * DAY));
            history.add(event("product_view", CUTOFF - d * DAY + 60_000));
        }
        ChurnLabels.Example before = LABELS.example("u1", history, CUTOFF, config, NAMES).orElseThrow();

        // Everything that happens after T - H: a big order, feature use, tickets, even events past the cutoff.
        List<UnifiedEvent> withFuture = new ArrayList<>(history);
        withFuture.add(event("order_completed", CUTOFF - 10 * DAY, Map.of("revenue", 5_000.0)));
        withFuture.add(event("feature_used", CUTOFF - 9 * DAY, Map.of("feature", "api")));
        withFuture.add(event("support_ticket_created", CUTOFF - 8 * DAY));
        withFuture.add(event("page_view", CUTOFF - 14 * DAY + 1));
        withFuture.add(event("page_view", CUTOFF + DAY));
        ChurnLabels.Example after = LABELS.example("u1", withFuture, CUTOFF, config, NAMES).orElseThrow();

        assertThat(after.features()).as("features as of T - H").isEqualTo(before.features());
        assertThat(after.vector()).containsExactly(before.vector());
        assertThat(before.churned()).isTrue();
        assertThat(after.churned()).as("only the label sees the future").isFalse();
        assertThat(after.featureTime()).isEqualTo(CUTOFF - 14 * DAY);
    }

    @Test
    void aBundleIsAMultiItemOrderWithinTheBundleWindowAfterTheFeatureTime() {
        long featureTime = CUTOFF - 14 * DAY;
        List<UnifiedEvent> seen = List.of(event("page_view", featureTime - 2 * DAY));
        List<UnifiedEvent> bundle = new ArrayList<>(seen);
        bundle.add(event("order_completed", featureTime + 2 * DAY, Map.of("items", 3)));
        List<UnifiedEvent> single = new ArrayList<>(seen);
        single.add(event("order_completed", featureTime + DAY, Map.of("items", 1)));
        List<UnifiedEvent> tooLate = new ArrayList<>(seen);
        tooLate.add(event("order_completed", featureTime + 4 * DAY, Map.of("items", 2)));
        List<UnifiedEvent> before = List.of(event("order_completed", featureTime - DAY, Map.of("items", 4)));

        assertThat(LABELS.example("u1", bundle, CUTOFF, config, NAMES).orElseThrow().boughtBundle()).isTrue();
        assertThat(LABELS.example("u1", single, CUTOFF, config, NAMES).orElseThrow().boughtBundle()).isFalse();
        assertThat(LABELS.example("u1", tooLate, CUTOFF, config, NAMES).orElseThrow().boughtBundle())
                .as("72 hours by default").isFalse();
        assertThat(LABELS.example("u1", before, CUTOFF, config, NAMES).orElseThrow().boughtBundle())
                .as("an order before the feature time is a feature, not the label").isFalse();
    }

    /**
     * The replay's order is a stable sort by time: events of one time keep the order they came in (the features of
     * two events of one moment can depend on it: the cart's add and remove). Times the packed sort cannot hold (before
     * 1970) sort all the same, and a sorted history comes back as it is.
     */
    @Test
    void eventsReplayInTimeOrderThoseOfOneTimeInTheOrderGiven() {
        java.util.Random random = new java.util.Random(5);
        for (int round = 0; round < 200; round++) {
            List<UnifiedEvent> events = new ArrayList<>();
            int n = random.nextInt(60);
            boolean early = round % 10 == 0;
            for (int i = 0; i < n; i++) {
                long t = (early ? -5 * DAY : CUTOFF) + random.nextInt(8) * DAY + random.nextInt(3);
                events.add(event("page_view", t));
            }
            if (round % 7 == 0) {
                events.sort(java.util.Comparator.comparingLong(UnifiedEvent::timestamp));
            }
            List<UnifiedEvent> expected = new ArrayList<>(events);
            expected.sort(java.util.Comparator.comparingLong(UnifiedEvent::timestamp)); // List.sort is stable
            assertThat(ChurnLabels.inTimeOrder(events)).as("round %d", round).containsExactlyElementsOf(expected);
        }
    }

    private UnifiedEvent event(String name, long t) {
        return event(name, t, Map.of());
    }

    private UnifiedEvent event(String name, long t, Map<String, Object> properties) {
        return new UnifiedEvent("m" + seq++, EventType.TRACK, name, null, "u1", "u1", t, null, t, "web", null,
                properties, Map.of(), Map.of());
    }

    /**
     * One replay of a varied year (sessions, orders with items, carts, features, gaps longer than a session and than a
     * year's tenure) for many times in any order gives, at each, the features of a replay up to that time alone.
     */
    @Test
    void oneReplayForManyTimesGivesTheFeaturesOfAReplayForEach() {
        java.util.Random random = new java.util.Random(3);
        String[] names = {"page_view", "product_view", "add_to_cart", "order_completed", "feature_used",
                "email_opened", "checkout_started", "support_ticket_created"};
        List<UnifiedEvent> events = new ArrayList<>();
        long t = CUTOFF - 420 * DAY;
        for (int i = 0; i < 600; i++) {
            t += (long) (random.nextDouble() * random.nextDouble() * (random.nextInt(40) == 0 ? 200 : 3) * DAY);
            String name = names[random.nextInt(names.length)];
            events.add(new UnifiedEvent("m" + seq++, EventType.TRACK, name, null, "u1", "u1", t, null, t, "web", null,
                    Map.of("revenue", 10.0 * random.nextInt(9), "items", 1 + random.nextInt(3), "product_id",
                            "sku-" + random.nextInt(12), "category", "c" + random.nextInt(4), "price", 19.5,
                            "feature", random.nextBoolean() ? "dashboards" : "api"), Map.of(), Map.of()));
        }
        java.util.Collections.shuffle(events, random); // "in any order"
        long[] times = new long[40];
        for (int i = 0; i < times.length; i++) {
            times[i] = CUTOFF - random.nextInt(400) * DAY - random.nextInt(86_400_000);
        }
        times[3] = times[7]; // the same time twice
        for (int i = 10; i < 20; i++) {
            times[i] = events.get(i * 17).timestamp(); // an event at the very time counts in it
        }
        var together = ChurnLabels.featuresAsOf(events, times, config, NAMES);
        for (int i = 0; i < times.length; i++) {
            long time = times[i];
            UnifiedEvent[] upTo = events.stream().filter(e -> e.timestamp() <= time).toArray(UnifiedEvent[]::new);
            assertThat(together[i]).as("as of %d", time)
                    .isEqualTo(ChurnLabels.featuresAsOf(events, new long[] {time}, config, NAMES)[0])
                    .isEqualTo(alone(List.of(upTo), time));
        }
    }

    /** The features as of {@code time} from its events alone, applied in order with nothing in between. */
    private FeatureSnapshot alone(List<UnifiedEvent> events, long time) {
        io.cohortflow.core.feature.UserFeatures features = new io.cohortflow.core.feature.UserFeatures(config);
        events.stream().sorted(java.util.Comparator.comparingLong(UnifiedEvent::timestamp)).forEach(features::add);
        features.prune(time);
        return features.snapshot(time, NAMES, false);
    }
}
