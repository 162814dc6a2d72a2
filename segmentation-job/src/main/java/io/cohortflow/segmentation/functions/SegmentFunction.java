package io.cohortflow.segmentation.functions;

import io.cohortflow.core.engine.Outcome;
import io.cohortflow.core.privacy.PrivacyStatus;
import io.cohortflow.core.privacy.PrivacyStatusCodec;
import io.cohortflow.core.engine.Ruleset;
import io.cohortflow.core.engine.StepProfile;
import io.cohortflow.core.engine.UserSegments;
import io.cohortflow.core.feature.FeatureConfig;
import io.cohortflow.core.feature.UserFeatures;
import io.cohortflow.core.identity.IdentityMerge;
import io.cohortflow.core.model.ModelPublished;
import io.cohortflow.core.model.ModelPublishedCodec;
import io.cohortflow.core.segment.ChangeType;
import io.cohortflow.core.segment.SegmentChange;
import io.cohortflow.core.segment.SegmentDefinition;
import io.cohortflow.core.segment.SegmentDefinitionCodec;
import io.cohortflow.core.segment.SegmentProfile;
import io.cohortflow.core.segment.SegmentRules;
import io.cohortflow.core.segment.StateHandoff;
import io.cohortflow.core.segment.StateHandoffCodec;
import io.cohortflow.jobs.metrics.ProductMetrics;
import io.cohortflow.jobs.types.JsonRecordTypeInfo;
import io.cohortflow.segmentation.SegmentationOptions;
import io.cohortflow.segmentation.input.Control;
import io.cohortflow.segmentation.input.SegmentationInput;
import io.cohortflow.segmentation.state.UserSegmentsSerializer;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.ReadOnlyBroadcastState;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.co.KeyedBroadcastProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.TreeMap;

/**
 * The stream's host of the per-user engine ({@link UserSegments}, in core), keyed by resolved user id: one value state
 * per user, one event-time timer at the engine's next wake-up, and the running rules.
 *
 * <ul>
 *   <li>Events, link decisions and handoffs go to the engine as they arrive: ENTERs are emitted with the event that
 *       caused them. Late events (events.late) are applied the same way, as corrections: their changes' cause is
 *       {@code late}. The watermark only drives what time alone decides (window exits, abandoned carts, recency,
 *       cleanup), through the timer. A merge takes effect at the link's place in each id's stream (the engine holds
 *       what follows until the decision or the state has come). So results depend on each user's events in the order
 *       events.unified holds them, not on when watermarks, decisions or handoffs came.</li>
 *   <li>Rules are conf/segments.yaml, overridden and extended by the broadcast segments.definitions topic (hot
 *       reload); an invalid definition is refused with a log line and {@code definitionsRejected}, the running set
 *       stays. Models come from models.published ({@link ModelSwitch}). A change applies to every user at once
 *       ({@link #applyToEveryone}): members ENTER and EXIT without an event of theirs.</li>
 * </ul>
 * Outputs: changes (main), profiles ({@link ProfileUpdate}, on to {@link LatestProfiles}) and handoffs (side
 * outputs). Metrics: {@code segmentEnters}, {@code segmentExits}, {@code definitionsRejected}, {@code stateHandoffs}, {@code usersCleared}, {@code identityLinksGivenUp},
 * {@code usersReevaluated}, {@code usersErased}, {@code modelsLoaded}, {@code modelsRefused}, {@code modelVersion}.
 *
 * <p>A privacy request that deletes (privacy.requests) reaches each of its ids here as an erasure: the id's members
 * EXIT with cause {@code privacy}, its profile is replaced by a tombstone, and its state and timer are dropped
 * ({@link UserSegments#forget}).
 */
public final class SegmentFunction extends KeyedBroadcastProcessFunction<String, SegmentationInput, Control, SegmentChange> {
    private static final long serialVersionUID = 2L;
    private static final Logger LOG = LoggerFactory.getLogger(SegmentFunction.class);

