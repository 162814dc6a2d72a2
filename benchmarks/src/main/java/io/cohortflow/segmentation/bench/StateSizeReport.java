package io.cohortflow.segmentation.bench;

import io.cohortflow.core.event.UnifiedEvent;
import io.cohortflow.core.feature.FeatureConfig;
import io.cohortflow.core.feature.UserFeatures;

import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Bytes of feature state per user: the value the segmentation job keeps per key (RocksDB stores exactly these
 * bytes, before its own block compression), after N simulated days of a population. Prints mean and percentiles.
 *
 * <pre>
 * mvn -q -pl benchmarks exec:exec -Dexec.executable=java \
 *     -Dexec.args="-cp %classpath io.cohortflow.segmentation.bench.StateSizeReport 5000 30"
 * </pre>
 */
public final class StateSizeReport {
    private StateSizeReport() {
    }

    public static void main(String[] args) {
        int users = args.length > 0 ? Integer.parseInt(args[0]) : 5_000;
        int days = args.length > 1 ? Integer.parseInt(args[1]) : 30;
        FeatureConfig config = FeatureConfig.defaults();
        List<UnifiedEvent> events = HotPathBenchmark.events(users, days);
        Map<String, UserFeatures> byUser = new HashMap<>();
        for (UnifiedEvent e : events) {
            byUser.computeIfAbsent(e.resolvedId(), k -> new UserFeatures(config)).add(e);
        }
        long end = events.get(events.size() - 1).timestamp();
        int[] sizes = byUser.values().stream().mapToInt(f -> {
            f.prune(end);
            return f.toBytes().length;
        }).sorted().toArray();
        System.out.printf("feature state after %d days, %d simulated people (%d keys, %d events): "
                        + "mean %.0f B, p50 %d B, p95 %d B, p99 %d B, max %d B, total %.1f MB%n",
                days, users, sizes.length, events.size(), Arrays.stream(sizes).average().orElse(0),
                sizes[sizes.length / 2], sizes[(int) (sizes.length * 0.95)], sizes[(int) (sizes.length * 0.99)],
                sizes[sizes.length - 1], Arrays.stream(sizes).asLongStream().sum() / 1e6);
    }
}
