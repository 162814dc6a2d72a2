package io.cohortflow.segmentation.bench;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class TimerReplayTest {
    /**
     * Over simulated people, timers that pass every moment up to the watermark in one step make the changes that
     * timers fired one by one make, in the same order, in fewer steps and with fewer profiles.
     */
    @Test
    void timersPerWatermarkMakeTheChangesOfTimersOneByOne() {
        TimerReplay replay = new TimerReplay(300, 3, 200);
        TimerReplay.Round oneByOne = replay.replay(false);
        TimerReplay.Round perWatermark = replay.replay(true);
        assertThat(perWatermark.changes()).isEqualTo(oneByOne.changes()).isGreaterThan(50);
        assertThat(perWatermark.changeIds()).isEqualTo(oneByOne.changeIds());
        assertThat(perWatermark.timerSteps()).isLessThan(oneByOne.timerSteps() * 3 / 4);
        assertThat(perWatermark.profiles()).isLessThan(oneByOne.profiles());
        assertThat(replay.replay(true)).as("the same again").usingRecursiveComparison().ignoringFields("cpuNanos")
                .isEqualTo(perWatermark);
    }
}
