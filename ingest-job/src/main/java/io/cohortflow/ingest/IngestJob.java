package io.cohortflow.ingest;

import io.cohortflow.core.config.TopicsConfig;
import io.cohortflow.core.event.DeadLetter;
import io.cohortflow.core.event.DeadLetterCodec;
import io.cohortflow.core.event.UnifiedEvent;
import io.cohortflow.core.event.UnifiedEventCodec;
import io.cohortflow.core.identity.IdentityLink;
import io.cohortflow.core.identity.IdentityMerge;
import io.cohortflow.core.identity.IdentityMergeCodec;
import io.cohortflow.core.privacy.PrivacyRequest;
import io.cohortflow.core.privacy.PrivacyRequestCodec;
import io.cohortflow.core.privacy.PrivacyStatus;
import io.cohortflow.core.privacy.PrivacyStatusCodec;
import io.cohortflow.ingest.functions.DedupeFunction;
import io.cohortflow.ingest.functions.IdentityCapFunction;
import io.cohortflow.ingest.functions.IdentityKeys;
import io.cohortflow.ingest.functions.IdentityStitchFunction;
import io.cohortflow.ingest.functions.MapToUnifiedFunction;
import io.cohortflow.ingest.history.ParquetHistory;
import io.cohortflow.ingest.mapping.IngestMapper;
import io.cohortflow.ingest.mapping.RawEvent;
import io.cohortflow.ingest.mapping.RawEventDeserializer;
import io.cohortflow.ingest.privacy.Suppress;
import io.cohortflow.jobs.kafka.KafkaIo;
import io.cohortflow.jobs.kafka.KafkaLimits;
import io.cohortflow.jobs.kafka.Watermarks;
import io.cohortflow.jobs.options.JobEnvironment;
import io.cohortflow.jobs.types.JsonRecordTypeInfo;
import io.cohortflow.jobs.types.UnifiedEventTypeInfo;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.source.Boundedness;
import org.apache.flink.api.connector.source.Source;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.datastream.BroadcastStream;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.DataStreamUtils;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.util.Collector;

import java.time.Duration;
import java.util.List;


/**
 * The ingest job.
 *
 * <p>Reads events.raw (any bytes; the {@code source} header names the source) and identity.merges (links the
 * per-user cap refused, fed back). Writes:
 * <ul>
 *   <li>events.unified: every accepted, first-seen, on-time event in the universal schema, keyed by resolved user id;</li>
 *   <li>events.dlq: whatever could not be mapped, with a reason code and the original payload;</li>
 *   <li>events.late: events later than the allowed lateness (also kept in the history);</li>
 *   <li>identity.merges: each new device-to-user link (MERGED) or refusal over the cap (REJECTED_CAP);</li>
 *   <li>the Parquet history under {@code --history-path}, partitioned by event date.</li>
 * </ul>
 * Pipeline: map (Segment spec, batches, configured webhook sources) and validate; watermarks on receive time with
 * bounded out-of-orderness, per partition; dedupe by messageId (7 days) with late routing and identity stitching, both keyed by device
 * (one shuffle, so a device's events stay in order), then a per-user cap on linked devices. Ids suppressed by a privacy
 * request (privacy.requests, read whole at open and broadcast) are dropped on every path before anything is written
 * ({@link Suppress}): their events (so no link of theirs forms), dead letters, and the events of devices that resolve
 * to them. Every call in is counted once:
 * {@code in = unified + dead-lettered + duplicates + late + suppressed}.
 * Kafka outputs are exactly-once by default; history files commit on checkpoints. Options: {@link IngestOptions}.
 *
 * <p>Checkpointing, the state backend and the restart strategy come from the cluster configuration, not from here.
 */
public final class IngestJob {
    /** The job's connections to the outside: built from options by {@link #fromOptions}, or by tests. */
    public record Io(Source<RawEvent, ?, ?> raw, Source<IdentityMerge, ?, ?> mergesFeedback,
                     Source<PrivacyRequest, ?, ?> privacy, Source<PrivacyRequest, ?, ?> privacyOnce,
                     Suppress.Baseline privacyAtOpen,
                     Sink<UnifiedEvent> unified, Sink<DeadLetter> deadLetters, Sink<UnifiedEvent> late,
                     Sink<IdentityMerge> merges, Sink<UnifiedEvent> history, Sink<PrivacyStatus> privacyStatus,
                     Sink<PrivacyRequest> privacyRequests) {
    }

