package io.cohortflow.jobs.kafka;

import org.apache.flink.api.common.eventtime.Watermark;
import org.apache.flink.api.common.eventtime.WatermarkGenerator;
import org.apache.flink.api.common.eventtime.WatermarkOutput;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class WatermarksTest {

    /**
     * A control input must neither hold event time back nor push it to the end of time: when every event partition
     * goes idle, a control input at Long.MAX_VALUE would fire every user's timers at once (mass exits and cleanup).
     */
    @Test
    void controlInputsAreIdleInsteadOfAtTheEndOfTime() {
        WatermarkGenerator<String> generator = Watermarks.<String>neverHoldingBack().createWatermarkGenerator(null);
        List<Long> emitted = new ArrayList<>();
        boolean[] idle = {false};
        WatermarkOutput output = new WatermarkOutput() {
            @Override
            public void emitWatermark(Watermark watermark) {
                emitted.add(watermark.getTimestamp());
            }

            @Override
            public void markIdle() {
                idle[0] = true;
            }

            @Override
            public void markActive() {
                idle[0] = false;
            }
        };
        generator.onEvent("merge", 1_000L, output);
        generator.onPeriodicEmit(output);
        assertThat(emitted).as("no watermark, least of all Long.MAX_VALUE").isEmpty();
        assertThat(idle[0]).isTrue();
    }
}
