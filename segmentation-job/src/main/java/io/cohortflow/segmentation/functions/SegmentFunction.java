package io.cohortflow.segmentation.functions;

import io.cohortflow.core.event.UnifiedEvent;
import io.cohortflow.core.feature.FeatureConfig;
import io.cohortflow.core.feature.FeatureSnapshot;
import io.cohortflow.core.feature.UserFeatures;
import io.cohortflow.core.identity.IdentityMerge;
import io.cohortflow.core.model.ModelManifest;
import io.cohortflow.core.model.ModelPublished;
import io.cohortflow.core.model.ModelPublishedCodec;
import io.cohortflow.core.scoring.Scorer;
import io.cohortflow.core.scoring.Scores;
import io.cohortflow.core.segment.Cause;
import io.cohortflow.core.segment.ChangeType;
import io.cohortflow.core.segment.SegmentChange;
import io.cohortflow.core.segment.SegmentDefinition;
import io.cohortflow.core.segment.SegmentDefinitionCodec;
import io.cohortflow.core.segment.SegmentProfile;
import io.cohortflow.core.segment.SegmentProfileCodec;
import io.cohortflow.core.segment.SegmentRules;
import io.cohortflow.core.segment.StateHandoff;
import io.cohortflow.core.segment.StateHandoffCodec;
import io.cohortflow.jobs.metrics.ProductMetrics;
import io.cohortflow.jobs.state.StateTtls;
import io.cohortflow.jobs.types.JsonRecordTypeInfo;
import io.cohortflow.registry.ModelBundle;
import io.cohortflow.registry.ModelRegistry;
import io.cohortflow.segmentation.input.Control;
import io.cohortflow.segmentation.input.SegmentationInput;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.BroadcastState;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.ReadOnlyBroadcastState;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.typeutils.ListTypeInfo;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.co.KeyedBroadcastProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.UUID;

/**
 * Everything the segmentation job knows of one user, keyed by resolved user id: event-time features, segment
 * memberships, and their transitions.
 *
 * <ul>
 *   <li><b>Event time.</b> Events wait until the watermark passes them and are applied in timestamp order, so results
 *       do not depend on arrival order or parallelism. An event already behind the watermark is applied at once.</li>
 *   <li><b>Time passing.</b> After every evaluation an event-time timer is set for the next moment a feature changes
 *       on its own ({@link UserFeatures#nextChange}): a window sliding past a bucket, a session ending, a cart
 *       turning abandoned, recency passing a day. Members of windowed segments leave when the window passes, with
 *       that moment as the EXIT's event time, whether or not they send anything.</li>
 *   <li><b>Rules</b> are the definitions of conf/segments.yaml, overridden and extended by the broadcast
 *       segments.definitions topic (hot reload). An invalid definition is refused with a log line and a metric and
 *       the running set stays. A changed set applies to each user at their next evaluation (event or timer).</li>
 *   <li><b>Identity merges.</b> A MERGED record arrives at the anonymous id and waits for the watermark like an
 *       event; then its members EXIT, its features are handed to the known user through the handoff side output (a Kafka topic the job reads back), and it remembers the
 *       merge so that stragglers follow. A handoff arrives at the known user and is folded in, bucket by bucket.</li>
 *   <li><b>Cleanup.</b> When no feature can see anything any more (90 days of inactivity) and the user is in no
 *       segment, all state is cleared.</li>
 * </ul>
 * Outputs: changes (main), profiles and handoffs (side outputs). Metrics: {@code segmentEnters},
 * {@code segmentExits}, {@code definitionsRejected}, {@code stateHandoffs}, {@code usersCleared}.
 */
public final class SegmentFunction extends KeyedBroadcastProcessFunction<String, SegmentationInput, Control, SegmentChange> {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(SegmentFunction.class);

