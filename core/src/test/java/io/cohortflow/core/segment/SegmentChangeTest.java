package io.cohortflow.core.segment;

import io.cohortflow.core.codec.JsonCodec;
import io.cohortflow.core.engine.Outcome;
import io.cohortflow.core.engine.Ruleset;
import io.cohortflow.core.engine.UserSegments;
import io.cohortflow.core.testing.Events;
import io.cohortflow.core.testing.GeneratedSegments;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

class SegmentChangeTest {

    @Test
    void changeIdDependsOnlyOnUserSegmentTypeAndEventTime() {
        SegmentChange a = SegmentChange.of("u1", "s1", "S", ChangeType.ENTER, 1_000L, 0, 5L, Cause.rule("s1", null), Map.of(), "none");
        SegmentChange b = SegmentChange.of("u1", "s1", "S", ChangeType.ENTER, 1_000L, 0, 99L, Cause.rule("s1", "2"),
                Map.of("f", 1.0), "bundle@v2");
        assertThat(a.changeId()).as("a redelivery has the same id").isEqualTo(b.changeId());
        assertThat(SegmentChange.idFor("u1", "s1", ChangeType.EXIT, 1_000L, 0)).isNotEqualTo(a.changeId());
        assertThat(SegmentChange.idFor("u2", "s1", ChangeType.ENTER, 1_000L, 0)).isNotEqualTo(a.changeId());
        assertThat(SegmentChange.idFor("u1", "s1", ChangeType.ENTER, 1_001L, 0)).isNotEqualTo(a.changeId());
        assertThat(SegmentChange.idFor("u1", "s1", ChangeType.ENTER, 1_000L, 2))
                .as("re-entering within the same millisecond is another change").isNotEqualTo(a.changeId());
    }

    @Test
    void changeIdsAreTheNameBasedUuidsPublishedBefore() {
        // Consumers dedupe on these ids across a redeploy: they are UUID.nameUUIDFromBytes of the key, as ever.
        String[] users = {"u1", "user_jane", "anon_123xyz", "ünïcødé-🙂", ""};
        String[] segments = {"s1", "cart_abandoner", "persona_high_value_bundle_purchaser"};
        long[] times = {0L, 1_000L, -5L, Long.MAX_VALUE};
        for (String user : users) {
            for (String segment : segments) {
                for (ChangeType type : ChangeType.values()) {
                    for (long t : times) {
                        for (long ordinal : new long[] {0, 1, 41}) {
                            String key = user + '\u0000' + segment + '\u0000' + type + '\u0000' + t + '\u0000'
                                    + ordinal;
                            assertThat(SegmentChange.idFor(user, segment, type, t, ordinal)).isEqualTo(
                                    java.util.UUID.nameUUIDFromBytes(key.getBytes(StandardCharsets.UTF_8)).toString());
                        }
                    }
                }
            }
        }
        assertThat(SegmentChange.idFor("u1", "s1", ChangeType.ENTER, 1_000L, 0))
                .as("an id as published").isEqualTo("80a5f9bf-bba5-31d2-88dd-f9e1fcda60c3");
    }

    @Test
    void roundTripsThroughJson() {
        SegmentChangeCodec codec = new SegmentChangeCodec();
        SegmentChange change = SegmentChange.of("u1", "s1", "Segment One", ChangeType.EXIT, 1_000L, 1, 5L,
                Cause.rule("s1", null), Map.of("count", 2.0), "bundle@v1");
        assertThat(codec.decode(codec.encode(change))).isEqualTo(change);
        assertThat(codec.encodeToString(change)).contains("\"type\":\"EXIT\"", "\"kind\":\"rule\"");
    }

    /** The object mapper's encoding, which the codec's replaces. */
    private static final JsonCodec<SegmentChange> MAPPERS = new JsonCodec<>(SegmentChange.class) { };
    private static final SegmentChangeCodec CODEC = new SegmentChangeCodec();

    /**
     * Every change the engine publishes for simulated behaviour (shipped and generated segments, time passing, ids
     * that need escaping), and each one read back, encodes as the mapper encodes it.
     */
    @Test
    void everyChangeTheEnginePublishesIsWrittenAsTheMapperWritesIt() {
        Ruleset rules = GeneratedSegments.withShipped(100, 5);
        String[] names = {"product_view", "add_to_cart", "order_completed", "page_view", "email_opened",
                "feature_used", "checkout_started"};
        long t0 = 1_772_445_600_000L;
        Random random = new Random(5);
        int changes = 0;
        for (int user = 0; user < 30; user++) {
            UserSegments engine = new UserSegments();
            String id = "user-" + user + (user % 7 == 0 ? "-ü\\\"\u2028" : "");
            long t = t0;
            for (int i = 0; i < 80; i++) {
                t += (long) (random.nextDouble() * random.nextDouble() * 12 * 3_600_000L);
                Outcome outcome = random.nextInt(8) == 0 ? engine.advanceTo(id, t, rules, 0)
                        : engine.apply(id, Events.track(id, names[random.nextInt(names.length)], t)
                                .with("revenue", random.nextDouble() * 300).build(), rules, 0);
                for (SegmentChange change : outcome.changes()) {
                    assertSameBytes(change);
                    assertSameBytes(CODEC.decode(CODEC.encode(change)));
                    changes++;
                }
            }
        }
        assertThat(changes).isGreaterThan(500);
    }

    /** Values at the edges of what a change holds. */
    @Test
    void edgeValuesAreWrittenAsTheMapperWritesThem() {
        Map<String, Double> features = new LinkedHashMap<>();
        features.put("nan", Double.NaN);
        features.put("infinite", Double.NEGATIVE_INFINITY);
        features.put("negative zero", -0.0);
        features.put("whole", 7.0);
        features.put("large", 1e300);
        features.put("none", null);
        features.put("key \"é\"\n\u0001", 0.5);
        assertSameBytes(SegmentChange.of("u \"😀\"", "s\\1", "Name\t\u2028", ChangeType.EXIT, -5L, 3, Long.MAX_VALUE,
                new Cause("model", "bundle", null).late(), features, null));
        assertSameBytes(SegmentChange.of("u", "s", "S", ChangeType.ENTER, 0L, 0, 0L, Cause.rule("s", "7"), Map.of(),
                "bundle@v3"));
        assertSameBytes(SegmentChange.of("u", "s", "S", ChangeType.ENTER, 0L, 0, 0L, Cause.rule("s", "7"), null,
                null));
    }

    private static void assertSameBytes(SegmentChange change) {
        assertThat(new String(CODEC.encode(change), StandardCharsets.UTF_8))
                .isEqualTo(new String(MAPPERS.encode(change), StandardCharsets.UTF_8));
    }
}
