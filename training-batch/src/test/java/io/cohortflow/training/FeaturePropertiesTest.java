package io.cohortflow.training;

import io.cohortflow.core.event.EventTaxonomy;
import io.cohortflow.core.event.UnifiedEvent;
import io.cohortflow.core.feature.FeatureConfig;
import io.cohortflow.core.feature.FeatureSnapshot;
import io.cohortflow.core.feature.UserFeatures;
import io.cohortflow.core.testing.Events;
import io.cohortflow.core.training.ChurnLabels;
import io.cohortflow.ingest.mapping.IngestMapper;
import io.cohortflow.ingest.mapping.RawEvent;
import io.cohortflow.simulator.Delivery;
import io.cohortflow.simulator.Simulator;
import io.cohortflow.simulator.SimulatorConfig;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The training reads only the properties of {@link ChurnLabels#PROPERTIES_READ} from the history. Over simulated
 * people (every kind of event the simulator sends, through the ingest mapper), their features, traits and labels with
 * only those properties are the same as with all of them: a feature that starts reading another property fails here
 * until the property is listed, instead of the nightly training silently computing it from nothing.
 */
class FeaturePropertiesTest {
    private static final Instant START = Instant.parse("2026-01-05T00:00:00Z");
    private static final int DAYS = 45;
    private static final FeatureConfig CONFIG = FeatureConfig.defaults();
    private static final List<String> NAMES = EventTaxonomy.defaults().canonicalNames().stream().sorted().toList();
    private static final ChurnLabels LABELS = new ChurnLabels(Duration.ofDays(14), Set.of("page_view", "product_view",
            "product_search", "add_to_cart", "order_completed", "feature_used", "checkout_started"),
            ChurnLabels.DEFAULT_BUNDLE_WINDOW, ChurnLabels.DEFAULT_LOOKBACK);

    @ParameterizedTest(name = "realism {0}")
    @ValueSource(doubles = {0.0, 1.0})
    void theFeaturesOfTheReadPropertiesAreTheFeaturesOfAll(double realism) {
        Map<String, List<UnifiedEvent>> byUser = simulate(realism);
        long[] times = cutoffs();
        int slimmed = 0;
        int examples = 0;
        for (Map.Entry<String, List<UnifiedEvent>> user : byUser.entrySet()) {
            List<UnifiedEvent> all = user.getValue().stream()
                    .sorted(java.util.Comparator.comparingLong(UnifiedEvent::timestamp)).toList();
            List<UnifiedEvent> read = all.stream()
                    .map(e -> Events.withOnlyProperties(e, ChurnLabels.PROPERTIES_READ)).toList();
            UserFeatures fromAll = new UserFeatures(CONFIG);
            UserFeatures fromRead = new UserFeatures(CONFIG);
            int next = 0;
            for (long t : times) {
                while (next < all.size() && all.get(next).timestamp() <= t) {
                    slimmed += all.get(next).properties().size() > read.get(next).properties().size() ? 1 : 0;
                    fromAll.add(all.get(next));
                    fromRead.add(read.get(next));
                    next++;
                }
                fromAll.prune(t);
                fromRead.prune(t);
                String at = user.getKey() + " at " + Instant.ofEpochMilli(t);
                assertThat(fromRead.snapshot(t, NAMES)).as(at).isEqualTo(fromAll.snapshot(t, NAMES));
                assertThat(fromRead.traits().asMap()).as(at).isEqualTo(fromAll.traits().asMap());
                Optional<ChurnLabels.Example> expected = LABELS.example(user.getKey(), all, t, CONFIG, NAMES);
                assertThat(LABELS.example(user.getKey(), read, t, CONFIG, NAMES)).as(at).isEqualTo(expected);
                examples += expected.isPresent() ? 1 : 0;
            }
        }
        assertThat(slimmed).as("events that lost a property the features do not read").isGreaterThan(1_000);
        assertThat(examples).as("labelled examples compared").isGreaterThan(100);
    }

    /**
     * The training reads fewer still ({@link ChurnLabels#MODEL_PROPERTIES_READ}) and its shuffle carries only part of
     * each event (the {@link EventBytes.Encoder}'s bytes: no ids but the key's user, no sent or received
     * times): its rows are the model features and the labels, which are the same as from the whole events, though many
     * events lose a property the profile's traits read (the product's name) and many their anonymous id.
     */
    @ParameterizedTest(name = "realism {0}")
    @ValueSource(doubles = {0.0, 1.0})
    void theRowsOfTheShuffledEventsAreTheRowsOfWholeEvents(double realism) throws Exception {
        Map<String, List<UnifiedEvent>> byUser = simulate(realism);
        long[] times = cutoffs();
        int examples = 0;
        int lostName = 0;
        int lostAnonymousId = 0;
        EventBytes.Encoder encoder = new EventBytes.Encoder();
        EventBytes.Decoder decoder = new EventBytes.Decoder();
        for (Map.Entry<String, List<UnifiedEvent>> user : byUser.entrySet()) {
            List<UnifiedEvent> all = user.getValue();
            List<UnifiedEvent> read = new ArrayList<>();
            for (UnifiedEvent e : all) {
                read.add(decoder.decode(encoder.encode(Events.withOnlyProperties(e, ChurnLabels.MODEL_PROPERTIES_READ)),
                        user.getKey()));
            }
            for (int i = 0; i < all.size(); i++) {
                lostName += all.get(i).properties().containsKey("name") && !read.get(i).properties().containsKey("name")
                        ? 1 : 0;
                lostAnonymousId += all.get(i).anonymousId() != null && read.get(i).anonymousId() == null ? 1 : 0;
            }
            FeatureSnapshot[] fromAll = ChurnLabels.featuresAsOf(all, times, CONFIG, NAMES);
            FeatureSnapshot[] fromRead = ChurnLabels.featuresAsOf(read, times, CONFIG, NAMES);
            for (int i = 0; i < times.length; i++) {
                String at = user.getKey() + " at " + Instant.ofEpochMilli(times[i]);
                assertThat(fromRead[i].modelVector()).as(at).containsExactly(fromAll[i].modelVector());
                Optional<ChurnLabels.Example> expected = LABELS.example(user.getKey(), all, times[i], fromAll[i]);
                Optional<ChurnLabels.Example> actual = LABELS.example(user.getKey(), read, times[i], fromRead[i]);
                assertThat(actual.isPresent()).as(at).isEqualTo(expected.isPresent());
                if (expected.isPresent()) {
                    assertThat(actual.get().vector()).as(at).containsExactly(expected.get().vector());
                    assertThat(actual.get().churned()).as(at).isEqualTo(expected.get().churned());
                    assertThat(actual.get().boughtBundle()).as(at).isEqualTo(expected.get().boughtBundle());
                    examples++;
                }
            }
        }
        assertThat(examples).as("labelled examples compared").isGreaterThan(100);
        assertThat(lostName).as("events read without their product's name").isGreaterThan(1_000);
        assertThat(lostAnonymousId).as("events shuffled without their anonymous id").isGreaterThan(1_000);
    }

    /** The times compared: a month, two weeks and three days before the simulation's end, and its end. */
    private static long[] cutoffs() {
        long end = START.toEpochMilli() + DAYS * UserFeatures.DAY;
        return new long[] {end - 30 * UserFeatures.DAY, end - 14 * UserFeatures.DAY, end - 3 * UserFeatures.DAY, end};
    }

    private static Map<String, List<UnifiedEvent>> simulate(double realism) {
        Simulator simulator = new Simulator(SimulatorConfig.of(31, 250, DAYS, START).withRates(0, 0, 0)
                .withSeedStory(false).withRealism(realism));
        IngestMapper mapper = new IngestMapper(EventTaxonomy.defaults(), IngestMapper.loadMappings(null), 32 * 1024,
                Duration.ofHours(1), Duration.ofDays(3650));
        Map<String, List<UnifiedEvent>> byUser = new TreeMap<>();
        for (Delivery d : simulator) {
            for (UnifiedEvent e : mapper.map(new RawEvent(d.payload(), d.source(), d.deliveredAt())).events()) {
                byUser.computeIfAbsent(e.resolvedId(), k -> new ArrayList<>()).add(e);
            }
        }
        return byUser;
    }
}