    public static final MapStateDescriptor<String, SegmentDefinition> DEFINITIONS = new MapStateDescriptor<>(
            "segment-definitions", Types.STRING, new JsonRecordTypeInfo<>(new SegmentDefinitionCodec()));
    /** The latest promotion announced per model name (deterministic on every instance, unlike a load's outcome). */
    public static final MapStateDescriptor<String, ModelPublished> MODELS = new MapStateDescriptor<>(
            "model-announcements", Types.STRING, new JsonRecordTypeInfo<>(new ModelPublishedCodec()));
    /** Persona segments (one per user once a bundle scores) have ids with this prefix. */
    public static final String PERSONA_PREFIX = "persona_";
    private static final String SCHEMA_HASH = ModelManifest.schemaHash(FeatureSnapshot.MODEL_FEATURES);
    public static final OutputTag<SegmentProfile> PROFILES =
            new OutputTag<>("profiles", new JsonRecordTypeInfo<>(new SegmentProfileCodec()));
    public static final OutputTag<StateHandoff> HANDOFFS =
            new OutputTag<>("handoffs", new JsonRecordTypeInfo<>(new StateHandoffCodec()));

    private final FeatureConfig featureConfig;
    private final List<String> eventNames;
    private final List<SegmentDefinition> configured;
    private final Scoring scoring;
    private final Duration mergeMemory;

    private transient ValueState<byte[]> featureState;
    private transient MapState<Long, List<UnifiedEvent>> pending;
    private transient MapState<String, Long> memberships;
    private transient MapState<String, Long> transitions;
    private transient ValueState<Long> evaluatedUntil;
    private transient ValueState<String> mergedInto;
    private transient ValueState<IdentityMerge> pendingMerge;
    private transient Map<String, SegmentRules.Compiled> compiled;
    /** Whether {@link #compiled} includes what the broadcast state held at (re)start; kept current after that. */
    private transient boolean broadcastStateLoaded;
    /** What scores now: the initial scorer until a bundle loads; a refused bundle leaves it as it is. */
    private transient Scorer scorer;
    private transient int modelVersion;
    /** Whether the model was looked up at (re)start: the restored announcement, else the registry's current one. */
    private transient boolean modelsInitialised;
    private transient Counter modelsLoaded;
    private transient Counter modelsRefused;
    private transient Counter enters;
    private transient Counter exits;
    private transient Counter rejected;
    private transient Counter handoffs;
    private transient Counter cleared;

    public SegmentFunction(FeatureConfig featureConfig, List<String> eventNames, List<SegmentDefinition> configured,
                           Scoring scoring, Duration mergeMemory) {
        this.featureConfig = featureConfig;
        this.eventNames = List.copyOf(eventNames);
        this.configured = List.copyOf(configured);
        this.scoring = scoring;
        this.mergeMemory = mergeMemory;
    }

    @Override
    public void open(OpenContext openContext) {
        var ctx = getRuntimeContext();
        featureState = ctx.getState(new ValueStateDescriptor<>("features", PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO));
        pending = ctx.getMapState(new MapStateDescriptor<>("pending-events", Types.LONG,
                new ListTypeInfo<>(JsonRecordTypeInfo.UNIFIED_EVENT)));
        memberships = ctx.getMapState(new MapStateDescriptor<>("memberships", Types.STRING, Types.LONG));
        transitions = ctx.getMapState(new MapStateDescriptor<>("transition-counts", Types.STRING, Types.LONG));
        evaluatedUntil = ctx.getState(new ValueStateDescriptor<>("evaluated-until", Types.LONG));
        ValueStateDescriptor<String> merged = new ValueStateDescriptor<>("merged-into", Types.STRING);
        merged.enableTimeToLive(StateTtls.afterWrite(mergeMemory));
        mergedInto = ctx.getState(merged);
        pendingMerge = ctx.getState(new ValueStateDescriptor<>("pending-merge",
                new JsonRecordTypeInfo<>(new io.cohortflow.core.identity.IdentityMergeCodec())));
        compiled = new HashMap<>();
        for (SegmentDefinition definition : configured) {
            compiled.put(definition.id(), SegmentRules.compile(definition));
        }
        var metrics = ProductMetrics.of(ctx.getMetricGroup());
        enters = metrics.counter("segmentEnters");
        exits = metrics.counter("segmentExits");
        rejected = metrics.counter("definitionsRejected");
        handoffs = metrics.counter("stateHandoffs");
        cleared = metrics.counter("usersCleared");
        modelsLoaded = metrics.counter("modelsLoaded");
        modelsRefused = metrics.counter("modelsRefused");
        metrics.gauge("modelVersion", () -> modelVersion);
        scorer = scoring.initial();
    }