    private final Io io;
    private final IngestMapper mapper;
    private final IngestOptions options;

    public IngestJob(Io io, IngestMapper mapper, IngestOptions options) {
        this.io = io;
        this.mapper = mapper;
        this.options = options;
    }

    /** The job wired to Kafka and the history path as configured. {@code bounded} stops the sources at the offsets seen at start. */
    public static IngestJob fromOptions(IngestOptions options, boolean bounded) {
        var kafka = options.kafka();
        String group = options.groupId();
        IdentityMergeCodec mergeCodec = new IdentityMergeCodec();
        Io io = new Io(
                KafkaIo.source(kafka.bootstrapServers(), kafka.topic(TopicsConfig.RAW), group,
                        new RawEventDeserializer(), bounded),
                KafkaIo.jsonSource(kafka.bootstrapServers(), kafka.topic(TopicsConfig.MERGES), group + "-merges-feedback",
                        mergeCodec, new JsonRecordTypeInfo<>(mergeCodec), bounded),
                // Whole, at every fresh start: a suppression holds for good.
                KafkaIo.wholeTopic(kafka.bootstrapServers(), kafka.topic(TopicsConfig.PRIVACY), group + "-privacy",
                        new PrivacyRequestCodec(), Suppress.REQUESTS, bounded),
                // Once each, from the group's offsets (the end at a first start): a follow-up names the devices a
                // person has when the request comes; a replay would name those linked since (let in after a DELETE).
                KafkaIo.jsonSourceFromNowOn(kafka.bootstrapServers(), kafka.topic(TopicsConfig.PRIVACY),
                        group + "-privacy-devices", new PrivacyRequestCodec(), Suppress.REQUESTS, bounded),
                new Suppress.Baseline(kafka.bootstrapServers(), kafka.topic(TopicsConfig.PRIVACY)),
                KafkaIo.sink(kafka, kafka.topic(TopicsConfig.UNIFIED), new UnifiedEventCodec.Binary(),
                        event -> KafkaIo.utf8(event.resolvedId()), group + "-unified"),
                KafkaIo.sink(kafka, kafka.topic(TopicsConfig.DLQ), new DeadLetterCodec(), null, group + "-dlq"),
                KafkaIo.sink(kafka, kafka.topic(TopicsConfig.LATE), new UnifiedEventCodec(),
                        event -> KafkaIo.utf8(event.resolvedId()), group + "-late"),
                KafkaIo.sink(kafka, kafka.topic(TopicsConfig.MERGES), mergeCodec,
                        merge -> KafkaIo.utf8(merge.fromId()), group + "-merges"),
                ParquetHistory.sink(options.historyPath()),
                KafkaIo.sink(kafka, kafka.topic(TopicsConfig.PRIVACY_STATUS), new PrivacyStatusCodec(),
                        report -> KafkaIo.utf8(report.key()), group + "-privacy-status"),
                KafkaIo.sink(kafka, kafka.topic(TopicsConfig.PRIVACY), new PrivacyRequestCodec(),
                        request -> KafkaIo.utf8(request.requestId()), group + "-privacy-linked"));
        return new IngestJob(io, options.mapper(), options);
    }

