package io.cohortflow.training;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class RowSampleTest {
    private static final long SEED = 42;

    /** Two rows per user (two training feature times), for {@code users} users. */
    private static List<TrainingRow> rows(int users) {
        List<TrainingRow> rows = new ArrayList<>();
        for (int u = 0; u < users; u++) {
            for (int day = 0; day < 2; day++) {
                rows.add(new TrainingRow(String.format("u%05d", u), TrainingRow.Split.TRAIN, 1_000_000L - day * 86_400_000L,
                        new double[] {u, day}, u % 3 == 0, false));
            }
        }
        return rows;
    }

    private static List<TrainingRow> sampled(List<TrainingRow> rows, int capacity) {
        RowSample sample = new RowSample(capacity, SEED);
        rows.forEach(sample::add);
        assertThat(sample.added()).isEqualTo(rows.size());
        return sample.rows();
    }

    @Test
    void underItsCapacityItKeepsEveryRowInTheOrderTheJobEmitsThem() {
        List<TrainingRow> rows = rows(50);
        List<TrainingRow> shuffled = new ArrayList<>(rows);
        Collections.shuffle(shuffled, new Random(1));

        assertThat(sampled(shuffled, 100)).as("by user, the latest feature time first").containsExactlyElementsOf(rows);
    }

    @Test
    void pastItsCapacityItKeepsTheSameRowsWhateverTheOrder() {
        List<TrainingRow> rows = rows(5_000);
        List<TrainingRow> first = sampled(rows, 1_001);
        for (int seed = 1; seed <= 3; seed++) {
            List<TrainingRow> shuffled = new ArrayList<>(rows);
            Collections.shuffle(shuffled, new Random(seed));
            assertThat(sampled(shuffled, 1_001)).containsExactlyElementsOf(first);
        }
        assertThat(first).hasSize(1_001).isSortedAccordingTo(Comparator.comparing(TrainingRow::userId));
        // The users of the smallest hashes, both rows of each but the last one's (1,001 is odd).
        List<String> bySmallestHash = rows.stream().map(TrainingRow::userId).distinct()
                .sorted(Comparator.comparingLong((String u) -> RowSample.hash(u, SEED)).thenComparing(u -> u)).toList();
        Set<String> kept = first.stream().map(TrainingRow::userId).collect(Collectors.toSet());
        assertThat(kept).containsExactlyInAnyOrderElementsOf(bySmallestHash.subList(0, 501));
        // A uniform sample: about a third churned, as in all the rows.
        assertThat(first.stream().filter(TrainingRow::churned).count() / (double) first.size()).isBetween(0.28, 0.39);
    }

    @Test
    void anotherSeedDrawsAnotherSample() {
        List<TrainingRow> rows = rows(2_000);
        RowSample other = new RowSample(500, SEED + 1);
        rows.forEach(other::add);

        assertThat(other.rows()).isNotEqualTo(sampled(rows, 500)).hasSize(500);
    }

    @Test
    void refusesAnEmptyCapacity() {
        assertThatThrownBy(() -> new RowSample(0, SEED)).isInstanceOf(IllegalArgumentException.class);
    }
}