    // ---- definitions (broadcast) -------------------------------------------------------------------------------

    @Override
    public void processBroadcastElement(Control control, Context ctx, Collector<SegmentChange> out) throws Exception {
        if (control.model() != null) {
            onModelPublished(control.model(), ctx);
            return;
        }
        SegmentDefinition definition = control.definition();
        BroadcastState<String, SegmentDefinition> state = ctx.getBroadcastState(DEFINITIONS);
        if (definition.deleted()) {
            state.put(definition.id(), definition);
            compiled.remove(definition.id());
            LOG.info("segment {} removed; its members leave at their next evaluation", definition.id());
            return;
        }
        try {
            SegmentRules.Compiled program = SegmentRules.compile(definition);
            state.put(definition.id(), definition);
            compiled.put(definition.id(), program);
            LOG.info("segment {} ('{}') is now: {}", definition.id(), definition.name(), definition.condition());
        } catch (IllegalArgumentException e) {
            rejected.inc();
            LOG.warn("refused a segment definition, the running set stays: {}", e.getMessage());
        }
    }

    /**
     * The running set: conf/segments.yaml, then what the definitions topic said (last word wins). The compiled cache is
     * kept current by {@link #processBroadcastElement}; only after a restore must it first take in what the broadcast
     * state holds, once.
     */
    private Map<String, SegmentRules.Compiled> activeSegments(ReadOnlyBroadcastState<String, SegmentDefinition> topic)
            throws Exception {
        if (broadcastStateLoaded) {
            return compiled;
        }
        broadcastStateLoaded = true;
        for (Map.Entry<String, SegmentDefinition> entry : topic.immutableEntries()) {
            SegmentRules.Compiled known = compiled.get(entry.getKey());
            SegmentDefinition definition = entry.getValue();
            if (definition.deleted()) {
                compiled.remove(entry.getKey());
            } else if (known == null || !known.definition().equals(definition)) {
                try {
                    compiled.put(entry.getKey(), SegmentRules.compile(definition));
                } catch (IllegalArgumentException e) {
                    LOG.warn("stored definition of {} does not compile: {}", entry.getKey(), e.getMessage());
                }
            }
        }
        return compiled;
    }

    // ---- models (broadcast) --------------------------------------------------------------------------------------

    /**
     * A promotion: recorded in the broadcast state (every instance records the same), then loaded. A bundle that
     * cannot be used is refused with a log line and {@code modelsRefused}; the previous one keeps scoring. Users are
     * rescored lazily: each at their next evaluation (an event, or the timer at their next feature change).
     */
    private void onModelPublished(ModelPublished published, Context ctx) throws Exception {
        if (!published.name().equals(scoring.modelName())) {
            LOG.info("ignoring {} v{}: this job scores with '{}'", published.name(), published.version(), scoring.modelName());
            return;
        }
        activeScorer(ctx.getBroadcastState(MODELS));
        if (published.featureSchemaHash() != null && !published.featureSchemaHash().equals(SCHEMA_HASH)) {
            modelsRefused.inc();
            LOG.error("REFUSED model {} v{}: it was trained on another feature schema ({}) than this job computes ({}); "
                    + "still scoring as before", published.name(), published.version(),
                    published.featureSchemaHash().substring(0, Math.min(12, published.featureSchemaHash().length())),
                    SCHEMA_HASH.substring(0, 12));
            return;
        }
        ctx.getBroadcastState(MODELS).put(published.name(), published);
        if (published.version() != modelVersion) {
            load(published.registry(), published.version(), "announced on models.published (" + published.reason() + ")");
        }
    }

