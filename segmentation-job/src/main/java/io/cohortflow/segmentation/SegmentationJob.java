package io.cohortflow.segmentation;

import io.cohortflow.core.config.TopicsConfig;
import io.cohortflow.core.privacy.PrivacyRequest;
import io.cohortflow.core.privacy.PrivacyRequestCodec;
import io.cohortflow.core.privacy.PrivacyStatus;
import io.cohortflow.core.privacy.PrivacyStatusCodec;
import io.cohortflow.core.engine.UserSegments;
import io.cohortflow.core.event.UnifiedEvent;
import io.cohortflow.core.event.UnifiedEventCodec;
import io.cohortflow.core.identity.IdentityMerge;
import io.cohortflow.core.identity.IdentityMergeCodec;
import io.cohortflow.core.model.ModelPublished;
import io.cohortflow.core.model.ModelPublishedCodec;
import io.cohortflow.core.scoring.Scorer;
import io.cohortflow.core.segment.SegmentChange;
import io.cohortflow.core.segment.SegmentChangeCodec;
import io.cohortflow.core.segment.SegmentDefinition;
import io.cohortflow.core.segment.SegmentDefinitionCodec;
import io.cohortflow.core.segment.SegmentProfile;
import io.cohortflow.core.segment.SegmentProfileCodec;
import io.cohortflow.core.segment.StateHandoff;
import io.cohortflow.core.segment.StateHandoffCodec;
import io.cohortflow.jobs.kafka.KafkaIo;
import io.cohortflow.jobs.kafka.KafkaLimits;
import io.cohortflow.jobs.kafka.Watermarks;
import io.cohortflow.jobs.options.JobEnvironment;
import io.cohortflow.jobs.types.JsonRecordTypeInfo;
import io.cohortflow.jobs.types.UnifiedEventTypeInfo;
import io.cohortflow.segmentation.functions.LatestProfiles;
import io.cohortflow.segmentation.functions.Scoring;
import io.cohortflow.segmentation.functions.SegmentFunction;
import io.cohortflow.segmentation.input.Control;
import io.cohortflow.segmentation.input.ControlCodec;
import io.cohortflow.segmentation.input.SegmentationInput;
import io.cohortflow.segmentation.input.SegmentationInputTypeInfo;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.source.Source;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.streaming.api.datastream.BroadcastStream;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.util.Collector;

import java.util.List;

/**
 * The segmentation job.
 *
 * <p>Reads events.unified (read_committed, keyed by resolved user id), privacy.requests (each id of a request that
 * deletes is forgotten: its members EXIT with cause {@code privacy}, its profile gets a tombstone), events.late (events later than ingest's allowed
 * lateness, applied as corrections whose changes carry the cause {@code late}), identity.merges (the decision on each
 * link: a merge takes effect at the link's place in events.unified, see {@code IdentityLink}), its own
 * segments.handoff, and
 * two compacted topics as broadcast: segments.definitions and models.published (a promotion: the job loads that
 * version from the model registry, checks its feature schema, and swaps it in; with {@code --registry} it loads the
 * current version at start). Keeps event-time features per user ({@code UserFeatures}), evaluates the segment
 * conditions (CEL) with the model scores, assigns each user a persona segment, and writes:
 * <ul>
 *   <li>segments.changes: ENTER and EXIT transitions only, with a deterministic change id;</li>
 *   <li>segments.profiles (compacted): each user's memberships, key features and scores, with every change; while
 *       the job is behind, a profile that moved no membership (a window moving, an event) may be replaced by the
 *       user's next one before it is written ({@link LatestProfiles}: the latest per user at every checkpoint and
 *       every {@code --profile-flush});</li>
 *   <li>segments.handoff: feature state moved from a merged-away id to its user, read back by this job. The user holds
 *       what follows its linking event until the handoff is folded in: about one checkpoint interval, plus a poll,
 *       at each new link (exactly-once).</li>
 * </ul>
 * Outputs are exactly-once by default. Options: {@link SegmentationOptions}. Checkpointing, the state backend and
 * the restart strategy come from the cluster configuration, not from this code.
 */
public final class SegmentationJob {
    /** The job's connections to the outside: built from options by {@link #fromOptions}, or by tests. */
    public record Io(Source<UnifiedEvent, ?, ?> unified, Source<UnifiedEvent, ?, ?> late, Source<IdentityMerge, ?, ?> merges,
                     Source<StateHandoff, ?, ?> handoffsIn, Source<SegmentDefinition, ?, ?> definitions,
                     Source<ModelPublished, ?, ?> models, Source<PrivacyRequest, ?, ?> privacy,
                     Sink<SegmentChange> changes, Sink<SegmentProfile> profiles, Sink<StateHandoff> handoffsOut,
                     Sink<PrivacyStatus> privacyStatus) {
    }

