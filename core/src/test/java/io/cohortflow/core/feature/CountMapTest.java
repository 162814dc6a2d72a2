package io.cohortflow.core.feature;

import io.cohortflow.core.testing.Events;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;

class CountMapTest {
    private static final long T0 = 1_772_445_600_000L; // 2026-03-02T10:00:00Z
    private static final long HOUR = UserFeatures.HOUR;
    private static final long DAY = UserFeatures.DAY;

    /**
     * Each name keeps its place in the last key order it was counted in: snapshots of one state under lists that
     * name all of its events, or not all (a key order of the snapshot's own), in turn, count as a copy read back does.
     */
    @Test
    void aNamesPlaceFollowsTheKeyOrderOfEachSnapshot() {
        UserFeatures f = new UserFeatures(FeatureConfig.defaults());
        f.add(Events.track("u", "product_view", T0).build());
        f.add(Events.track("u", "add_to_cart", T0 + HOUR).build());
        f.add(Events.track("u", "order_completed", T0 + 2 * HOUR).build());
        List<List<String>> lists = List.of(List.of("add_to_cart", "order_completed", "product_view"),
                List.of("add_to_cart", "product_view"), List.of("order_completed", "page_view", "product_view", "zzz"),
                List.of("add_to_cart", "order_completed", "product_view"));
        for (int round = 0; round < 3; round++) {
            for (List<String> names : lists) {
                Map<String, Map<String, Long>> fresh = UserFeatures.fromBytes(f.toBytes(), FeatureConfig.defaults())
                        .snapshot(T0 + 3 * HOUR, names).counts();
                assertThat(f.snapshot(T0 + 3 * HOUR, names).counts()).as("%s, round %d", names, round)
                        .isEqualTo(fresh);
                assertThat(f.snapshot(T0 + 3 * HOUR, names).counts().get("24h"))
                        .containsEntry("add_to_cart", 1L).containsEntry("order_completed", 1L)
                        .containsEntry("product_view", 1L);
            }
        }
    }

