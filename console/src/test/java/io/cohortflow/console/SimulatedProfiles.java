package io.cohortflow.console;

import io.cohortflow.core.feature.FeatureSnapshot;
import io.cohortflow.core.segment.SegmentProfile;
import io.cohortflow.core.segment.SegmentRules;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Profiles as the segmentation job publishes them, from random but plausible feature snapshots: counts that grow
 * with the window, a cart now and then, scores for some. Each carries the snapshot it came from, so a test can
 * evaluate a condition the stream's way, on the snapshot, independently of what the console stored.
 */
final class SimulatedProfiles {
    static final List<String> EVENTS = List.of("product_view", "product_search", "add_to_cart", "order_completed",
            "email_opened", "email_clicked", "trial_started", "support_ticket_created");
    static final java.util.Set<String> TAXONOMY = new java.util.TreeSet<>(
            io.cohortflow.core.event.EventTaxonomy.defaults().canonicalNames());
    static final List<String> CATEGORIES = List.of("Women's Jackets", "Men's Running Shoes", "Trail Gear", "Bags");

    record Simulated(SegmentProfile profile, FeatureSnapshot snapshot) {
        Map<String, Object> streamVariables() {
            return SegmentRules.variables(snapshot, profile.scores(), profile.persona());
        }
    }

    private final Random random;
    private final List<SegmentRules.Compiled> segments;

    SimulatedProfiles(long seed, List<SegmentRules.Compiled> segments) {
        this.random = new Random(seed);
        this.segments = segments;
    }

    /**
     * A plausible history of three events: a few days in the last 60 with a few occurrences each, the latest of them
     * today at minute and hour resolution too, and their exact times.
     */
    private io.cohortflow.core.feature.EventTimeline timeline(long asOf) {
        long minute = 60_000L;
        long hour = 60 * minute;
        long day = 24 * hour;
        Map<String, io.cohortflow.core.feature.EventTimeline.Event> events = new java.util.TreeMap<>();
        for (String event : List.of("product_view", "add_to_cart", "order_completed")) {
            java.util.TreeMap<Long, Integer> days = new java.util.TreeMap<>();
            java.util.TreeMap<Long, Integer> hours = new java.util.TreeMap<>();
            java.util.TreeMap<Long, Integer> minutes = new java.util.TreeMap<>();
            List<Long> times = new ArrayList<>();
            int n = random.nextInt(4);
            for (int i = 0; i < n; i++) {
                long at = asOf - (random.nextBoolean() ? random.nextInt(50) * minute : random.nextInt(60) * day
                        + random.nextInt(24) * hour);
                days.merge(Math.floorDiv(at, day), 1, Integer::sum);
                if (at > asOf - day) {
                    hours.merge(Math.floorDiv(at, hour), 1, Integer::sum);
                }
                if (at > asOf - hour) {
                    minutes.merge(Math.floorDiv(at, minute), 1, Integer::sum);
                }
                times.add(at);
            }
            if (n > 0) {
                long[] recent = times.stream().mapToLong(Long::longValue).sorted().toArray();
                events.put(event, new io.cohortflow.core.feature.EventTimeline.Event(
                        keys(minutes), values(minutes), keys(hours), values(hours), keys(days), values(days),
                        java.util.Arrays.copyOfRange(recent, Math.max(0, recent.length - 3), recent.length)));
            }
        }
        return new io.cohortflow.core.feature.EventTimeline(asOf, events);
    }

    private static long[] keys(java.util.TreeMap<Long, Integer> buckets) {
        return buckets.keySet().stream().mapToLong(Long::longValue).toArray();
    }

    private static int[] values(java.util.TreeMap<Long, Integer> buckets) {
        return buckets.values().stream().mapToInt(Integer::intValue).toArray();
    }

    Simulated next(String userId, long asOf) {
        Map<String, Map<String, Long>> counts = new LinkedHashMap<>();
        Map<String, Long> previous = new HashMap<>();
        for (String window : FeatureSnapshot.COUNT_WINDOWS) {
            Map<String, Long> inWindow = new LinkedHashMap<>();
            TAXONOMY.forEach(event -> inWindow.put(event, 0L)); // as the engine: every event named, zero when unseen
            for (String event : EVENTS) {
                long n = previous.getOrDefault(event, 0L) + (random.nextInt(4) == 0 ? random.nextInt(3) : 0);
                inWindow.put(event, n);
                previous.put(event, n);
            }
            counts.put(window, inWindow);
        }
        List<String> categories = new ArrayList<>();
        for (String category : CATEGORIES) {
            if (random.nextInt(5) == 0) {
                categories.add(category);
            }
        }
        List<String> used = random.nextBoolean() ? List.of("dashboards") : List.of("dashboards", "api");
        boolean cartOpen = random.nextInt(6) == 0;
        FeatureSnapshot snapshot = new FeatureSnapshot(asOf, random.nextInt(120), random.nextInt(12),
                random.nextInt(400), random.nextDouble(), random.nextInt(3), random.nextDouble() * 30, cartOpen,
                cartOpen && random.nextBoolean(), random.nextInt(8), random.nextInt(2000), random.nextInt(365),
                random.nextDouble() * 2, cartOpen ? random.nextInt(300) : 0, random.nextInt(250),
                cartOpen ? random.nextInt(3) : 0, counts, categories, used, timeline(asOf));
        Map<String, Double> scores = random.nextInt(3) == 0 ? Map.of()
                : Map.of("churn", random.nextDouble(), "bundle_propensity", random.nextDouble());
        String persona = scores.isEmpty() ? null : random.nextBoolean() ? "Casual Browser" : "Loyal Customer";
        Map<String, Object> vars = SegmentRules.variables(snapshot, scores, persona);
        List<String> in = segments.stream().filter(s -> SegmentRules.matches(s, vars))
                .map(s -> s.definition().id()).toList();
        SegmentProfile profile = new SegmentProfile(userId, asOf, in, snapshot.numeric(), scores, persona,
                scores.isEmpty() ? "none" : "bundle@v1", null, Map.of(), SegmentRules.inputs(snapshot));
        return new Simulated(profile, snapshot);
    }
}