    private static final SegmentationInputTypeInfo INPUT = SegmentationInputTypeInfo.INSTANCE;
    private static final JsonRecordTypeInfo<Control> CONTROL = new JsonRecordTypeInfo<>(new ControlCodec());
    private static final JsonRecordTypeInfo<SegmentProfile> PROFILE = new JsonRecordTypeInfo<>(new SegmentProfileCodec());
    /**
     * How many users' profiles {@link LatestProfiles} holds at most per parallel instance before it writes them all: an
     * unbuilt profile kept about 4.5 KB on the heap (16,391 simulated users' last ones), so this bounds it to about
     * 45 MB.
     */
    static final int LATEST_PROFILES_WAITING = 10_000;

    private final Io io;
    private final SegmentationOptions options;
    private final Scoring scoring;

    public SegmentationJob(Io io, SegmentationOptions options, Scoring scoring) {
        this.io = io;
        this.options = options;
        this.scoring = scoring;
    }

    /**
     * How the job reads events.unified and events.late: keeping of each event's maps only what the engine reads
     * ({@link UserSegments#EVENT_FIELDS_READ}), so the rest (a web event's page, user agent and library, about half
     * its bytes) is neither decoded nor carried through the shuffle and the state.
     */
    public static final UnifiedEventCodec EVENTS = UnifiedEventCodec.keeping(UserSegments.EVENT_FIELDS_READ);

    /** The job wired to Kafka as configured. {@code bounded} stops every source at the offsets seen at start. */
    public static SegmentationJob fromOptions(SegmentationOptions options, boolean bounded) {
        var kafka = options.kafka();
        String bs = kafka.bootstrapServers();
        String group = options.groupId();
        IdentityMergeCodec merges = new IdentityMergeCodec();
        StateHandoffCodec handoffs = new StateHandoffCodec();
        SegmentDefinitionCodec definitions = new SegmentDefinitionCodec();
        ModelPublishedCodec models = new ModelPublishedCodec();
        Io io = new Io(
                KafkaIo.jsonSource(bs, kafka.topic(TopicsConfig.UNIFIED), group, EVENTS,
                        UnifiedEventTypeInfo.INSTANCE, bounded),
                KafkaIo.jsonSource(bs, kafka.topic(TopicsConfig.LATE), group + "-late", EVENTS,
                        UnifiedEventTypeInfo.INSTANCE, bounded),
                KafkaIo.jsonSource(bs, kafka.topic(TopicsConfig.MERGES), group + "-merges", merges,
                        new JsonRecordTypeInfo<>(merges), bounded),
                KafkaIo.jsonSource(bs, kafka.topic(TopicsConfig.HANDOFF), group + "-handoff", handoffs,
                        new JsonRecordTypeInfo<>(handoffs), bounded),
                KafkaIo.wholeTopic(bs, kafka.topic(TopicsConfig.DEFINITIONS), group + "-definitions", definitions,
                        new JsonRecordTypeInfo<>(definitions), bounded),
                KafkaIo.wholeTopic(bs, kafka.topic(TopicsConfig.MODELS), group + "-models", models,
                        new JsonRecordTypeInfo<>(models), bounded),
                // From the group's offsets, and from the end at a first start: a request erases what was known when it
                // came, and applying it again later would erase what came since (a DELETE lets new events in).
                KafkaIo.jsonSourceFromNowOn(bs, kafka.topic(TopicsConfig.PRIVACY), group + "-privacy",
                        new PrivacyRequestCodec(), new JsonRecordTypeInfo<>(new PrivacyRequestCodec()), bounded),
                KafkaIo.sink(kafka, kafka.topic(TopicsConfig.CHANGES), new SegmentChangeCodec(),
                        change -> KafkaIo.utf8(change.userId()), group + "-changes"),
                KafkaIo.sink(kafka, kafka.topic(TopicsConfig.PROFILES), new SegmentProfileCodec(),
                        profile -> KafkaIo.utf8(profile.userId()), SegmentProfile::isTombstone, group + "-profiles"),
                KafkaIo.sink(kafka, kafka.topic(TopicsConfig.HANDOFF), handoffs,
                        handoff -> KafkaIo.utf8(handoff.toId()), group + "-handoff"),
                KafkaIo.sink(kafka, kafka.topic(TopicsConfig.PRIVACY_STATUS), new PrivacyStatusCodec(),
                        report -> KafkaIo.utf8(report.key()), group + "-privacy-status"));
        return new SegmentationJob(io, options, new Scoring(options.registry(), options.model(), Scorer.NONE));
    }

