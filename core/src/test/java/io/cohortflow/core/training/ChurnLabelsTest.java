package io.cohortflow.core.training;

import io.cohortflow.core.event.EventTaxonomy;
import io.cohortflow.core.event.EventType;
import io.cohortflow.core.event.UnifiedEvent;
import io.cohortflow.core.feature.FeatureConfig;
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

    private UnifiedEvent event(String name, long t) {
        return event(name, t, Map.of());
    }

    private UnifiedEvent event(String name, long t, Map<String, Object> properties) {
        return new UnifiedEvent("m" + seq++, EventType.TRACK, name, null, "u1", "u1", t, null, t, "web", null,
                properties, Map.of(), Map.of());
    }
}