    /** At the first use after a (re)start: the restored announcement if it loads, else the registry's current version. */
    private Scorer activeScorer(ReadOnlyBroadcastState<String, ModelPublished> announced) throws Exception {
        if (modelsInitialised) {
            return scorer;
        }
        modelsInitialised = true;
        ModelPublished restored = announced.get(scoring.modelName());
        if (restored != null && load(restored.registry(), restored.version(), "restored from the last checkpoint")) {
            return scorer;
        }
        if (scoring.registry() != null) {
            try {
                ModelRegistry registry = new ModelRegistry(URI.create(scoring.registry()));
                Optional<ModelManifest> current = registry.current(scoring.modelName());
                if (current.isPresent()) {
                    load(scoring.registry(), current.get().version(), "the registry's current version at start");
                } else {
                    LOG.info("no current version of {} in {} yet: scoring with {} until one is promoted",
                            scoring.modelName(), scoring.registry(), scorer.getClass().getSimpleName());
                }
            } catch (RuntimeException e) {
                modelsRefused.inc();
                LOG.error("cannot read the model registry {}; scoring stays as it is: {}", scoring.registry(),
                        e.getMessage(), e);
            }
        }
        return scorer;
    }

    private boolean load(String registry, int version, String why) {
        try {
            ModelBundle bundle = ModelBundle.load(new ModelRegistry(URI.create(registry)), scoring.modelName(), version,
                    SCHEMA_HASH);
            scorer = bundle;
            modelVersion = version;
            modelsLoaded.inc();
            LOG.info("now scoring with {} from {} ({}); users are rescored at their next event or timer",
                    bundle.label(), registry, why);
            return true;
        } catch (RuntimeException e) {
            modelsRefused.inc();
            LOG.error("REFUSED model {} v{} ({}); still scoring with {}: {}", scoring.modelName(), version, why,
                    modelVersion == 0 ? "the previous scorer" : scoring.modelName() + "@v" + modelVersion,
                    e.getMessage());
            return false;
        }
    }

    // ---- inputs ------------------------------------------------------------------------------------------------

    @Override
    public void processElement(SegmentationInput input, ReadOnlyContext ctx, Collector<SegmentChange> out)
            throws Exception {
        if (input.event() != null) {
            onEvent(input.event(), ctx, out);
        } else if (input.merge() != null) {
            onMerge(input.merge(), ctx, out);
        } else {
            onHandoff(input.handoff(), ctx, out);
        }
    }

    private void onEvent(UnifiedEvent event, ReadOnlyContext ctx, Collector<SegmentChange> out) throws Exception {
        String target = mergedInto.value();
        if (target != null) {
            // A straggler of an id already merged away: its behaviour belongs to the known user.
            UserFeatures single = new UserFeatures(featureConfig);
            single.add(event);
            handOff(ctx.getCurrentKey(), target, single, event.timestamp(), ctx);
            return;
        }
        long watermark = ctx.timerService().currentWatermark();
        if (event.timestamp() > watermark) {
            List<UnifiedEvent> waiting = pending.get(event.timestamp());
            List<UnifiedEvent> events = waiting == null ? new ArrayList<>(1) : new ArrayList<>(waiting);
            events.add(event);
            pending.put(event.timestamp(), events);
            ctx.timerService().registerEventTimeTimer(event.timestamp());
            return;
        }
        // Behind the watermark: applied now, as of the time already evaluated (transitions are never rewritten).
        UserFeatures features = features();
        features.add(event);
        long now = Math.max(event.timestamp(), evaluatedUntilOr(event.timestamp()));
        evaluate(features, now, ctx.getCurrentKey(), ctx, out);
        save(features, now);
        schedule(features, now, ctx);
    }