    /** Adds the topology to {@code env}. */
    public void build(StreamExecutionEnvironment env) {
        // Watermarks follow the collector's receive time, per Kafka partition (the source tracks each split), because
        // raw bytes have no trustworthy event time before mapping. An event is late when its event time is more than
        // the allowed lateness behind that watermark, i.e. when it arrived that long after it happened.
        // Suppressed ids (privacy.requests), on every path to an output: nothing of them is written from then on.
        BroadcastStream<PrivacyRequest> suppressions = env
                // Idle, not without watermarks: it joins the events' path, whose event time (late routing) it must
                // not hold back.
                .fromSource(io.privacy(), Watermarks.<PrivacyRequest>neverHoldingBack(), "privacy.requests")
                .uid(Uids.PRIVACY_SOURCE)
                .broadcast(Suppress.SUPPRESSED);
        SingleOutputStreamOperator<UnifiedEvent> mappedAll = env
                .fromSource(io.raw(), receiveTimeWatermarks(io.raw().getBoundedness() == Boundedness.BOUNDED),
                        "events.raw")
                .uid(Uids.RAW_SOURCE)
                .process(new MapToUnifiedFunction(mapper, options.deadLetterPayloadBytes()))
                .returns(UnifiedEventTypeInfo.INSTANCE)
                .name("map and validate")
                .uid(Uids.MAP_TO_UNIFIED);
        SingleOutputStreamOperator<DeadLetter> deadLetters = mappedAll.getSideOutput(MapToUnifiedFunction.DEAD_LETTERS)
                .connect(suppressions).process(new Suppress.DeadLetters(io.privacyAtOpen()))
                .returns(JsonRecordTypeInfo.DEAD_LETTER)
                .name("drop suppressed ids' dead letters").uid(Uids.SUPPRESS_DEAD_LETTERS);
        deadLetters.sinkTo(io.deadLetters()).name("events.dlq").uid(Uids.DLQ_SINK);
        // Dedupe drops suppressed ids' events too (on time and late): the broadcast joins the shuffle it has anyway.
        SingleOutputStreamOperator<UnifiedEvent> onTime = mappedAll
                .keyBy(IdentityKeys::forEvent)
                .connect(suppressions)
                .process(new DedupeFunction(options.dedupeWindow(), options.allowedLateness(), io.privacyAtOpen()))
                .returns(UnifiedEventTypeInfo.INSTANCE)
                .name("dedupe by messageId, route late, drop suppressed ids")
                .uid(Uids.DEDUPE);
        DataStream<UnifiedEvent> late = onTime.getSideOutput(DedupeFunction.LATE);
        late.sinkTo(io.late()).name("events.late").uid(Uids.LATE_SINK);

        // Links the cap refused come back through identity.merges; the feedback adds the commit latency of the
        // merges sink (one checkpoint interval) before a refused device stops resolving to that user.
        DataStream<IdentityMerge> refusals = env
                .fromSource(io.mergesFeedback(), WatermarkStrategy.noWatermarks(), "identity.merges (refusals)")
                .uid(Uids.MERGES_FEEDBACK_SOURCE)
                .filter(merge -> merge.status() == IdentityMerge.Status.REJECTED_CAP)
                .name("cap refusals")
                .uid(Uids.CAP_REFUSALS);
        // Still partitioned by device after dedupe: no shuffle, so a device's events reach stitching in order.
        SingleOutputStreamOperator<UnifiedEvent> stitched = DataStreamUtils
                .reinterpretAsKeyedStream(onTime, IdentityKeys::forEvent, Types.STRING)
                .connect(refusals.keyBy(merge -> IdentityKeys.forDevice(merge.fromId())))
                .process(new IdentityStitchFunction(options.identityTtl()))
                .returns(UnifiedEventTypeInfo.INSTANCE)
                .name("stitch identities")
                .uid(Uids.IDENTITY_STITCH);
        // (A link request comes from an identify dedupe let through: a suppressed id never forms a link.)
        // The cap knows each user's devices: a privacy request naming a user gets a follow-up naming them.
        SingleOutputStreamOperator<IdentityMerge> decisions = stitched.getSideOutput(IdentityStitchFunction.LINK_REQUESTS)
                .keyBy(IdentityMerge::toId)
                .connect(env.fromSource(io.privacyOnce(), Watermarks.<PrivacyRequest>neverHoldingBack(),
                                "privacy.requests (once)").uid(Uids.PRIVACY_ONCE_SOURCE)
                        .flatMap((PrivacyRequest request, Collector<PrivacyRequest> out) -> {
                            if (request.origin() == null) {
                                for (String id : request.idsWithKeys()) {
                                    out.collect(new PrivacyRequest(request.requestId(), request.type(), List.of(id),
                                            request.requestedAt(), request.requester()));
                                }
                            }
                        }).returns(Suppress.REQUESTS).name("privacy requests by id").uid(Uids.PRIVACY_BY_ID)
                        .keyBy(request -> request.ids().get(0)))
                .process(new IdentityCapFunction(options.maxAnonymousIds(), options.identityTtl()))
                .returns(new JsonRecordTypeInfo<>(new IdentityMergeCodec()))
                .name("cap linked ids per user; devices of privacy requests")
                .uid(Uids.IDENTITY_CAP);
        decisions.sinkTo(io.merges()).name("identity.merges").uid(Uids.MERGES_SINK);
        decisions.getSideOutput(IdentityCapFunction.LINKED_DEVICES).sinkTo(io.privacyRequests())
                .name("privacy.requests (linked devices)").uid(Uids.PRIVACY_LINKED_SINK);

        // A device linked to a suppressed user resolves to him here: its events go too.
        SingleOutputStreamOperator<UnifiedEvent> resolved = stitched
                .connect(suppressions).process(new Suppress.Resolved(io.privacyAtOpen()))
                .returns(UnifiedEventTypeInfo.INSTANCE)
                .name("drop suppressed users' devices").uid(Uids.SUPPRESS_RESOLVED);
        resolved.sinkTo(io.unified()).name("events.unified").uid(Uids.UNIFIED_SINK);
        // Each checking subtask reports when it has taken a request in: suppression is in force once all have.
        onTime.getSideOutput(Suppress.STATUS)
                .union(resolved.getSideOutput(Suppress.STATUS), deadLetters.getSideOutput(Suppress.STATUS))
                .sinkTo(io.privacyStatus()).name("privacy.status").uid(Uids.PRIVACY_STATUS_SINK);
        // The history keeps user actions as sent: no link markers, no link annotations (they order merges in the stream).
        resolved.flatMap((UnifiedEvent event, Collector<UnifiedEvent> out) -> {
                    if (!IdentityLink.isMarker(event)) {
                        out.collect(IdentityLink.strip(event));
                    }
                }).returns(UnifiedEventTypeInfo.INSTANCE).name("user actions, as sent").uid(Uids.HISTORY_ACTIONS)
                .union(late).sinkTo(io.history()).name("Parquet history").uid(Uids.HISTORY_SINK);
    }

