package io.cohortflow.training;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.PriorityQueue;

/**
 * At most {@code capacity} of the rows added, and the same ones whatever order they are added in: the rows of the
 * users whose hashes (of their id, with the training's seed) are smallest, ties broken by user id and feature time.
 * A user's rows are kept or dropped together, but at the capacity's edge. The training collects its training and
 * holdout rows through one each, so the memory they take stops growing with the number of people: past the
 * capacity, the models learn from and are evaluated on a uniform sample of the people (issue "Speed to lead", P4).
 * The personas are fitted on such a sample of the current rows too.
 */
final class RowSample {
    private final int capacity;
    private final long seed;
    /** The kept rows, the one that leaves first (the largest hash) at the head. */
    private final PriorityQueue<Keyed> kept;
    private long added;

    private record Keyed(long hash, TrainingRow row) {
    }

    private static final Comparator<Keyed> ORDER = Comparator.comparingLong(Keyed::hash)
            .thenComparing(k -> k.row().userId()).thenComparingLong(k -> k.row().featureTime());

    RowSample(int capacity, long seed) {
        if (capacity < 1) {
            throw new IllegalArgumentException("a sample holds at least one row, not " + capacity);
        }
        this.capacity = capacity;
        this.seed = seed;
        this.kept = new PriorityQueue<>(ORDER.reversed());
    }

    void add(TrainingRow row) {
        added++;
        Keyed keyed = new Keyed(hash(row.userId(), seed), row);
        if (kept.size() < capacity) {
            kept.add(keyed);
        } else if (ORDER.compare(keyed, kept.peek()) < 0) {
            kept.poll();
            kept.add(keyed);
        }
    }

    /** How many rows were added. */
    long added() {
        return added;
    }

    /**
     * The kept rows, sorted by user id, a user's latest feature time first (the order the job emits them in): training
     * on them is reproducible.
     */
    List<TrainingRow> rows() {
        List<TrainingRow> rows = new ArrayList<>(kept.size());
        kept.forEach(k -> rows.add(k.row()));
        rows.sort(Comparator.comparing(TrainingRow::userId)
                .thenComparing(Comparator.comparingLong(TrainingRow::featureTime).reversed()));
        return rows;
    }

    /** {@link #rows()} of a sample of {@code capacity} taken of {@code rows}. */
    static List<TrainingRow> of(List<TrainingRow> rows, int capacity, long seed) {
        RowSample sample = new RowSample(capacity, seed);
        rows.forEach(sample::add);
        return sample.rows();
    }

    /** A user's place in the sample: String's hash (fixed by the language) mixed with the seed (SplitMix64's finish). */
    static long hash(String userId, long seed) {
        long z = userId.hashCode() * 0x9E3779B97F4A7C15L + seed;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