    /** A merge waits, like events, until the watermark passes it: the history before it is applied first. */
    private void onMerge(IdentityMerge merge, ReadOnlyContext ctx, Collector<SegmentChange> out) throws Exception {
        if (merge.status() != IdentityMerge.Status.MERGED || merge.fromId().equals(merge.toId())) {
            return;
        }
        pendingMerge.update(merge);
        ctx.timerService().registerEventTimeTimer(Math.max(merge.eventTime(), evaluatedUntilOr(merge.eventTime())));
    }

    private void merge(IdentityMerge merge, ReadOnlyContext ctx, Collector<SegmentChange> out) throws Exception {
        String userId = ctx.getCurrentKey();
        UserFeatures features = features();
        // Whatever is still waiting for the watermark travels with the rest.
        List<Long> waiting = new ArrayList<>();
        for (Long t : pending.keys()) {
            waiting.add(t);
        }
        waiting.sort(null);
        for (long t : waiting) {
            pending.get(t).forEach(features::add);
        }
        pending.clear();
        long at = Math.max(merge.eventTime(), evaluatedUntilOr(merge.eventTime()));
        Map<String, SegmentRules.Compiled> segments = activeSegments(ctx.getBroadcastState(DEFINITIONS));
        Map<String, Double> numeric = features.snapshot(at, eventNames).numeric();
        String model = scorerLabel(ctx);
        for (String segmentId : keys(memberships)) {
            emit(out, userId, segmentId, segmentName(segmentId, segments, scorer(ctx)), ChangeType.EXIT,
                    at, ctx, new Cause("identity", "merged into " + merge.toId(), null), numeric, model);
        }
        handOff(userId, merge.toId(), features, at, ctx);
        ctx.output(PROFILES, new SegmentProfile(userId, at, List.of(), numeric, Map.of(), null, model, merge.toId()));
        clearUser();
        pendingMerge.clear();
        mergedInto.update(merge.toId());
    }

    private void onHandoff(StateHandoff handoff, ReadOnlyContext ctx, Collector<SegmentChange> out) throws Exception {
        UserFeatures features = features();
        features.merge(UserFeatures.fromBytes(Base64.getDecoder().decode(handoff.features()), featureConfig));
        long now = Math.max(handoff.eventTime(), evaluatedUntilOr(handoff.eventTime()));
        evaluate(features, now, ctx.getCurrentKey(), ctx, out, true);
        save(features, now);
        schedule(features, now, ctx);
    }

    @Override
    public void onTimer(long timestamp, OnTimerContext ctx, Collector<SegmentChange> out) throws Exception {
        UserFeatures features = features();
        String userId = ctx.getCurrentKey();
        List<Long> due = new ArrayList<>();
        for (Long t : pending.keys()) {
            if (t <= timestamp) {
                due.add(t);
            }
        }
        due.sort(null);
        for (long t : due) {
            stepTo(features, t - 1, userId, ctx, out);
            pending.get(t).forEach(features::add);
            pending.remove(t);
            evaluate(features, t, userId, ctx, out);
            evaluatedUntil.update(t);
        }
        stepTo(features, timestamp, userId, ctx, out);
        IdentityMerge merge = pendingMerge.value();
        if (merge != null && merge.eventTime() <= timestamp) {
            save(features, timestamp);
            merge(merge, ctx, out);
            return;
        }
        if (features.isEmpty(timestamp) && memberships.isEmpty() && pending.isEmpty() && merge == null) {
            cleared.inc();
            clearUser();
            return;
        }
        save(features, timestamp);
        schedule(features, timestamp, ctx);
    }