    public static final MapStateDescriptor<String, SegmentDefinition> DEFINITIONS = new MapStateDescriptor<>(
            "segment-definitions", Types.STRING, new JsonRecordTypeInfo<>(new SegmentDefinitionCodec()));
    /** The latest promotion announced per model name (deterministic on every instance, unlike a load's outcome). */
    public static final MapStateDescriptor<String, ModelPublished> MODELS = new MapStateDescriptor<>(
            "model-announcements", Types.STRING, new JsonRecordTypeInfo<>(new ModelPublishedCodec()));
    /** The profile of every step that publishes one, to {@link LatestProfiles} and on to segments.profiles. */
    public static final OutputTag<ProfileUpdate> PROFILES =
            new OutputTag<>("profiles", new JsonRecordTypeInfo<>(new ProfileUpdate.Codec()));
    public static final OutputTag<StateHandoff> HANDOFFS =
            new OutputTag<>("handoffs", new JsonRecordTypeInfo<>(new StateHandoffCodec()));
    /** Each erased id's report (privacy.status), in the transaction of its EXITs and tombstone. */
    public static final OutputTag<PrivacyStatus> PRIVACY_STATUS =
            new OutputTag<>("privacy-status", new JsonRecordTypeInfo<>(new PrivacyStatusCodec()));
    /** The engine's value per user; also how a rules change visits every user ({@link #applyToEveryone}). */
    public static final ValueStateDescriptor<UserSegments> USERS =
            new ValueStateDescriptor<>("user-segments", new UserSegmentsSerializer());

    private final FeatureConfig featureConfig;
    private final List<String> eventNames;
    private final List<SegmentDefinition> configured;
    private final Scoring scoring;
    private final Duration mergeMemory;
    private final Duration erasureMemory;

    private transient ValueState<UserSegments> users;
    /**
     * When the id was erased (a privacy request), the only thing kept of it, for the erasure memory: a handoff or link
     * decision still on its way (they travel through Kafka, a checkpoint behind; longer during an outage) must not
     * bring the erased state back. The devices linked to the id are erased too (ingest's follow-up request), so no
     * forwarder is left to send one later.
     */
    private transient ValueState<Long> erasedAt;
    private transient TreeMap<String, SegmentRules.Compiled> segments;
    private transient ModelSwitch models;
    /** The rules of the next evaluation; null when a definition or the model changed since it was built. */
    private transient Ruleset rules;
    /** Whether what the broadcast state held at (re)start has been taken in (it cannot be read in open()). */
    private transient boolean started;
    private transient Counter enters;
    private transient Counter exits;
    private transient Counter rejected;
    private transient Counter handoffs;
    private transient Counter cleared;
    private transient Counter linksGivenUp;
    private transient Counter reevaluated;
    private transient Counter erased;

    public SegmentFunction(FeatureConfig featureConfig, List<String> eventNames, List<SegmentDefinition> configured,
                           Scoring scoring, Duration mergeMemory) {
        this(featureConfig, eventNames, configured, scoring, mergeMemory, SegmentationOptions.DEFAULT_ERASURE_MEMORY);
    }

    /** @param erasureMemory how long an erased id's erasure time is kept ({@link #erasedAt}) */
    public SegmentFunction(FeatureConfig featureConfig, List<String> eventNames, List<SegmentDefinition> configured,
                           Scoring scoring, Duration mergeMemory, Duration erasureMemory) {
        this.erasureMemory = erasureMemory;
        this.featureConfig = featureConfig;
        this.eventNames = List.copyOf(eventNames);
        this.configured = List.copyOf(configured);
        this.scoring = scoring;
        this.mergeMemory = mergeMemory;
    }

    /** The state of an erased id: when it was erased, kept for {@code erasureMemory} ({@link #erasedAt}). */
    public static ValueStateDescriptor<Long> erasedAt(Duration erasureMemory) {
        ValueStateDescriptor<Long> descriptor = new ValueStateDescriptor<>("erased-at", Types.LONG);
        descriptor.enableTimeToLive(io.cohortflow.jobs.state.StateTtls.afterWrite(erasureMemory));
        return descriptor;
    }

    @Override
    public void open(OpenContext openContext) {
        users = getRuntimeContext().getState(USERS);
        erasedAt = getRuntimeContext().getState(erasedAt(erasureMemory));
        segments = new TreeMap<>();
        configured.forEach(definition -> segments.put(definition.id(), SegmentRules.compile(definition)));
        var metrics = ProductMetrics.of(getRuntimeContext().getMetricGroup());
        enters = metrics.counter("segmentEnters");
        exits = metrics.counter("segmentExits");
        rejected = metrics.counter("definitionsRejected");
        handoffs = metrics.counter("stateHandoffs");
        cleared = metrics.counter("usersCleared");
        linksGivenUp = metrics.counter("identityLinksGivenUp");
        reevaluated = metrics.counter("usersReevaluated");
        erased = metrics.counter("usersErased");
        models = new ModelSwitch(scoring, metrics.counter("modelsLoaded"), metrics.counter("modelsRefused"));
        metrics.gauge("modelVersion", () -> models.version());
    }