    /**
     * Receive-time watermarks per partition, with the partitions read in step: none runs more than
     * {@code --max-partition-drift} ahead of the slowest. Live, partitions move together anyway; in a replay of a
     * backlog this keeps one user's events, which come from several partitions (devices, server-side sources), in
     * order on events.unified to within the drift, so downstream event time sees them in order.
     *
     * <p>Not for a bounded read (tests, benchmarks, a replay run to its end): there the Kafka connector (5.0.0-2.2)
     * can be asked by the alignment to pause a partition whose split has just finished and left the consumer's
     * assignment, and the consumer's {@code IllegalStateException: No current assignment for partition} fails the job
     * at end of input (FLINK-39728; 340,902 deliveries in IngestThroughputBenchmark failed so every time). No release
     * on Maven Central fixes it yet. A bounded read keeps each partition in order; only how far apart partitions are
     * read is not bounded.
     */
    private WatermarkStrategy<RawEvent> receiveTimeWatermarks(boolean bounded) {
        WatermarkStrategy<RawEvent> strategy = WatermarkStrategy.<RawEvent>forBoundedOutOfOrderness(options.outOfOrderness())
                .withTimestampAssigner((raw, kafkaTimestamp) -> raw.receivedAt())
                .withIdleness(options.idleness());
        return bounded ? strategy
                : strategy.withWatermarkAlignment("cohortflow-raw", options.maxPartitionDrift(), Duration.ofMillis(200));
    }


    /** Configures an environment the way every deployment of this job needs it. */
    public static void configure(StreamExecutionEnvironment env, IngestOptions options) {
        JobEnvironment.configure(env, options.maxParallelism(), options.summary());
    }

    public static void main(String[] args) throws Exception {
        IngestOptions options = IngestOptions.parse(args);
        var kafka = options.kafka();
        KafkaLimits.check(kafka, List.of(kafka.topic(TopicsConfig.UNIFIED),
                kafka.topic(TopicsConfig.DLQ), kafka.topic(TopicsConfig.LATE), kafka.topic(TopicsConfig.MERGES)));
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        configure(env, options);
        fromOptions(options, false).build(env);
        env.execute("cohortflow ingest");
    }
}