    // ---- evaluation ----------------------------------------------------------------------------------------------

    /** Evaluates at every moment a feature changes on its own, up to {@code t}, so each EXIT carries its own time. */
    private void stepTo(UserFeatures features, long t, String userId, ReadOnlyContext ctx, Collector<SegmentChange> out)
            throws Exception {
        long from = evaluatedUntilOr(t);
        OptionalLong next = features.nextChange(from);
        while (next.isPresent() && next.getAsLong() <= t) {
            long at = next.getAsLong();
            features.prune(at);
            evaluate(features, at, userId, ctx, out);
            evaluatedUntil.update(at);
            next = features.nextChange(at);
        }
        if (t > from) {
            features.prune(t);
            evaluatedUntil.update(t);
        }
    }

    private void evaluate(UserFeatures features, long t, String userId, ReadOnlyContext ctx,
                          Collector<SegmentChange> out) throws Exception {
        evaluate(features, t, userId, ctx, out, false);
    }

    private void evaluate(UserFeatures features, long t, String userId, ReadOnlyContext ctx,
                          Collector<SegmentChange> out, boolean forceProfile) throws Exception {
        Map<String, SegmentRules.Compiled> segments = activeSegments(ctx.getBroadcastState(DEFINITIONS));
        FeatureSnapshot snapshot = features.snapshot(t, eventNames);
        Scores scores = scorer(ctx).score(snapshot);
        Map<String, Double> numeric = snapshot.numeric();
        Map<String, Object> variables = SegmentRules.variables(snapshot, scores.scores(), scores.persona());
        // One read of the memberships per evaluation; emit() writes each change through to state.
        java.util.TreeSet<String> members = new java.util.TreeSet<>(keys(memberships));
        boolean changed = false;
        for (SegmentRules.Compiled segment : segments.values()) {
            String id = segment.definition().id();
            boolean in = SegmentRules.matches(segment, variables);
            if (in != members.contains(id)) {
                emit(out, userId, id, segment.definition().name(), in ? ChangeType.ENTER : ChangeType.EXIT, t, ctx,
                        cause(segment.definition(), scores), numeric, scores.model());
                if (in) {
                    members.add(id);
                } else {
                    members.remove(id);
                }
                changed = true;
            }
        }
        String persona = scores.persona() == null ? null : personaSegment(scores.persona());
        for (String id : List.copyOf(members)) {
            if (id.startsWith(PERSONA_PREFIX) ? !id.equals(persona) : !segments.containsKey(id)) {
                emit(out, userId, id, segmentName(id, segments, scorer(ctx)), ChangeType.EXIT, t, ctx,
                        id.startsWith(PERSONA_PREFIX)
                        ? modelCause(scores) : new Cause("rule", id, "removed"), numeric, scores.model());
                members.remove(id);
                changed = true;
            }
        }
        if (persona != null && !members.contains(persona)) {
            emit(out, userId, persona, scores.persona(), ChangeType.ENTER, t, ctx, modelCause(scores), numeric,
                    scores.model());
            members.add(persona);
            changed = true;
        }
        if (changed || forceProfile) {
            ctx.output(PROFILES, new SegmentProfile(userId, t, List.copyOf(members), numeric, scores.scores(),
                    scores.persona(), scores.model(), null));
        }
    }

    private void emit(Collector<SegmentChange> out, String userId, String segmentId, String name, ChangeType type,
                      long t, ReadOnlyContext ctx, Cause cause, Map<String, Double> numeric, String model)
            throws Exception {
        if (type == ChangeType.ENTER) {
            memberships.put(segmentId, t);
            enters.inc();
        } else {
            memberships.remove(segmentId);
            exits.inc();
        }
        Long before = transitions.get(segmentId);
        long ordinal = before == null ? 0 : before;
        transitions.put(segmentId, ordinal + 1);
        out.collect(SegmentChange.of(userId, segmentId, name, type, t, ordinal,
                ctx.timerService().currentProcessingTime(), cause, numeric, model));
    }

