package io.cohortflow.core.feature;

import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;

/** The sorted arrays answer as the {@code TreeMap<Long, Integer>} the buckets were, over random use. */
class BucketCountsTest {
    @Test
    void answersAsTheTreeMapOfBucketsDid() {
        SplittableRandom random = new SplittableRandom(7);
        long[] units = {60_000L, 3_600_000L, 86_400_000L};
        for (int run = 0; run < 300; run++) {
            long unit = units[run % units.length];
            BucketCounts counts = new BucketCounts();
            TreeMap<Long, Integer> model = new TreeMap<>();
            long clock = random.nextLong(0, 1_000_000) * unit;
            for (int step = 0; step < 400; step++) {
                int op = random.nextInt(10);
                if (op < 6) { // time moves on, mostly within the latest bucket, sometimes back (a late event)
                    clock += random.nextInt(4) == 0 ? random.nextLong(0, 5 * unit) : random.nextLong(0, unit / 4);
                    long t = random.nextInt(8) == 0 ? clock - random.nextLong(0, 40 * unit) : clock;
                    int n = random.nextInt(1, 3);
                    counts.add(Math.floorDiv(t, unit), n);
                    model.merge(Math.floorDiv(t, unit), n, Integer::sum);
                } else if (op < 7) {
                    long upTo = Math.floorDiv(clock, unit) - random.nextLong(0, 50);
                    counts.dropUpTo(upTo);
                    model.headMap(upTo, true).clear();
                } else {
                    long window = random.nextLong(1, 60) * unit + (random.nextBoolean() ? 0 : random.nextLong(unit));
                    long t = clock - random.nextLong(-2 * unit, 10 * unit);
                    assertThat(counts.sum(unit, window, t)).isEqualTo(sum(model, unit, window, t));
                    Long next = model.higherKey(Math.floorDiv(t - window, unit));
                    assertThat(counts.firstAfter(unit, window, t))
                            .isEqualTo(next == null ? Long.MAX_VALUE : next * unit + window);
                }
                assertThat(counts.size()).isEqualTo(model.size());
                assertThat(counts.isEmpty()).isEqualTo(model.isEmpty());
            }
            assertThat(counts.indexes()).containsExactly(model.keySet().stream().mapToLong(Long::longValue).toArray());
            assertThat(counts.counts()).containsExactly(model.values().stream().mapToInt(Integer::intValue).toArray());
            for (int i = 0; i < counts.size(); i++) {
                assertThat(counts.index(i)).isEqualTo(model.keySet().toArray()[i]);
            }
        }
    }

    @Test
    void anEmptyOneHasNothing() {
        BucketCounts counts = new BucketCounts();
        counts.dropUpTo(Long.MAX_VALUE);
        assertThat(counts.sum(60_000L, 3_600_000L, 0)).isZero();
        assertThat(counts.firstAfter(60_000L, 3_600_000L, 0)).isEqualTo(Long.MAX_VALUE);
        assertThat(counts.indexes()).isEmpty();
        counts.add(-3, 2); // before the epoch: negative indexes sort as numbers do
        counts.add(-5, 1);
        counts.add(-3, 1);
        assertThat(counts.indexes()).containsExactly(-5, -3);
        assertThat(counts.counts()).containsExactly(1, 3);
    }

    /** The buckets' sum as {@code UserFeatures} computed it over the tree: each bucket's start in (t - window, t]. */
    private static long sum(TreeMap<Long, Integer> model, long unit, long window, long t) {
        long total = 0;
        for (Map.Entry<Long, Integer> entry : model.entrySet()) {
            long start = entry.getKey() * unit;
            if (start > t - window && start <= t) {
                total += entry.getValue();
            }
        }
        return total;
    }
}
