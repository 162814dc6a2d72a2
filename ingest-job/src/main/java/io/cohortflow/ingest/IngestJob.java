package io.cohortflow.ingest;

import io.cohortflow.core.config.TopicsConfig;
import io.cohortflow.core.event.DeadLetter;
import io.cohortflow.core.event.DeadLetterCodec;
import io.cohortflow.core.event.UnifiedEvent;
import io.cohortflow.core.event.UnifiedEventCodec;
import io.cohortflow.ingest.functions.MapToUnifiedFunction;
import io.cohortflow.ingest.mapping.RawEvent;
import io.cohortflow.ingest.mapping.RawEventDeserializer;
import io.cohortflow.ingest.mapping.IngestMapper;
import io.cohortflow.jobs.kafka.KafkaIo;
import io.cohortflow.jobs.types.JsonRecordTypeInfo;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.source.Source;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * The ingest job.
 *
 * <p>Reads events.raw (any bytes; the {@code source} header names the source), maps Segment-spec calls onto the
 * universal schema ({@link UnifiedEvent}) and writes them to events.unified keyed by resolved user id; everything it
 * cannot map goes to events.dlq with a reason code and the original payload. Both outputs are exactly-once by
 * default (Kafka transactions committed on checkpoints). Options: {@link IngestOptions}.
 *
 * <p>Checkpointing, the state backend and restart strategy come from the cluster configuration
 * (conf/flink/*.yaml locally, the FlinkDeployment on Kubernetes), not from this code.
 */
public final class IngestJob {
    private final Source<RawEvent, ?, ?> source;
    private final Sink<UnifiedEvent> unifiedSink;
    private final Sink<DeadLetter> deadLetterSink;
    private final IngestMapper mapper;

    public IngestJob(Source<RawEvent, ?, ?> source, Sink<UnifiedEvent> unifiedSink, Sink<DeadLetter> deadLetterSink,
                     IngestMapper mapper) {
        this.source = source;
        this.unifiedSink = unifiedSink;
        this.deadLetterSink = deadLetterSink;
        this.mapper = mapper;
    }

    /** The job wired to Kafka as configured. {@code boundedSource} stops reading at the offsets seen at start. */
    public static IngestJob fromOptions(IngestOptions options, boolean boundedSource) {
        var kafka = options.kafka();
        return new IngestJob(
                KafkaIo.source(kafka.bootstrapServers(), kafka.topic(TopicsConfig.RAW), options.groupId(),
                        new RawEventDeserializer(), boundedSource),
                KafkaIo.jsonSink(kafka, kafka.topic(TopicsConfig.UNIFIED), new UnifiedEventCodec(),
                        event -> KafkaIo.utf8(event.resolvedId()), options.groupId() + "-unified"),
                KafkaIo.jsonSink(kafka, kafka.topic(TopicsConfig.DLQ), new DeadLetterCodec(),
                        null, options.groupId() + "-dlq"),
                options.mapper());
    }

    /** Adds the topology to {@code env}. */
    public void build(StreamExecutionEnvironment env) {
        // Raw input has no trustworthy event time yet: timestamps are assigned downstream, after mapping.
        SingleOutputStreamOperator<UnifiedEvent> unified = env
                .fromSource(source, WatermarkStrategy.noWatermarks(), "events.raw")
                .uid(Uids.RAW_SOURCE)
                .process(new MapToUnifiedFunction(mapper))
                .returns(JsonRecordTypeInfo.UNIFIED_EVENT)
                .name("map to unified schema")
                .uid(Uids.MAP_TO_UNIFIED);

        unified.sinkTo(unifiedSink).name("events.unified").uid(Uids.UNIFIED_SINK);
        unified.getSideOutput(MapToUnifiedFunction.DEAD_LETTERS)
                .sinkTo(deadLetterSink).name("events.dlq").uid(Uids.DLQ_SINK);
    }

    /** Configures an environment the way every deployment of this job needs it. */
    public static void configure(StreamExecutionEnvironment env, IngestOptions options) {
        env.setMaxParallelism(options.maxParallelism());
        // Every type has a serializer of ours or Flink's: a silent fallback to Kryo must fail at submission.
        env.configure(Configuration.fromMap(java.util.Map.of(PipelineOptions.GENERIC_TYPES.key(), "false")));
        env.getConfig().setGlobalJobParameters(Configuration.fromMap(options.summary()));
    }

    /** Builds and submits the job without waiting for it. */
    public JobClient start(StreamExecutionEnvironment env, String name) throws Exception {
        build(env);
        return env.executeAsync(name);
    }

    public static void main(String[] args) throws Exception {
        IngestOptions options = IngestOptions.parse(args);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        configure(env, options);
        fromOptions(options, false).build(env);
        env.execute("cohortflow ingest");
    }
}