    // ---- per user ------------------------------------------------------------------------------------------------

    @Override
    public void processElement(SegmentationInput input, ReadOnlyContext ctx, Collector<SegmentChange> out)
            throws Exception {
        Ruleset current = rules(ctx);
        UserSegments stored = users.value();
        UserSegments user = stored == null ? new UserSegments() : stored;
        String id = ctx.getCurrentKey();
        long now = ctx.timerService().currentProcessingTime();
        OptionalLong scheduled = user.wakeUp();
        if (input.erasure() != null) {
            erase(input.erasure(), stored, scheduled, current, ctx, out);
            return;
        }
        // Only a link asks whether the id was erased: a read of this TTL state runs Flink's incremental cleanup, which
        // on state this sparse walks every key group at each read (9% of this task at 2,000 events/s, P2).
        if (input.handoff() != null || input.merge() != null) {
            Long erasedWhen = erasedAt.value();
            if (erasedWhen != null
                    && (input.handoff() != null ? input.handoff().eventTime() : input.merge().eventTime()) <= erasedWhen) {
                input = afterErasure(input, stored, ctx);
                if (input == null) {
                    return;
                }
            }
        }
        Outcome outcome;
        if (input.event() != null) {
            outcome = user.apply(id, input.event(), current, now);
        } else if (input.late() != null) {
            outcome = user.correct(id, input.late(), current, now);
        } else if (input.decision() != null) {
            outcome = user.decided(id, input.decision(), current, now);
        } else {
            outcome = user.absorb(id, input.handoff(), current, now);
        }
        publish(user, stored != null, scheduled, outcome, ctx, out);
    }

    /**
     * A privacy request's id: what is known of it is forgotten ({@link UserSegments#forget}), and its profile gets a
     * tombstone even when nothing is left of it here (state cleared after a year of silence, a forwarder whose merge
     * memory ended): its last profile may still be on the compacted topic. A device erased while it waited for the
     * decision on its link leaves its user waiting for a handoff: {@link #afterErasure} sends an empty one when the
     * decision comes.
     */
    private void erase(SegmentationInput.Erasure erasure, UserSegments stored, OptionalLong scheduled, Ruleset current,
                       ReadOnlyContext ctx, Collector<SegmentChange> out) throws Exception {
        String id = ctx.getCurrentKey();
        Long earlier = erasedAt.value();
        erasedAt.update(earlier == null ? erasure.requestedAt() : Math.max(earlier, erasure.requestedAt()));
        erased.inc();
        long now = ctx.timerService().currentProcessingTime();
        if (stored == null) {
            ctx.output(PROFILES, new ProfileUpdate(StepProfile.of(SegmentProfile.tombstone(id)), false));
            // The log names the id by its pseudonym: an erasure leaves no id of the person behind it.
            LOG.info("privacy request {}: id {} has no state here; its profile gets a tombstone", erasure.requestId(),
                    PrivacyStatus.idHash(erasure.requestId(), id));
        } else {
            Outcome outcome = stored.forget(id, erasure.requestId(), current, now);
            LOG.info("privacy request {}: id {} forgotten ({} memberships left)", erasure.requestId(),
                    PrivacyStatus.idHash(erasure.requestId(), id), outcome.changes().size());
            publish(stored, true, scheduled, outcome, ctx, out);
        }
        ctx.output(PRIVACY_STATUS, new PrivacyStatus(erasure.requestId(), PrivacyStatus.Stage.SEGMENTATION, "ids",
                PrivacyStatus.idHash(erasure.requestId(), id), Math.max(1, erasure.ids()), PrivacyStatus.State.DONE, now,
                stored == null ? "" : "state, timers and memberships cleared"));
    }

    /**
     * A handoff or a link decision of before an erasure (its event time at or before the request's), reaching the id
     * within the erasure memory; later ones, of a person who came back, go as usual. Such a handoff carries erased
     * state: with nothing of the id here it is dropped (nothing waits for it), else it is folded in empty, so that a
     * wait at the linking event ends without the erased data. A decision at an erased device that has no state: the
     * user waits for this device's handoff, so it gets an empty one; the decision itself is dropped.
     */
    private SegmentationInput afterErasure(SegmentationInput input, UserSegments stored, ReadOnlyContext ctx) {
        if (input.handoff() != null) {
            StateHandoff handoff = input.handoff();
            return stored == null ? null : SegmentationInput.of(new StateHandoff(handoff.fromId(), handoff.toId(),
                    emptyState(), handoff.eventTime(), handoff.linkId()));
        }
        if (stored != null) {
            return input; // the device came back after the erasure: its new state merges as usual
        }
        IdentityMerge decision = input.merge();
        if (decision.status() == IdentityMerge.Status.MERGED) {
            handoffs.inc();
            ctx.output(HANDOFFS, new StateHandoff(decision.fromId(), decision.toId(), emptyState(),
                    decision.eventTime(), decision.messageId()));
        }
        return null;
    }

