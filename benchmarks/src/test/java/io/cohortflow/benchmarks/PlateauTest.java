package io.cohortflow.benchmarks;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class PlateauTest {

    /** P1's rule: three rounds whatever, then on while either job beats its best by more than a twentieth. */
    @Test
    void theRoundsGoOnWhileEitherJobGetsFasterFromTheThirdOn() {
        Plateau p1 = new Plateau(2, 3, 6, 1);
        assertThat(p1.record(100, 100)).isTrue();
        assertThat(p1.record(90, 90)).isTrue(); // stale, but within the first three
        assertThat(p1.record(104, 200)).as("the peer doubled").isTrue();
        assertThat(p1.record(110, 205)).as("the product gained 5.8% on its best (104), the peer 2.5%").isTrue();
        assertThat(p1.record(115, 215)).as("4.5% and 4.9%: stale").isFalse();
        assertThat(p1.rounds()).isEqualTo(5);
        assertThat(p1.best()).containsExactly(115, 215);
    }

    @Test
    void aStaleThirdRoundEndsTheRoundsAndTheMostRoundsEndThemAnyway() {
        Plateau stale = new Plateau(2, 3, 6, 1);
        stale.record(100, 100);
        stale.record(120, 100);
        assertThat(stale.record(120, 100)).isFalse();

        Plateau faster = new Plateau(2, 3, 4, 1);
        for (int round = 1; round < 4; round++) {
            assertThat(faster.record(100 * round, 1)).isTrue();
        }
        assertThat(faster.record(1_000, 1)).isFalse();
        assertThatThrownBy(() -> faster.record(2_000, 1)).isInstanceOf(IllegalStateException.class);

        Plateau quick = new Plateau(2, 1, 1, 1);
        assertThat(quick.record(1, 1)).as("the suite's --quick: one round").isFalse();
    }

    /** P2's peak: bursts until two in a row are no faster than the best before them by a twentieth. */
    @Test
    void twoStaleBurstsInARowEndThePeakButOneDoesNot() {
        Plateau peak = new Plateau(1, 1, 8, 2);
        assertThat(peak.record(3_451)).isTrue();
        assertThat(peak.record(3_400)).as("one stale burst").isTrue();
        assertThat(peak.record(6_350)).as("a step up resets the count").isTrue();
        assertThat(peak.record(6_500)).isTrue();
        assertThat(peak.record(6_600)).as("the second stale in a row").isFalse();
        assertThat(peak.best()).containsExactly(6_600);
    }

    @Test
    void aRoundRecordsOneRatePerJob() {
        assertThatThrownBy(() -> new Plateau(2, 3, 6, 1).record(1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new Plateau(1, 4, 3, 1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new Plateau(0, 1, 3, 1)).isInstanceOf(IllegalArgumentException.class);
    }
}