    public void build(StreamExecutionEnvironment env) {
        DataStream<SegmentationInput> events = env
                .fromSource(io.unified(), Watermarks.forUnifiedEvents(options.outOfOrderness(), options.idleness()),
                        "events.unified")
                .uid(Uids.UNIFIED_SOURCE)
                .map(SegmentationInput::of).returns(INPUT).name("events").uid(Uids.EVENTS_IN);
        // Late events, merges, handoffs and definitions are handled on arrival: they must not hold the event-time clock
        // back (late events are old by definition).
        DataStream<SegmentationInput> late = env
                .fromSource(io.late(), Watermarks.<UnifiedEvent>neverHoldingBack(), "events.late")
                .uid(Uids.LATE_SOURCE)
                .map(SegmentationInput::late).returns(INPUT).name("late events").uid(Uids.LATE_IN);
        DataStream<SegmentationInput> merges = env
                .fromSource(io.merges(), Watermarks.<IdentityMerge>neverHoldingBack(), "identity.merges")
                .uid(Uids.MERGES_SOURCE)
                .flatMap((IdentityMerge decision, Collector<SegmentationInput> out) -> {
                    out.collect(SegmentationInput.of(decision)); // the device merges (or not) at its marker
                    if (decision.status() != IdentityMerge.Status.MERGED) {
                        out.collect(SegmentationInput.refusal(decision)); // the user stops waiting for its state
                    }
                }).returns(INPUT).name("link decisions").uid(Uids.MERGES_IN);
        DataStream<SegmentationInput> handoffs = env
                .fromSource(io.handoffsIn(), Watermarks.<StateHandoff>neverHoldingBack(), "segments.handoff")
                .uid(Uids.HANDOFF_SOURCE)
                .map(SegmentationInput::of).returns(INPUT).name("handoffs").uid(Uids.HANDOFFS_IN);
        DataStream<SegmentationInput> erasures = env
                .fromSource(io.privacy(), Watermarks.<PrivacyRequest>neverHoldingBack(), "privacy.requests")
                .uid(Uids.PRIVACY_SOURCE)
                .flatMap((PrivacyRequest request, Collector<SegmentationInput> out) -> {
                    if (request.type().deletes()) {
                        // Each id by the key ingest gives it: an email address is its email_sha256 key here (a
                        // tombstone keyed by the address itself would publish it).
                        java.util.Set<String> keys = request.keys();
                        for (String key : keys) {
                            out.collect(SegmentationInput.erase(request.requestId(), key, request.requestedAt(),
                                    keys.size()));
                        }
                    }
                }).returns(INPUT).name("erasures").uid(Uids.ERASURES_IN);
        DataStream<Control> definitions = env
                .fromSource(io.definitions(), Watermarks.<SegmentDefinition>neverHoldingBack(), "segments.definitions")
                .uid(Uids.DEFINITIONS_SOURCE)
                .map(Control::of).returns(CONTROL).name("definitions").uid(Uids.DEFINITIONS_IN);
        DataStream<Control> models = env
                .fromSource(io.models(), Watermarks.<ModelPublished>neverHoldingBack(), "models.published")
                .uid(Uids.MODELS_SOURCE)
                .map(Control::of).returns(CONTROL).name("models").uid(Uids.MODELS_IN);
        BroadcastStream<Control> control = definitions.union(models)
                .broadcast(SegmentFunction.DEFINITIONS, SegmentFunction.MODELS);

        SingleOutputStreamOperator<SegmentChange> changes = events.union(late, merges, handoffs, erasures)
                .keyBy(SegmentationInput::key)
                .connect(control)
                .process(new SegmentFunction(options.features(), options.eventNames(), options.segments(), scoring,
                        options.mergeMemory(), options.erasureMemory()))
                .returns(JsonRecordTypeInfo.SEGMENT_CHANGE)
                .name("features, segments, scores")
                .uid(Uids.SEGMENTS);
        changes.sinkTo(io.changes()).name("segments.changes").uid(Uids.CHANGES_SINK);
        changes.getSideOutput(SegmentFunction.PROFILES)
                .transform("latest profile per user", PROFILE,
                        new LatestProfiles(options.profileFlush(), options.profileBehind(), LATEST_PROFILES_WAITING,
                                options.kafka().deliveryGuarantee() == DeliveryGuarantee.EXACTLY_ONCE))
                .uid(Uids.LATEST_PROFILES)
                .sinkTo(io.profiles()).name("segments.profiles").uid(Uids.PROFILES_SINK);
        changes.getSideOutput(SegmentFunction.HANDOFFS).sinkTo(io.handoffsOut()).name("segments.handoff").uid(Uids.HANDOFF_SINK);
        changes.getSideOutput(SegmentFunction.PRIVACY_STATUS).sinkTo(io.privacyStatus()).name("privacy.status")
                .uid(Uids.PRIVACY_STATUS_SINK);
    }

    public static void configure(StreamExecutionEnvironment env, SegmentationOptions options) {
        JobEnvironment.configure(env, options.maxParallelism(), options.summary());
    }

    public static void main(String[] args) throws Exception {
        SegmentationOptions options = SegmentationOptions.parse(args);
        var kafka = options.kafka();
        KafkaLimits.check(kafka, List.of(kafka.topic(TopicsConfig.CHANGES),
                kafka.topic(TopicsConfig.PROFILES), kafka.topic(TopicsConfig.HANDOFF)));
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        configure(env, options);
        fromOptions(options, false).build(env);
        env.execute("cohortflow segmentation");
    }
}