    private String emptyState() {
        return java.util.Base64.getEncoder().encodeToString(new UserFeatures(featureConfig).toBytes());
    }

    @Override
    public void onTimer(long timestamp, OnTimerContext ctx, Collector<SegmentChange> out) throws Exception {
        UserSegments user = users.value();
        if (user == null) {
            return;
        }
        OptionalLong scheduled = user.wakeUp();
        // The moments up to the watermark that this user's timer would fire at one by one, in one step (a catch-up's
        // watermark passes many at once): timers one by one woke P1's users 1.22 times per event, mostly for a minute
        // bucket leaving the last hour, and per watermark 0.45 times (TimerReplay).
        Outcome outcome = user.advanceTo(ctx.getCurrentKey(), timestamp,
                Math.max(timestamp, ctx.timerService().currentWatermark()), rules(ctx),
                ctx.timerService().currentProcessingTime());
        publish(user, true, scheduled, outcome, ctx, out);
    }

    private void publish(UserSegments user, boolean existed, OptionalLong scheduled, Outcome outcome,
                         ReadOnlyContext ctx, Collector<SegmentChange> out) throws Exception {
        emit(outcome, ctx::output, out);
        if (outcome.linksGivenUp() > 0) {
            // At the end of a bounded run (which does not read its own handoffs back) every wait ends this way.
            linksGivenUp.inc(outcome.linksGivenUp());
            LOG.debug("{}: gave up waiting for the state of an identity link", ctx.getCurrentKey());
        }
        OptionalLong next = outcome.wakeUp();
        if (!next.equals(scheduled) && scheduled.isPresent()) {
            ctx.timerService().deleteEventTimeTimer(scheduled.getAsLong());
        }
        if (outcome.cleared()) {
            users.clear();
            if (existed) {
                cleared.inc();
            }
            return;
        }
        users.update(user);
        if (!next.equals(scheduled) && next.isPresent()) {
            ctx.timerService().registerEventTimeTimer(next.getAsLong());
        }
    }

    /** Where side outputs go: either context's {@code output} (their common base type is not public). */
    private interface SideOutputs {
        <X> void output(OutputTag<X> tag, X value);
    }

    private void emit(Outcome outcome, SideOutputs ctx, Collector<SegmentChange> out) {
        for (SegmentChange change : outcome.changes()) {
            (change.type() == ChangeType.ENTER ? enters : exits).inc();
            out.collect(change);
        }
        outcome.published().ifPresent(profile -> ctx.output(PROFILES,
                ProfileUpdate.of(profile, !outcome.changes().isEmpty())));
        for (StateHandoff handoff : outcome.handoffs()) {
            handoffs.inc();
            ctx.output(HANDOFFS, handoff);
        }
    }

    // ---- the running rules (broadcast) ---------------------------------------------------------------------------

    @Override
    public void processBroadcastElement(Control control, Context ctx, Collector<SegmentChange> out) throws Exception {
        start(ctx.getBroadcastState(DEFINITIONS), ctx.getBroadcastState(MODELS));
        if (control.model() != null) {
            ModelPublished published = control.model();
            if (models.accepts(published)) {
                ctx.getBroadcastState(MODELS).put(published.name(), published);
                if (models.onPublished(published)) {
                    rules = null;
                    applyToEveryone(ctx, out, true, "model " + published.name() + " v" + published.version());
                }
            }
            return;
        }
        SegmentDefinition definition = control.definition();
        SegmentRules.Compiled known = segments.get(definition.id());
        if (definition.deleted()) {
            ctx.getBroadcastState(DEFINITIONS).put(definition.id(), definition);
            if (known != null) {
                segments.remove(definition.id());
                rules = null;
                LOG.info("segment {} removed; its members leave now", definition.id());
                applyToEveryone(ctx, out, false, "segment " + definition.id() + " removed");
            }
            return;
        }
        if (known != null && known.definition().equals(definition)) {
            ctx.getBroadcastState(DEFINITIONS).put(definition.id(), definition);
            return; // published again as it is: nobody's membership can change
        }
        SegmentRules.Compiled program;
        try {
            program = SegmentRules.compile(definition);
        } catch (IllegalArgumentException e) {
            rejected.inc();
            LOG.warn("refused a segment definition, the running set stays: {}", e.getMessage());
            return;
        }
        ctx.getBroadcastState(DEFINITIONS).put(definition.id(), definition);
        segments.put(definition.id(), program);
        rules = null;
        LOG.info("segment {} ('{}') is now: {}", definition.id(), definition.name(), definition.condition());
        applyToEveryone(ctx, out, false, "segment " + definition.id() + " v" + program.version());
    }

