package io.cohortflow.segmentation;

import io.cohortflow.core.config.TopicsConfig;
import io.cohortflow.core.event.UnifiedEvent;
import io.cohortflow.core.event.UnifiedEventCodec;
import io.cohortflow.core.segment.SegmentChange;
import io.cohortflow.core.segment.SegmentChangeCodec;
import io.cohortflow.core.segment.WindowedCountRule;
import io.cohortflow.jobs.kafka.KafkaIo;
import io.cohortflow.jobs.options.JobEnvironment;
import io.cohortflow.jobs.kafka.Watermarks;
import io.cohortflow.jobs.types.JsonRecordTypeInfo;
import io.cohortflow.segmentation.functions.WindowedRuleFunction;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.source.Source;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;


/**
 * The segmentation job.
 *
 * <p>Reads events.unified (read_committed), keys it by resolved user id, keeps event-time state per user and writes
 * segment ENTER/EXIT transitions to segments.changes, keyed by user id, exactly once by default. This version carries
 * one windowed rule, the seed's "New Prospect – High Intent" (three shopping-intent actions within an hour); members
 * leave when the hour passes, by event-time timer. Options: {@link SegmentationOptions}.
 *
 * <p>Checkpointing, the state backend and restart strategy come from the cluster configuration, not from this code.
 */
public final class SegmentationJob {
    private final Source<UnifiedEvent, ?, ?> source;
    private final WatermarkStrategy<UnifiedEvent> watermarks;
    private final Sink<SegmentChange> changesSink;
    private final WindowedCountRule rule;

    public SegmentationJob(Source<UnifiedEvent, ?, ?> source, WatermarkStrategy<UnifiedEvent> watermarks,
                           Sink<SegmentChange> changesSink, WindowedCountRule rule) {
        this.source = source;
        this.watermarks = watermarks;
        this.changesSink = changesSink;
        this.rule = rule;
    }

    /** The job wired to Kafka as configured. {@code boundedSource} stops reading at the offsets seen at start. */
    public static SegmentationJob fromOptions(SegmentationOptions options, boolean boundedSource) {
        var kafka = options.kafka();
        return new SegmentationJob(
                KafkaIo.jsonSource(kafka.bootstrapServers(), kafka.topic(TopicsConfig.UNIFIED), options.groupId(),
                        new UnifiedEventCodec(), JsonRecordTypeInfo.UNIFIED_EVENT, boundedSource),
                Watermarks.forUnifiedEvents(options.outOfOrderness(), options.idleness()),
                KafkaIo.jsonSink(kafka, kafka.topic(TopicsConfig.CHANGES), new SegmentChangeCodec(),
                        change -> KafkaIo.utf8(change.userId()), options.groupId() + "-changes"),
                WindowedCountRule.highIntent());
    }

    public void build(StreamExecutionEnvironment env) {
        env.fromSource(source, watermarks, "events.unified")
                .uid(Uids.UNIFIED_SOURCE)
                .keyBy(UnifiedEvent::resolvedId)
                .process(new WindowedRuleFunction(rule))
                .returns(JsonRecordTypeInfo.SEGMENT_CHANGE)
                .name("segment " + rule.id())
                .uid(Uids.HIGH_INTENT_RULE)
                .sinkTo(changesSink)
                .name("segments.changes")
                .uid(Uids.CHANGES_SINK);
    }

    public static void configure(StreamExecutionEnvironment env, SegmentationOptions options) {
        JobEnvironment.configure(env, options.maxParallelism(), options.summary());
    }

    public static void main(String[] args) throws Exception {
        SegmentationOptions options = SegmentationOptions.parse(args);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        configure(env, options);
        fromOptions(options, false).build(env);
        env.execute("cohortflow segmentation");
    }
}
