package io.cohortflow.core.segment;

import io.cohortflow.core.codec.JsonCodec;
import io.cohortflow.core.engine.Outcome;
import io.cohortflow.core.engine.Ruleset;
import io.cohortflow.core.engine.UserSegments;
import io.cohortflow.core.feature.EventTimeline;
import io.cohortflow.core.testing.Events;
import io.cohortflow.core.testing.GeneratedSegments;
import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;

import static org.assertj.core.api.Assertions.assertThat;

/** The profile's hand-driven JSON is the object mapper's, byte for byte. */
class SegmentProfileCodecTest {
    private static final long T0 = 1_772_445_600_000L; // 2026-03-02T10:00:00Z
    private static final long HOUR = 3_600_000L;
    /** The object mapper's encoding, which the codec's replaces. */
    private static final JsonCodec<SegmentProfile> MAPPERS = new JsonCodec<>(SegmentProfile.class) { };
    private static final SegmentProfileCodec CODEC = new SegmentProfileCodec();

    /**
     * Every profile the engine publishes for simulated behaviour (views with products, carts, orders, identifies with
     * traits; shipped and generated segments; time passing), and each one read back, encodes as the mapper encodes it.
     */
    @Test
    void everyProfileTheEnginePublishesIsWrittenAsTheMapperWritesIt() {
        Ruleset rules = GeneratedSegments.withShipped(100, 3);
        String[] names = {"product_view", "add_to_cart", "order_completed", "page_view", "email_opened",
                "feature_used", "checkout_started", "a custom \"event\" é"};
        Random random = new Random(3);
        int profiles = 0;
        for (int user = 0; user < 30; user++) {
            UserSegments engine = new UserSegments();
            String id = "user-" + user + (user % 7 == 0 ? "-ü\\\"" : "");
            long t = T0;
            for (int i = 0; i < 80; i++) {
                t += (long) (random.nextDouble() * random.nextDouble() * 12 * HOUR);
                Outcome outcome;
                if (random.nextInt(8) == 0) {
                    outcome = engine.advanceTo(id, t, rules, 0);
                } else {
                    String name = names[random.nextInt(names.length)];
                    Events event = i == 3 ? Events.identify(id, t).trait("email", "Person" + user + "@Example.com")
                            .trait("phone", "+1 555 0100") : Events.track(id, name, t);
                    if (name.equals("product_view") || name.equals("add_to_cart")) {
                        event.with("product_id", "p" + random.nextInt(20)).with("price", random.nextInt(3) == 0
                                ? (Object) (long) random.nextInt(100) : 9.99 * random.nextInt(30))
                                .with("name", "Shoe \"" + random.nextInt(5) + "\"").with("category", "shoes");
                    }
                    if (name.equals("order_completed")) {
                        event.with("revenue", random.nextDouble() * 300);
                    }
                    outcome = engine.apply(id, event.build(), rules, 0);
                }
                if (outcome.profile().isPresent()) {
                    SegmentProfile profile = outcome.profile().get();
                    assertSameBytes(profile);
                    assertSameBytes(CODEC.decode(CODEC.encode(profile))); // as the console reads it back
                    profiles++;
                }
            }
        }
        assertThat(profiles).isGreaterThan(1_500);
    }

    /** Values at the edges of what a profile's maps can hold, and of types the codec leaves to the mapper. */
    @Test
    void edgeValuesAreWrittenAsTheMapperWritesThem() {
        Map<String, Double> features = new LinkedHashMap<>();
        features.put("nan", Double.NaN);
        features.put("infinite", Double.POSITIVE_INFINITY);
        features.put("negative zero", -0.0);
        features.put("tiny", Double.MIN_VALUE);
        // Whole ones are written from the codec's own table below 1024, and by Double.toString from there on.
        for (double whole : new double[] {0.0, 1.0, 7.0, 1023.0, 1024.0, 1e7, 1e300, -1.0, -1023.0, 1023.5, 0.1}) {
            features.put("whole " + whole, whole);
        }
        features.put("none", null);
        Map<String, Object> traits = new LinkedHashMap<>();
        traits.put("nested", List.of(Map.of("a", List.of(1, 2L, 3.5, true)), List.of()));
        traits.put("set", new TreeSet<>(Set.of("b", "a")));
        traits.put("decimal", new BigDecimal("1.10"));
        traits.put("escapes", "\u0000\t\n\"\\ \u2028 😀");
        traits.put("float", 1.5f);
        traits.put("short", (short) 7);
        Map<String, Object> inputs = new HashMap<>();
        inputs.put("events", new EventTimeline(T0, Map.of(
                "b_event", new EventTimeline.Event(new long[] {1, 2}, new int[] {3, 4}, new long[0], new int[0],
                        new long[] {20_000}, new int[] {7}, new long[] {T0 - 5, T0}),
                "a_event", new EventTimeline.Event(new long[0], new int[0], new long[] {5}, new int[] {1},
                        new long[0], new int[0], new long[0]))));
        inputs.put("recency_days", 0.5);
        inputs.put("empty", Map.of());
        SegmentProfile edges = new SegmentProfile("u", T0, List.of("a", "persona_b"), features, Map.of("churn", 0.25),
                "B", "bundle@v3", null, traits, inputs);
        assertSameBytes(edges);
        assertThat(new String(CODEC.encode(edges), java.nio.charset.StandardCharsets.UTF_8))
                .as("written by the codec itself, not handed whole to the mapper")
                .contains("\"negative zero\":-0.0,").contains("\"whole 7.0\":7.0,").contains("\"whole 1.0E7\":1.0E7,");
        // A map keyed by other than strings: the mapper writes the whole profile.
        Map<String, Object> longKeys = new LinkedHashMap<>(traits);
        longKeys.put("long keys", Map.of(1L, "one"));
        assertSameBytes(new SegmentProfile("u", T0, List.of("a"), features, Map.of(), null, "none", null, longKeys,
                inputs));
        assertSameBytes(new SegmentProfile("u", T0, List.of(), Map.of(), Map.of(), null, "none", "other", null,
                null));
        assertSameBytes(SegmentProfile.tombstone("u"));
    }

    /**
     * Keys are written from the names kept since their first profile, up to a bound: past it, a new key is written as
     * it is. Both ways, and the same profile again, give the mapper's bytes (keys that need escaping included).
     */
    @Test
    void keysPastTheNamesKeptAreWrittenAsTheMapperWritesThem() {
        Map<String, Object> traits = new LinkedHashMap<>();
        for (int i = 0; i < 10_050; i++) {
            traits.put("trait " + i + (i % 97 == 0 ? " \"é\"\n\u0001" : ""), i);
        }
        SegmentProfile profile = new SegmentProfile("u", T0, List.of("a"), Map.of("recency", 1.0), Map.of(), null,
                "none", null, traits, Map.of());
        assertSameBytes(profile);
        assertSameBytes(profile);
    }

    private static void assertSameBytes(SegmentProfile profile) {
        assertThat(new String(CODEC.encode(profile), java.nio.charset.StandardCharsets.UTF_8))
                .isEqualTo(new String(MAPPERS.encode(profile), java.nio.charset.StandardCharsets.UTF_8));
    }
}
