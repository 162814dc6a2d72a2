package io.cohortflow.jobs.kafka;

import io.cohortflow.core.event.UnifiedEvent;
import org.apache.flink.api.common.eventtime.Watermark;
import org.apache.flink.api.common.eventtime.WatermarkGenerator;
import org.apache.flink.api.common.eventtime.WatermarkOutput;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;

import java.time.Duration;

/** The one watermark strategy for unified events. */
public final class Watermarks {
    private Watermarks() {
    }

    /**
     * For control inputs (definitions, models, merges, state handoffs) that are handled as they arrive: they never
     * hold back the watermark of the operator they join, whether they are quiet or lag behind in event time. They are
     * marked idle rather than sent to the end of time: were they at {@code Long.MAX_VALUE}, the operator's event time
     * would jump to infinity the moment every event partition went idle (a lull of {@code --idleness}), firing every
     * user's timers, exits and state cleanup at once. Idle, they leave event time to the events: when all traffic
     * stops, event time stops.
     */
    public static <T> WatermarkStrategy<T> neverHoldingBack() {
        return WatermarkStrategy.forGenerator(ctx -> new WatermarkGenerator<T>() {
            @Override
            public void onEvent(T event, long eventTimestamp, WatermarkOutput output) {
            }

            @Override
            public void onPeriodicEmit(WatermarkOutput output) {
                output.markIdle();
            }
        });
    }

    /**
     * Event time is {@link UnifiedEvent#timestamp()}. {@code outOfOrderness} bounds how late, in event time, an event
     * may arrive behind the newest one and still be processed in order; SDKs batch and retry, so a few minutes is
     * usual. {@code idleness} lets a partition with no traffic stop holding the watermark back, so timers still fire
     * when some partitions are quiet.
     */
    public static WatermarkStrategy<UnifiedEvent> forUnifiedEvents(Duration outOfOrderness, Duration idleness) {
        return WatermarkStrategy.<UnifiedEvent>forBoundedOutOfOrderness(outOfOrderness)
                .withTimestampAssigner((event, kafkaTimestamp) -> event.timestamp())
                .withIdleness(idleness);
    }
}