    /** A rule's cause carries a version of its condition (so a change of definition is visible); model segments name the model. */
    private static Cause cause(SegmentDefinition definition, Scores scores) {
        String condition = definition.condition();
        if (condition.contains("scores") || condition.contains("persona")) {
            return new Cause("model", definition.id(), scores.model());
        }
        String version = UUID.nameUUIDFromBytes(condition.getBytes(StandardCharsets.UTF_8)).toString().substring(0, 8);
        return Cause.rule(definition.id(), version);
    }

    /** The scorer of the per-user path: the broadcast state is only looked at once, at the first use after a start. */
    private Scorer scorer(ReadOnlyContext ctx) throws Exception {
        return modelsInitialised ? scorer : activeScorer(ctx.getBroadcastState(MODELS));
    }

    private String scorerLabel(ReadOnlyContext ctx) throws Exception {
        return scorer(ctx).label();
    }

    private static Cause modelCause(Scores scores) {
        return new Cause("model", "persona", scores.model());
    }

    /**
     * The name an EXIT carries: the definition's, or for a persona segment the persona's name in the current bundle.
     * Memberships keep only ids, so a segment that is gone (a deleted definition, a persona the new bundle no longer
     * has) exits under its id.
     */
    static String segmentName(String id, Map<String, SegmentRules.Compiled> segments, Scorer scorer) {
        SegmentRules.Compiled segment = segments.get(id);
        if (segment != null) {
            return segment.definition().name();
        }
        if (id.startsWith(PERSONA_PREFIX)) {
            for (String persona : scorer.personas()) {
                if (personaSegment(persona).equals(id)) {
                    return persona;
                }
            }
        }
        return id;
    }

    /** {@code persona_high_value_bundle_purchaser} for "High-Value Bundle Purchaser". */
    static String personaSegment(String persona) {
        String slug = persona.toLowerCase(java.util.Locale.ROOT).replaceAll("[^a-z0-9]+", "_").replaceAll("^_+|_+$", "");
        String id = PERSONA_PREFIX + (slug.isEmpty() ? "unnamed" : slug);
        return id.length() > 64 ? id.substring(0, 64) : id;
    }

    // ---- state ---------------------------------------------------------------------------------------------------

    private UserFeatures features() throws Exception {
        byte[] bytes = featureState.value();
        return bytes == null ? new UserFeatures(featureConfig) : UserFeatures.fromBytes(bytes, featureConfig);
    }

    private void save(UserFeatures features, long evaluated) throws Exception {
        featureState.update(features.toBytes());
        Long until = evaluatedUntil.value();
        if (until == null || evaluated > until) {
            evaluatedUntil.update(evaluated);
        }
    }

    private long evaluatedUntilOr(long fallback) throws Exception {
        Long until = evaluatedUntil.value();
        return until == null ? fallback : until;
    }

    private void schedule(UserFeatures features, long t, ReadOnlyContext ctx) {
        OptionalLong next = features.nextChange(t);
        if (next.isPresent()) {
            ctx.timerService().registerEventTimeTimer(next.getAsLong());
        }
    }

    private void handOff(String from, String to, UserFeatures features, long t, ReadOnlyContext ctx) {
        handoffs.inc();
        ctx.output(HANDOFFS, new StateHandoff(from, to, Base64.getEncoder().encodeToString(features.toBytes()), t));
    }

    private void clearUser() {
        featureState.clear();
        pending.clear();
        memberships.clear();
        transitions.clear();
        evaluatedUntil.clear();
    }

    private static List<String> keys(MapState<String, Long> state) throws Exception {
        List<String> keys = new ArrayList<>();
        for (String key : state.keys()) {
            keys.add(key);
        }
        keys.sort(null);
        return keys;
    }
}