    /**
     * A profile's counts leave the zeros out: read from a snapshot's arrays, the map is the one filtering it into a
     * {@code HashMap} gave (equal both ways, same hash), in the snapshot's order, and cannot change.
     */
    @Test
    void theNonZeroCountsAreTheFilteredMapInTheSnapshotsOrder() {
        FeatureSnapshot s = viewsCartAndAnEventOutsideTheTaxonomy()
                .snapshot(T0 + 2 * HOUR + 1, List.of("add_to_cart", "order_completed", "product_view"));
        for (String window : FeatureSnapshot.COUNT_WINDOWS) {
            Map<String, Long> filtered = new java.util.HashMap<>(s.counts().get(window));
            filtered.values().removeIf(n -> n == 0);
            Map<String, Long> nonZero = FeatureSnapshot.nonZero(s.counts().get(window));
            assertThat(nonZero).as(window).isEqualTo(filtered).hasSameHashCodeAs(filtered);
            assertThat(filtered).as(window).isEqualTo(nonZero);
            assertThat(List.copyOf(nonZero.keySet())).as(window).isSorted();
            filtered.forEach((event, n) -> assertThat(nonZero.get(event)).isEqualTo(n));
        }
        assertThat(FeatureSnapshot.nonZero(s.counts().get("60d")))
                .containsExactly(Map.entry("add_to_cart", 1L), Map.entry("custom_thing", 1L), Map.entry("product_view", 2L));
        Map<String, Long> oneHour = FeatureSnapshot.nonZero(s.counts().get("1h"));
        assertThat(oneHour).containsExactly(Map.entry("product_view", 1L));
        assertThat(oneHour.get("add_to_cart")).as("a zero is left out").isNull();
        assertThat(oneHour.containsKey("add_to_cart")).isFalse();
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> oneHour.put("x", 1L))
                .isInstanceOf(UnsupportedOperationException.class);
        assertThat(FeatureSnapshot.nonZero(new UserFeatures(FeatureConfig.defaults())
                .snapshot(T0, List.of("add_to_cart")).counts().get("1h"))).isEmpty();
        assertThat(FeatureSnapshot.nonZero(Map.of("a", 0L, "b", 3L))).as("any other map, filtered")
                .isEqualTo(Map.of("b", 3L));
    }

    @Test
    void aSnapshotsCountsAreTheMapsTheyAlwaysWereEveryNameSortedZeroWhenUnseen() {
        List<String> names = List.of("add_to_cart", "order_completed", "product_view");
        FeatureSnapshot s = viewsCartAndAnEventOutsideTheTaxonomy().snapshot(T0 + 2 * HOUR + 1, names);
        Map<String, Long> expected1h = new TreeMap<>(Map.of("add_to_cart", 0L, "custom_thing", 0L,
                "order_completed", 0L, "product_view", 1L));
        assertThat(s.counts().get("1h")).isEqualTo(expected1h).containsExactlyEntriesOf(expected1h);
        assertThat(expected1h).isEqualTo(s.counts().get("1h"));
        assertThat(s.counts().get("1h").hashCode()).isEqualTo(expected1h.hashCode());
        Map<String, Long> walked = new java.util.LinkedHashMap<>(); // forEach, without entries, walks the same order
        s.counts().get("1h").forEach(walked::put);
        assertThat(walked).containsExactlyEntriesOf(expected1h);
        assertThat(s.counts().get("24h")).containsEntry("product_view", 2L).containsEntry("add_to_cart", 0L);
        assertThat(s.counts().get("7d")).containsEntry("add_to_cart", 0L);
        assertThat(s.counts().get("30d")).containsEntry("add_to_cart", 1L).containsEntry("custom_thing", 0L);
        assertThat(s.counts().get("60d")).containsEntry("custom_thing", 1L).containsEntry("product_view", 2L);
        assertThat(s.counts().get("90d")).containsEntry("custom_thing", 1L).hasSize(4);
        assertThat(s.counts().get("90d").get("page_view")).isNull();
        assertThat(s.counts().keySet()).containsExactly("1h", "24h", "7d", "30d", "60d", "90d");

        CountMap.Keys shared = CountMap.keys(names, java.util.Set.of());
        assertThat(CountMap.keys(new java.util.ArrayList<>(names), java.util.Set.of("product_view")))
                .as("another list of the same names (another instance's ruleset): the same keys").isSameAs(shared);
        List<String> other = List.copyOf(new java.util.ArrayList<>(names));
        assertThat(shared.of(other)).as("the same names, compared one by one").isTrue();
        assertThat(shared.of(other)).as("and then known by identity").isTrue();
        assertThat(shared.of(List.of("add_to_cart"))).isFalse();
        List<String> renamed = new java.util.ArrayList<>(names);
        renamed.set(0, "renamed");
        assertThat(shared.of(renamed)).as("as many names, one of them another").isFalse();
        assertThat(CountMap.keys(List.of("add_to_cart", "product_view"), java.util.Set.of()).names)
                .containsExactly("add_to_cart", "product_view");

        UserFeatures known = new UserFeatures(FeatureConfig.defaults());
        known.add(Events.track("u", "product_view", T0).build());
        assertThat(known.snapshot(T0, names).counts().get("1h")).as("names of the taxonomy only")
                .containsExactly(Map.entry("add_to_cart", 0L), Map.entry("order_completed", 0L),
                        Map.entry("product_view", 1L));
    }

    /** Two views, an add to cart 8 days back and, 40 days back, an event the taxonomy does not name. */
    private static UserFeatures viewsCartAndAnEventOutsideTheTaxonomy() {
        UserFeatures f = new UserFeatures(FeatureConfig.defaults());
        f.add(Events.track("u", "product_view", T0).build());
        f.add(Events.track("u", "product_view", T0 + 2 * HOUR).build());
        f.add(Events.track("u", "add_to_cart", T0 - 8 * DAY).build());
        f.add(Events.track("u", "custom_thing", T0 - 40 * DAY).build());
        return f;
    }
}