    /**
     * The rules changed: every user this instance keeps is evaluated again, now, as of the user's own clock
     * ({@link UserSegments#reevaluate}). A definition's members ENTER and EXIT without waiting for an event of theirs,
     * and a new model rescores everyone (their profiles are published with the new scores). Each parallel instance
     * visits its own keys when the broadcast element reaches it. The pass holds the instance's input meanwhile: its
     * rate (users per second) is logged, and the README gives the figure measured here.
     */
    private void applyToEveryone(Context ctx, Collector<SegmentChange> out, boolean rescore, String why)
            throws Exception {
        Ruleset current = rules(ctx);
        long now = ctx.currentProcessingTime();
        long started = System.nanoTime();
        long[] visited = new long[2]; // users, changes
        ctx.applyToKeyedState(USERS, (String key, ValueState<UserSegments> state) -> {
            UserSegments user = state.value();
            if (user == null) {
                return;
            }
            OptionalLong scheduled = user.wakeUp();
            Outcome outcome = user.reevaluate(key, current, now, rescore);
            emit(outcome, ctx::output, out);
            visited[0]++;
            visited[1] += outcome.changes().size();
            if (outcome.cleared()) {
                state.clear(); // its timer, if any, finds nothing and ends
                cleared.inc();
                return;
            }
            if (!outcome.changes().isEmpty()) { // else nothing of the user's state changed: no write
                state.update(user);
            }
            if (!outcome.wakeUp().equals(scheduled)) { // cannot happen: the wake-up depends on the features alone
                LOG.warn("{}: re-evaluation moved the wake-up from {} to {}", key, scheduled, outcome.wakeUp());
            }
        });
        reevaluated.inc(visited[0]);
        double seconds = Math.max(1e-9, (System.nanoTime() - started) / 1e9);
        LOG.info("{}: {} users re-evaluated in {} ms ({} users/s), {} changes", why, visited[0],
                Math.round(seconds * 1000), Math.round(visited[0] / seconds), visited[1]);
    }

    private Ruleset rules(ReadOnlyContext ctx) throws Exception {
        start(ctx.getBroadcastState(DEFINITIONS), ctx.getBroadcastState(MODELS));
        return rules();
    }

    private Ruleset rules(Context ctx) throws Exception {
        start(ctx.getBroadcastState(DEFINITIONS), ctx.getBroadcastState(MODELS));
        return rules();
    }

    private Ruleset rules() {
        if (rules == null) {
            rules = new Ruleset(featureConfig, eventNames, mergeMemory, segments, models.scorer());
        }
        return rules;
    }

    /**
     * Once per (re)start: conf/segments.yaml, then what the definitions topic said (last word wins), and the restored
     * model announcement (else the registry's current version).
     */
    private void start(ReadOnlyBroadcastState<String, SegmentDefinition> definitions,
                       ReadOnlyBroadcastState<String, ModelPublished> announced) throws Exception {
        if (started) {
            return;
        }
        started = true;
        for (Map.Entry<String, SegmentDefinition> entry : definitions.immutableEntries()) {
            SegmentRules.Compiled known = segments.get(entry.getKey());
            SegmentDefinition definition = entry.getValue();
            if (definition.deleted()) {
                segments.remove(entry.getKey());
            } else if (known == null || !known.definition().equals(definition)) {
                try {
                    segments.put(entry.getKey(), SegmentRules.compile(definition));
                } catch (IllegalArgumentException e) {
                    LOG.warn("stored definition of {} does not compile: {}", entry.getKey(), e.getMessage());
                }
            }
        }
        models.start(Optional.ofNullable(announced.get(scoring.modelName())));
        rules = null;
    }
}
