package io.cohortflow.core.engine;

import io.cohortflow.core.codec.FrozenMap;
import io.cohortflow.core.event.EventFields;
import io.cohortflow.core.event.UnifiedEvent;
import io.cohortflow.core.event.UnifiedEventCodec;
import io.cohortflow.core.feature.FeatureConfig;
import io.cohortflow.core.feature.FeatureSnapshot;
import io.cohortflow.core.feature.ProfileTraits;
import io.cohortflow.core.feature.UserFeatures;
import io.cohortflow.core.identity.IdentityLink;
import io.cohortflow.core.identity.IdentityMerge;
import io.cohortflow.core.scoring.Scorer;
import io.cohortflow.core.scoring.Scores;
import io.cohortflow.core.segment.Cause;
import io.cohortflow.core.segment.ChangeType;
import io.cohortflow.core.segment.SegmentChange;
import io.cohortflow.core.segment.SegmentProfile;
import io.cohortflow.core.segment.SegmentRules;
import io.cohortflow.core.segment.StateHandoff;
import io.cohortflow.core.segment.StateHandoffCodec;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.TreeMap;

/**
 * Everything the product knows of one user, as one value: event-time features, segment memberships, the ordinal of
 * each membership's transitions, the time evaluated to (the user's clock), and identity merges pending or done. No
 * Flink types: the stream operator, batch replays and previews all drive this same class.
 *
 * <ul>
 *   <li><b>Events are applied when they arrive</b> ({@link #apply}), in their event-time buckets, and the user is
 *       evaluated at once: an ENTER comes with the event that caused it. An event later than the user's clock first
 *       steps the clock to just before it, evaluating at every moment a feature changed on its own in between; an
 *       event at or behind the clock is applied as of the clock. The outcome is a function of the user's inputs in
 *       the order they arrive, whatever the watermark did meanwhile.</li>
 *   <li><b>Time passing</b> ({@link #advanceTo}): the host calls it when its event-time clock (the watermark)
 *       reaches {@link Outcome#wakeUp}. Window exits, abandoned carts, recency and cleanup happen there,
 *       each change carrying the moment it happened. A host whose watermark has passed more moments hands it over
 *       too, and the user passes them all in one step as their timers would one by one
 *       ({@link #advanceTo(String, long, long, Ruleset, long)}).</li>
 *   <li><b>Identity merges</b> take effect at fixed places in the two ids' streams, whenever the decision and the
 *       state arrive ({@link IdentityLink}): the device merges at its marker, once the decision on the link
 *       ({@link #decided}) is known: its members EXIT (cause {@code identity}), its features are handed to the
 *       known user, and it remembers where it went for {@link Ruleset#mergeMemory} so that stragglers follow. The
 *       user folds the handoff in ({@link #absorb}) right after its linking event, and holds every input after that
 *       event (events, handoffs, time passing) until it has; the device holds what follows its marker until the
 *       decision. A decision or handoff that comes before its place waits for it. So the outcome is a function of
 *       each id's own inputs in order, not of when a decision or a handoff happened to arrive.</li>
 *   <li><b>Causes</b>: a rule's change names the rule and a version of its condition; a condition that reads
 *       {@code scores} or {@code persona} names the model and its version instead. Every scored user is in exactly
 *       one persona segment ({@code persona_<name>}), made by the model.</li>
 * </ul>
 * Change ids are deterministic (user, segment, type, event time, ordinal), so a replay of the same inputs in the same
 * order gives byte-identical changes. Not thread-safe; one instance per user.
 */
public final class UserSegments {
    /** Persona segments (one per user once a bundle scores) have ids with this prefix. */
    public static final String PERSONA_PREFIX = "persona_";
    private static final long NEVER = Long.MIN_VALUE;
    private static final byte FORMAT_VERSION = 2;
    /**
     * The end of input, as a time: a bounded run's (or a drain's) last watermark. A user still waiting for a link's
     * state then gives the wait up, since nothing more can come (a bounded run does not read its own handoffs back),
     * and applies what it held. While it waits, its wake-up is this.
     */
    public static final long END_OF_INPUT = Long.MAX_VALUE;
    /** The most inputs held behind one barrier before it is given up. */
    static final int MAX_HELD = 10_000;
    private static final UnifiedEventCodec EVENTS = new UnifiedEventCodec();
    /**
     * What the engine reads of an event's maps: the properties the features read ({@link UserFeatures#PROPERTIES_READ}),
     * the traits contact details come from ({@link ProfileTraits#TRAITS_READ}) and the identity link in the context
     * ({@link IdentityLink#CONTEXT_KEY}). A host may decode its events keeping only these
     * ({@link UnifiedEventCodec#keeping}): the engine's outcomes are the same, which the segmentation job's
     * {@code EventFieldsReadTest} checks over simulated histories.
     */
    public static final EventFields EVENT_FIELDS_READ = new EventFields(UserFeatures.PROPERTIES_READ,
            ProfileTraits.TRAITS_READ, java.util.Set.of(IdentityLink.CONTEXT_KEY));
    private static final StateHandoffCodec HANDOFFS = new StateHandoffCodec();

    private UserFeatures features;
    /** Segment id -> when the user entered it. */
    private final SegmentLongs memberships = new SegmentLongs();
    /** Segment id -> transitions so far (the next change's ordinal). */
    private final SegmentLongs transitions = new SegmentLongs();
    /** Evaluated up to here (event time); {@link #NEVER} before the first input. */
    private long clock = NEVER;
    /**
     * What the host was last told to wake the engine at; {@link #NEVER} when nothing is due. Derivable from the rest,
     * but kept (8 bytes) so the host can delete its previous timer without computing the next feature change twice
     * on every event.
     */
    private long wakeUp = NEVER;
    private String mergedInto;
    private long mergedAt = NEVER;
    /** The link this id waits on (its handoff at the user, its decision at the device); null when none. */
    private Barrier barrier;
    /** Inputs that came after the barrier, in arrival order: applied once it is lifted. */
    private final List<Held> held = new ArrayList<>();
    /** Decisions (by link id) that came before their place in this id's stream. */
    private final TreeMap<String, IdentityMerge> earlyDecisions = new TreeMap<>();
    /** Handoffs (by link id) that came before their linking event. */
    private final TreeMap<String, StateHandoff> earlyHandoffs = new TreeMap<>();
    /**
     * Not state (never written, so gone with a copy or a read from RocksDB), only what spares running a condition whose
     * reads did not change: the rules' reads at the last evaluation ({@link RuleReads}) and the outcomes of their
     * comparisons with literals, the conditions' values then (each also the segment's membership as that evaluation
     * left it, which is how a skipped condition's membership is known without a lookup), and the rules they belong
     * to. A condition is a function of its reads (or of those comparisons), so skipping it gives what running it
     * would.
     */
    private RuleReads readsFor;
    private Object[] readValues;
    private boolean[] lastIn;
    /**
     * For tests: evaluate every moment, also those that move nothing a condition or model reads (see
     * {@link #advance(Step, long, boolean)}): the reference that skipping them must agree with.
     */
    boolean evaluateEveryMoment;
    /**
     * For tests: a first evaluation under new rules runs every condition, also for a user without memberships, which
     * otherwise starts where a new user does ({@link RuleReads#empty}), and every condition due runs, also one its
     * comparisons' outcomes decide ({@link RuleReads#decided}): the reference those must agree with.
     */
    boolean evaluateEveryCondition;

    /** What a user (at its linking event) or a device (at its marker) waits on. */
    private record Barrier(boolean atUser, String linkId, String other, long time) {
    }

    /** An input held behind a barrier: an event, a late event, a handoff, or time passing. */
    private record Held(char kind, UnifiedEvent event, StateHandoff handoff, long time) {
        static final char EVENT = 'e';
        static final char LATE = 'l';
        static final char HANDOFF = 'h';
        static final char TIME = 't';
    }

    /** A user with no history; its features are bound to the ruleset's configuration at the first step. */
    public UserSegments() {
        this.features = new UserFeatures(null);
    }

    // ---- steps ---------------------------------------------------------------------------------------------------

    /** One event of this user, applied now (or held, while a merge is waited on). */
    public Outcome apply(String userId, UnifiedEvent event, Ruleset rules, long processingTime) {
        Step step = new Step(userId, rules, processingTime);
        onEvent(step, event, false);
        return step.finish();
    }

    /**
     * A late event of this user (later than ingest's allowed lateness, from events.late), applied as a correction
     * like any event: into its own event-time bucket, evaluated as of the clock if it is behind it. A window still
     * open counts it; one already closed does not. The changes it makes say so: their cause is {@link Cause#late()}.
     */
    public Outcome correct(String userId, UnifiedEvent event, Ruleset rules, long processingTime) {
        Step step = new Step(userId, rules, processingTime);
        onEvent(step, event, true);
        return step.finish();
    }

    /**
     * Feature state handed over from an id merged into this user. One that carries a link is folded in right after
     * that link's event in this user's stream (now, if that is where the user waits; else when it gets there); a
     * straggler's is folded in when it arrives.
     */
    public Outcome absorb(String userId, StateHandoff handoff, Ruleset rules, long processingTime) {
        Step step = new Step(userId, rules, processingTime);
        String linkId = handoff.linkId();
        if (linkId != null && mergedInto == null) {
            if (barrier != null && barrier.atUser() && barrier.linkId().equals(linkId)) {
                lift(step, () -> fold(step, handoff));
            } else {
                earlyHandoffs.put(linkId, handoff);
            }
        } else {
            onHandoff(step, handoff);
        }
        return step.finish();
    }

    /**
     * Ingest's decision on a link, at either end: at the device ({@code fromId}) a MERGED decision merges it at its
     * marker; at the user ({@code toId}) a refusal (REJECTED_CAP) tells it no state will come. Links of an id to
     * itself change nothing.
     */
    public Outcome decided(String userId, IdentityMerge decision, Ruleset rules, long processingTime) {
        Step step = new Step(userId, rules, processingTime);
        String linkId = decision.messageId();
        if (decision.fromId().equals(decision.toId())) {
            return step.finish();
        }
        if (decision.fromId().equals(userId)) {
            if (barrier != null && !barrier.atUser() && barrier.linkId().equals(linkId)) {
                long t = barrier.time();
                lift(step, () -> resolveDevice(step, decision, t));
            } else {
                earlyDecisions.put(linkId, decision);
            }
        } else if (decision.toId().equals(userId) && decision.status() != IdentityMerge.Status.MERGED) {
            if (barrier != null && barrier.atUser() && barrier.linkId().equals(linkId)) {
                lift(step, () -> { });
            } else {
                earlyDecisions.put(linkId, decision);
            }
        }
        return step.finish();
    }

    /** Time passes to {@code time} (the host's watermark): whatever time alone changes up to it happens now. */
    public Outcome advanceTo(String userId, long time, Ruleset rules, long processingTime) {
        Step step = new Step(userId, rules, processingTime);
        onTime(step, time);
        return step.finish();
    }

    /**
     * The host's timer for {@code due} (the last {@link Outcome#wakeUp}) fires with its clock at {@code watermark}:
     * time passes to {@code due}, then on through every later moment a feature changes on its own up to
     * {@code watermark}, in one step. This is what the host's timers firing at each of those moments in turn would do:
     * the same changes, at the same times, and the clock left at the last moment, not at the watermark, so an event
     * that comes later behind the watermark is applied as it would have been. Only the profile differs: one, the
     * last moment's, where each timer would have published its own. A host whose watermark jumps (a catch-up after an
     * outage, a replay, a backfill) so wakes each user once per jump, not once per minute bucket leaving an hour.
     */
    public Outcome advanceTo(String userId, long due, long watermark, Ruleset rules, long processingTime) {
        Step step = new Step(userId, rules, processingTime);
        onTime(step, due);
        // Each later moment as a timer of its own would see it: none while the id waits on a link (its timer is then
        // the end of input) or is merged away (its one timer is when it forgets); advance stops where the user is
        // left with nothing (the step would end there, and the host drop the state).
        if (due != END_OF_INPUT && barrier == null && held.isEmpty() && mergedInto == null && clock != NEVER) {
            advance(step, watermark, true);
        }
        return step.finish();
    }

    /**
     * The rules changed under the user (a definition added, edited or deleted, or another model swapped in): the user
     * is evaluated again as of its own clock, with no input of its own. Members who no longer qualify EXIT, new ones
     * ENTER, each change naming the definition's version or the model's; a deleted segment's members EXIT. Evaluating
     * at the user's clock (not at the host's wall clock or watermark) keeps the change's time, and so its id, a
     * function of the user's own inputs and the rules. {@code rescored} (a model swap) publishes the profile even when
     * no membership changed, since its scores did. Time does not move, so the wake-up stays what it was: it depends on
     * the features alone, and the host needs no timer service here. An id merged away, or with no input yet, has
     * nothing to evaluate.
     */
    public Outcome reevaluate(String userId, Ruleset rules, long processingTime, boolean rescored) {
        Step step = new Step(userId, rules, processingTime);
        if (mergedInto == null && clock != NEVER) {
            evaluate(step, clock, rescored);
        }
        return step.finish();
    }

    /**
     * A privacy request deletes what is known of this id: its members EXIT now (cause {@code privacy}, with the
     * request's id, at the user's clock, and without feature values: an erasure does not publish what it erases), the
     * profile becomes a tombstone ({@link SegmentProfile#tombstone}), and everything else goes: features, traits,
     * memberships, the transitions' ordinals, a merge waited on or remembered, and the inputs held for it. A device
     * erased in the middle of its merge (at its marker waiting for the decision, or with the decision come before
     * the marker) hands its user an empty state for that link, so that the user's wait at its linking event ends. The
     * outcome says {@code cleared}, so the host drops the state and its timer. What comes for the id afterwards
     * starts afresh (unless ingest suppresses it).
     */
    public Outcome forget(String userId, String requestId, Ruleset rules, long processingTime) {
        Step step = new Step(userId, rules, processingTime);
        if (!memberships.isEmpty()) {
            long at = clock == NEVER ? processingTime : clock;
            Cause cause = new Cause("privacy", requestId, null);
            String model = rules.scorer().label();
            for (String segmentId : memberships.ids()) {
                transition(step, segmentId, segmentName(segmentId, rules), ChangeType.EXIT, at, cause, Map.of(), model);
            }
        }
        step.profile(SegmentProfile.tombstone(userId));
        UserFeatures nothing = new UserFeatures(rules.features());
        if (barrier != null && !barrier.atUser()) {
            step.handoffs.add(handoff(userId, barrier.other(), nothing, barrier.time(), barrier.linkId()));
        }
        for (IdentityMerge decision : earlyDecisions.values()) {
            if (decision.status() == IdentityMerge.Status.MERGED && decision.fromId().equals(userId)) {
                step.handoffs.add(handoff(userId, decision.toId(), nothing, decision.eventTime(), decision.messageId()));
            }
        }
        startAfresh(rules.features());
        barrier = null;
        held.clear();
        earlyDecisions.clear();
        earlyHandoffs.clear();
        return step.finish();
    }

    // ---- inputs, in this id's order ------------------------------------------------------------------------------

    private void onEvent(Step step, UnifiedEvent event, boolean correction) {
        if (barrier != null) {
            hold(step, new Held(correction ? Held.LATE : Held.EVENT, event, null, 0));
            return;
        }
        IdentityLink link = correction ? null : IdentityLink.of(event).orElse(null);
        if (link != null && link.marker()) {
            if (link.from().equals(step.userId) && !link.to().equals(step.userId)) {
                onMarker(step, link, event.timestamp());
            }
            return; // a marker is not a user action
        }
        step.correction = correction;
        applyEvent(step, event);
        step.correction = false;
        if (link != null && link.to().equals(step.userId) && !link.from().equals(step.userId) && mergedInto == null) {
            onLinkingEvent(step, link, event.timestamp());
        }
    }

    private void applyEvent(Step step, UnifiedEvent event) {
        Ruleset rules = step.rules;
        long t = event.timestamp();
        if (mergedInto == null && t > clock) {
            advance(step, t - 1, false, true);
        }
        if (mergedInto != null) {
            // A straggler of an id already merged away: its behaviour belongs to the known user.
            UserFeatures single = new UserFeatures(rules.features());
            single.add(event);
            step.handoffs.add(handoff(step.userId, mergedInto, single, t, null));
            return;
        }
        features.add(event);
        long at = Math.max(t, clock);
        evaluate(step, at, true);
        clock = at;
    }

    /** The user's linking event was applied: the device's state is folded in here, now or once it comes. */
    private void onLinkingEvent(Step step, IdentityLink link, long t) {
        StateHandoff early = earlyHandoffs.remove(link.linkId());
        if (early != null) {
            fold(step, early);
        } else if (earlyDecisions.remove(link.linkId()) == null) { // a refusal: nothing will come
            barrier = new Barrier(true, link.linkId(), link.from(), t);
        }
    }

    /** The device's last input before its link: it merges here once the decision is known. */
    private void onMarker(Step step, IdentityLink link, long t) {
        IdentityMerge early = earlyDecisions.remove(link.linkId());
        if (early != null) {
            resolveDevice(step, early, t);
        } else {
            barrier = new Barrier(false, link.linkId(), link.to(), t);
        }
    }

    private void resolveDevice(Step step, IdentityMerge decision, long t) {
        if (decision.status() != IdentityMerge.Status.MERGED) {
            return;
        }
        if (mergedInto == null && t > clock) {
            advance(step, t);
        }
        merge(step, decision.toId(), decision.messageId(), Math.max(t, clock));
    }

    private void onHandoff(Step step, StateHandoff handoff) {
        if (barrier != null) {
            hold(step, new Held(Held.HANDOFF, null, handoff, 0));
            return;
        }
        fold(step, handoff);
    }

    private void onTime(Step step, long time) {
        if (time == END_OF_INPUT) {
            while (barrier != null) {
                step.linksGivenUp++;
                lift(step, () -> { });
            }
            return; // what time does before the end is up to the timers at their own times
        }
        if (barrier != null) {
            hold(step, new Held(Held.TIME, null, null, time));
            return;
        }
        advance(step, time);
    }

    /** Folds a handoff in as of its time (or the clock, if that is later); follows the state on if merged away. */
    private void fold(Step step, StateHandoff handoff) {
        long t = handoff.eventTime();
        if (mergedInto == null && t > clock) {
            advance(step, t - 1);
        }
        if (mergedInto != null) {
            // This id was itself merged on (an alias chain): the state follows.
            step.handoffs.add(new StateHandoff(handoff.fromId(), mergedInto, handoff.features(), t, null));
            return;
        }
        features.merge(UserFeatures.fromBytes(Base64.getDecoder().decode(handoff.features()), step.rules.features()));
        long at = Math.max(t, clock);
        evaluate(step, at, true);
        clock = at;
    }

    /**
     * Holds an input behind the barrier. A link whose handoff or decision never comes (its records lost, say) must
     * not hold the user for ever: past {@link #MAX_HELD} inputs the barrier is given up, the wait counted in
     * {@link Outcome#linksGivenUp}, and what was held is applied without the other side's state.
     */
    private void hold(Step step, Held input) {
        held.add(input);
        if (held.size() >= MAX_HELD) {
            step.linksGivenUp++;
            lift(step, () -> { });
        }
    }

    /** Lifts the barrier with {@code resolution}, then applies what was held behind it, in order. */
    private void lift(Step step, Runnable resolution) {
        barrier = null;
        resolution.run();
        List<Held> waiting = List.copyOf(held);
        held.clear();
        for (Held input : waiting) { // a linking event among them may raise a barrier again: the rest is held anew
            switch (input.kind()) {
                case Held.EVENT -> onEvent(step, input.event(), false);
                case Held.LATE -> onEvent(step, input.event(), true);
                case Held.HANDOFF -> onHandoff(step, input.handoff());
                default -> onTime(step, input.time());
            }
        }
    }

    /** Why the user is in {@code segmentId} or not, as of the clock; empty when no such segment runs. */
    public Optional<Explanation> explain(String segmentId, Ruleset rules) {
        bind(rules.features());
        SegmentRules.Compiled segment = rules.segments().get(segmentId);
        if (segment == null) {
            return Optional.empty();
        }
        long at = clock == NEVER ? 0 : clock;
        FeatureSnapshot snapshot = features.snapshot(at, rules.eventNames());
        Scores scores = rules.scorer().score(snapshot);
        Map<String, Object> variables = SegmentRules.variables(snapshot, scores.scores(), scores.persona());
        Map<String, Object> inputs = new LinkedHashMap<>();
        segment.variables().stream().sorted().forEach(name -> inputs.put(name, variables.get(name)));
        return Optional.of(new Explanation(segmentId, segment.definition().condition(), at,
                SegmentRules.matches(segment, variables), memberships.containsKey(segmentId),
                memberships.get(segmentId), inputs, SegmentRules.clauses(segment, variables)));
    }

    /**
     * For a copy of {@code original}'s state (read back from its bytes): it also takes the rules' reads at the
     * original's last evaluation, which bytes do not carry, so that its next evaluation skips what the original's
     * would. The host copies state this way (Flink's heap backend copies an entry on its first write after a
     * checkpoint starts); without them the copy would run every condition once.
     */
    public void keepEvaluationOf(UserSegments original) {
        readsFor = original.readsFor;
        readValues = original.readValues == null ? null : original.readValues.clone();
        lastIn = original.lastIn == null ? null : original.lastIn.clone();
    }

    // ---- read access -----------------------------------------------------------------------------------------------

    /** The event time the user is evaluated to, if any input came yet. */
    public OptionalLong clock() {
        return clock == NEVER ? OptionalLong.empty() : OptionalLong.of(clock);
    }

    /** What the host was last told to wake the engine at (see {@link Outcome#wakeUp}). */
    public OptionalLong wakeUp() {
        return wakeUp == NEVER ? OptionalLong.empty() : OptionalLong.of(wakeUp);
    }

    /** The features as of the clock. */
    public FeatureSnapshot snapshot(Ruleset rules) {
        bind(rules.features());
        return features.snapshot(clock == NEVER ? 0 : clock, rules.eventNames());
    }

    // ---- the clock -----------------------------------------------------------------------------------------------

    /**
     * Evaluates at every moment a feature changes on its own in (clock, {@code to}], so each change carries its own
     * time; then the clock is {@code to}.
     */
    private void advance(Step step, long to) {
        advance(step, to, false);
    }

    /**
     * {@link #advance(Step, long)}; {@code timersWould}: as the host's timers at each moment would, in turn (see
     * {@link #advanceTo(String, long, long, Ruleset, long)}): the clock stays at the last moment, and a moment that
     * leaves the user with nothing is the last (its timer's step would clear it).
     *
     * <p>A moment that moves only counts no condition or model reads ({@link UserFeatures#nextDecision}: an event's
     * buckets leaving the last hour, when no rule reads that event's hour) changes no membership, so it is not
     * evaluated: only the profile would show it, and a step publishes one profile, its last evaluation's. When such a
     * moment is the step's last, the step evaluates it as it ends ({@link Step#finish}), so the profile is the one
     * evaluating every moment gave. Between the events of {@code HotPathBenchmark}'s pass, six moments in ten are of
     * this kind. The first evaluation under new rules (a restart with other segments or another model) is at the first
     * moment, whatever it moves: the memberships are the old rules' until then.
     */
    private void advance(Step step, long to, boolean timersWould) {
        advance(step, to, timersWould, false);
    }

    /**
     * {@link #advance(Step, long, boolean)}; {@code thenEvaluates}: the caller evaluates next, after {@code to} (an
     * event's step), so its profile is the step's.
     *
     * <p>Unless the timers' order is kept, the moments before the next decision are not stepped through one by one:
     * each would drop what left the windows and record itself as the step's last moment, and the decision's moment
     * drops all of it at once and its evaluation then publishes the step's profile; when the decision comes after
     * {@code to} and the caller evaluates next, that evaluation does, and the moments up to {@code to} are passed over
     * (JFR: the walks of the features at each were a third of the engine's pass). Only a step whose last moment is
     * of this kind (time passing alone) walks through them, to evaluate the last as it ends.
     */
    private void advance(Step step, long to, boolean timersWould, boolean thenEvaluates) {
        if (mergedInto != null) {
            clock = Math.max(clock, to);
            return;
        }
        if (clock != NEVER) {
            RuleReads reads = step.rules.reads();
            long next = features.nextChange(clock, reads.windows(), reads.counts()).orElse(Long.MAX_VALUE);
            long decision = features.nextDecision(clock, reads.windows(), reads.counts());
            while (next != Long.MAX_VALUE && next <= to) { // the end of input's watermark is Long.MAX_VALUE
                if (!timersWould && next < decision && readsFor == reads && !evaluateEveryMoment) {
                    if (decision <= to) {
                        next = decision;
                    } else if (thenEvaluates) {
                        break;
                    }
                }
                long at = next;
                features.prune(at);
                if (at >= decision || readsFor != reads || evaluateEveryMoment) {
                    evaluate(step, at, true);
                } else {
                    step.unevaluated = at;
                }
                clock = at;
                if (timersWould && memberships.isEmpty() && features.isEmpty(clock)) {
                    return;
                }
                next = features.nextChange(at, reads.windows(), reads.counts()).orElse(Long.MAX_VALUE);
                decision = features.nextDecision(at, reads.windows(), reads.counts());
            }
        }
        if (!timersWould && to > clock) {
            features.prune(to);
            clock = to;
        }
    }

    /**
     * The id merges into {@code toId} at {@code at}: its members EXIT, its features go to the user (the handoff
     * carries the link, so the user folds it in at its linking event), and it becomes a forwarder for stragglers. An
     * id already merged away (linked anew) hands on its empty state, so that the new user's wait ends.
     */
    private void merge(Step step, String toId, String linkId, long at) {
        String model = step.rules.scorer().label();
        Map<String, Double> numeric =
                FrozenMap.owning(features.snapshot(at, step.rules.eventNames(), false).numeric());
        Cause cause = new Cause("identity", "merged into " + toId, null);
        for (String segmentId : memberships.ids()) {
            transition(step, segmentId, segmentName(segmentId, step.rules), ChangeType.EXIT, at, cause, numeric, model);
        }
        step.handoffs.add(handoff(step.userId, toId, features, at, linkId));
        step.profile(new SegmentProfile(step.userId, at, List.of(), numeric, Map.of(), null, model, toId, Map.of(),
                Map.of()));
        features = new UserFeatures(step.rules.features());
        transitions.clear();
        readsFor = null; // its memberships were left: the next evaluation runs every condition
        mergedInto = toId;
        mergedAt = at;
        clock = at;
    }

    // ---- evaluation ----------------------------------------------------------------------------------------------

    /**
     * Evaluates every rule at {@code t}. The profile is published when a membership changed or {@code inputsMoved}:
     * after an event, a fold or a moment a windowed feature moved on its own, since the profile carries the rule
     * inputs and the console previews and explains conditions over the stored profiles (a profile stale since the
     * last change would preview a new segment on old values). A re-evaluation under new rules moves no input: it
     * publishes only what changed, or the new scores of a model swap.
     */
    private void evaluate(Step step, long t, boolean inputsMoved) {
        Ruleset rules = step.rules;
        FeatureSnapshot snapshot = features.snapshot(t, rules.eventNames());
        Scores scores = rules.scorer().score(snapshot);
        Map<String, Object> variables = SegmentRules.variables(snapshot, scores.scores(), scores.persona());
        Map<String, Double> numeric = null;
        boolean changed = false;
        RuleReads reads = rules.reads();
        boolean all = readsFor != reads; // the first evaluation under these rules runs every condition
        RuleReads.Start start = null;
        if (all) {
            readsFor = reads;
            lastIn = new boolean[rules.segments().size()];
            if (memberships.isEmpty() && !evaluateEveryCondition) { // ... unless it can start where a new user does
                start = reads.empty(() -> newUser(rules, t));
                readValues = start.values().clone();
                all = false; // no membership, as lastIn: the conditions a new user is in run below
            } else {
                readValues = reads.unknown();
            }
        }
        boolean[] moved = new boolean[reads.reads().size()];
        reads.update(variables, readValues, moved);
        boolean[] due = reads.due(moved, readValues);
        if (start != null) {
            boolean[] matching = start.matching();
            for (int index = 0; index < due.length; index++) {
                due[index] |= matching[index];
            }
        }
        List<SegmentRules.Compiled> segments = reads.segments();
        for (int index = 0; index < segments.size(); index++) {
            if (!all && !due[index]) {
                continue; // none of its reads moved: its value and membership are what the last evaluation left
            }
            SegmentRules.Compiled segment = segments.get(index);
            String id = segment.definition().id();
            int decided = evaluateEveryCondition ? -1 : reads.decided(index, readValues);
            boolean in = decided >= 0 ? decided == 1 : SegmentRules.matches(segment, variables);
            // Since the last evaluation under these rules, a membership moved only here (a merge or a forget starts
            // the next one afresh, all): the last value is the membership, without a lookup in the sorted map.
            boolean was = all ? memberships.containsKey(id) : lastIn[index];
            lastIn[index] = in;
            if (in != was) {
                numeric = numeric == null ? FrozenMap.owning(snapshot.numeric()) : numeric;
                transition(step, id, segment.definition().name(), in ? ChangeType.ENTER : ChangeType.EXIT, t,
                        cause(segment, reads.readsModel(index), scores), numeric, scores.model());
                changed = true;
            }
        }
        String persona = scores.persona() == null ? null : personaSegment(scores.persona());
        // A segment no longer running can be a membership only at the first evaluation under new rules (or afresh):
        // otherwise only the persona's memberships, a range of the sorted ids, need a look.
        List<String> others = new ArrayList<>();
        for (int at = all ? 0 : memberships.ceiling(PERSONA_PREFIX); at < memberships.size(); at++) {
            String id = memberships.id(at);
            if (!all && !id.startsWith(PERSONA_PREFIX)) {
                break;
            }
            others.add(id);
        }
        for (String id : others) {
            boolean isPersona = id.startsWith(PERSONA_PREFIX);
            if (isPersona ? !id.equals(persona) : !rules.segments().containsKey(id)) {
                numeric = numeric == null ? FrozenMap.owning(snapshot.numeric()) : numeric;
                transition(step, id, segmentName(id, rules), ChangeType.EXIT, t,
                        isPersona ? personaCause(scores) : new Cause("rule", id, "removed"), numeric, scores.model());
                changed = true;
            }
        }
        if (persona != null && !memberships.containsKey(persona)) {
            numeric = numeric == null ? FrozenMap.owning(snapshot.numeric()) : numeric;
            transition(step, persona, scores.persona(), ChangeType.ENTER, t, personaCause(scores), numeric,
                    scores.model());
            changed = true;
        }
        if (changed || inputsMoved) { // one profile per step: the last evaluation's, built when the step ends
            step.lastEvaluation(new Evaluated(t, snapshot, numeric, scores,
                    FrozenMap.owning(features.traits().asMap())));
        }
    }

    /** The variables of a user never seen, at {@code t}: where {@link RuleReads#empty} starts a user from. */
    private static Map<String, Object> newUser(Ruleset rules, long t) {
        FeatureSnapshot snapshot = new UserFeatures(rules.features()).snapshot(t, rules.eventNames());
        Scores scores = rules.scorer().score(snapshot);
        return SegmentRules.variables(snapshot, scores.scores(), scores.persona());
    }

    private void transition(Step step, String segmentId, String name, ChangeType type, long t, Cause cause,
                            Map<String, Double> numeric, String model) {
        SegmentLongs.Order order = step.rules.reads().order();
        int rank = order.rank(segmentId);
        if (type == ChangeType.ENTER) {
            memberships.put(order, rank, segmentId, t);
        } else {
            memberships.remove(order, rank, segmentId);
        }
        long ordinal = transitions.increment(order, rank, segmentId);
        step.changes.add(SegmentChange.of(step.userId, segmentId, name, type, t, ordinal, step.processingTime,
                step.correction ? cause.late() : cause, numeric, model));
    }

    /** A rule's cause carries a version of its condition; a condition that reads the model names the model. */
    private static Cause cause(SegmentRules.Compiled segment, boolean readsModel, Scores scores) {
        return readsModel
                ? new Cause("model", segment.definition().id(), scores.model())
                : Cause.rule(segment.definition().id(), segment.version());
    }

    private static Cause personaCause(Scores scores) {
        return new Cause("model", "persona", scores.model());
    }

    /**
     * The name an EXIT carries: the definition's, or for a persona segment the persona's name in the current bundle.
     * Memberships keep only ids, so a segment that is gone (a deleted definition, a persona the new bundle no longer
     * has) exits under its id.
     */
    static String segmentName(String id, Ruleset rules) {
        SegmentRules.Compiled segment = rules.segments().get(id);
        if (segment != null) {
            return segment.definition().name();
        }
        if (id.startsWith(PERSONA_PREFIX)) {
            for (String persona : rules.scorer().personas()) {
                if (personaSegment(persona).equals(id)) {
                    return persona;
                }
            }
        }
        return id;
    }

    /** {@code persona_high_value_bundle_purchaser} for "High-Value Bundle Purchaser". */
    public static String personaSegment(String persona) {
        String slug = persona.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", "_").replaceAll("^_+|_+$", "");
        String id = PERSONA_PREFIX + (slug.isEmpty() ? "unnamed" : slug);
        return id.length() > 64 ? id.substring(0, 64) : id;
    }

    private static StateHandoff handoff(String from, String to, UserFeatures state, long t, String linkId) {
        return new StateHandoff(from, to, Base64.getEncoder().encodeToString(state.toBytes()), t, linkId);
    }

    /** No features, memberships, ordinals, clock or merge: as a user never seen (pending inputs aside). */
    private void startAfresh(FeatureConfig config) {
        features = new UserFeatures(config);
        memberships.clear();
        transitions.clear();
        readsFor = null; // the next evaluation runs every condition against no memberships
        clock = NEVER;
        mergedInto = null;
        mergedAt = NEVER;
    }

    /** Deserialized state carries no configuration (it is not part of the state): bind it to the running one. */
    private void bind(FeatureConfig config) {
        features = features.withConfig(config);
    }

    /**
     * What an evaluation publishes, kept until the step ends: the snapshot and scores are immutable, the traits a
     * copy taken then (the clock's pruning after it can change them). The memberships are read when the step ends:
     * only an evaluation moves them and then says it publishes, and a merge or an erasure that moves them sets the
     * step's profile itself, so at the end they are still the last evaluation's. An event that steps over moments a
     * window moved evaluates at each of them, and with 1,000 segments a copy of hundreds of memberships at each one
     * was a tenth of the event's time.
     */
    private record Evaluated(long t, FeatureSnapshot snapshot, Map<String, Double> numeric, Scores scores,
                             Map<String, Object> traits) {
        SegmentProfile profile(String userId, List<String> memberships) {
            // The maps built for this profile are its own: it takes them without a copy.
            return new SegmentProfile(userId, t, memberships,
                    numeric == null ? FrozenMap.owning(snapshot.numeric()) : numeric, scores.scores(),
                    scores.persona(), scores.model(), null, traits, FrozenMap.owning(SegmentRules.inputs(snapshot)));
        }
    }

    /** The outputs of one step, and the bookkeeping that closes it. */
    private final class Step {
        final String userId;
        final Ruleset rules;
        final long processingTime;
        final List<SegmentChange> changes = new ArrayList<>(2);
        final List<StateHandoff> handoffs = new ArrayList<>(1);
        private SegmentProfile profile;
        /** The last evaluation that publishes the profile, which is built from it once the step ends. */
        private Evaluated evaluated;
        /** Whether this step applies a late event: its changes are corrections. */
        boolean correction;
        /** Barriers given up in this step (see {@link #hold}). */
        int linksGivenUp;
        /**
         * A moment passed without an evaluation (see {@link UserSegments#advance(Step, long, boolean)}) since the
         * step's last evaluation or profile; {@link #NEVER} when none.
         */
        long unevaluated = NEVER;

        Step(String userId, Ruleset rules, long processingTime) {
            this.userId = Objects.requireNonNull(userId, "userId");
            this.rules = rules;
            this.processingTime = processingTime;
            bind(rules.features());
        }

        /** The profile this step publishes, whatever an evaluation before said. */
        void profile(SegmentProfile profile) {
            this.profile = profile;
            this.evaluated = null;
            this.unevaluated = NEVER;
        }

        /**
         * The step publishes the profile of this evaluation, unless a later one (or a merge, or an erasure) says
         * otherwise: an event that first steps the clock over moments a window moved evaluates several times, and only
         * the last one's profile is published, so only that one is built.
         */
        void lastEvaluation(Evaluated evaluated) {
            this.profile = null;
            this.evaluated = evaluated;
            this.unevaluated = NEVER;
        }

        /** Works out the next wake-up, or that nothing is left of the user. */
        Outcome finish() {
            if (unevaluated != NEVER) { // the step's last moment: its profile is that moment's
                evaluate(this, unevaluated, true);
            }
            StepProfile published = profile == null ? null : StepProfile.of(profile);
            if (evaluated != null) {
                Evaluated last = evaluated;
                List<String> members = memberships.ids();
                published = StepProfile.evaluated(userId, () -> last.profile(userId, members));
                evaluated = null;
            }
            if (clock != NEVER) { // what waited for a place that never came (an input lost upstream) is let go
                long forgetBefore = clock - rules.mergeMemory().toMillis();
                if (!earlyDecisions.isEmpty()) {
                    earlyDecisions.values().removeIf(decision -> decision.eventTime() < forgetBefore);
                }
                if (!earlyHandoffs.isEmpty()) {
                    earlyHandoffs.values().removeIf(handoff -> handoff.eventTime() < forgetBefore);
                }
            }
            boolean pending = barrier != null || !held.isEmpty();
            boolean early = !earlyDecisions.isEmpty() || !earlyHandoffs.isEmpty();
            boolean empty;
            long next;
            if (mergedInto != null) {
                long forgetAt = mergedAt + rules.mergeMemory().toMillis();
                empty = !pending && clock >= forgetAt;
                next = forgetAt;
            } else {
                empty = !pending && memberships.isEmpty()
                        && features.isEmpty(clock == NEVER ? Long.MAX_VALUE : clock);
                RuleReads reads = rules.reads();
                next = clock == NEVER ? Long.MAX_VALUE
                        : features.nextChange(clock, reads.windows(), reads.counts()).orElse(Long.MAX_VALUE);
            }
            boolean cleared = empty && !early;
            if (empty && early) {
                // Nothing is left but decisions or handoffs that came before their place. Had they come later, the
                // user would be cleared now and start afresh (its clock too): so it does, keeping only them.
                startAfresh(rules.features());
                next = Long.MAX_VALUE;
            }
            if (barrier != null) {
                next = END_OF_INPUT; // time is held while waiting: only the end of input matters now
            } else if (next == Long.MAX_VALUE) {
                next = NEVER;
            }
            wakeUp = cleared ? NEVER : next;
            return new Outcome(changes, Optional.ofNullable(published), handoffs,
                    wakeUp == NEVER ? OptionalLong.empty() : OptionalLong.of(wakeUp), cleared, linksGivenUp);
        }
    }

    // ---- binary form ---------------------------------------------------------------------------------------------

    /** Writes the state (versioned); the stream keeps it per user with a serializer around this. */
    public void writeTo(DataOutput out) throws IOException {
        out.writeByte(FORMAT_VERSION);
        out.writeLong(clock);
        out.writeLong(wakeUp);
        out.writeBoolean(mergedInto != null);
        if (mergedInto != null) {
            out.writeUTF(mergedInto);
            out.writeLong(mergedAt);
        }
        byte[] state = features.toBytes();
        out.writeInt(state.length);
        out.write(state);
        memberships.writeTo(out);
        transitions.writeTo(out);
        // The merge bookkeeping, rarely present: one flag byte when there is none.
        boolean waiting = barrier != null || !held.isEmpty() || !earlyDecisions.isEmpty() || !earlyHandoffs.isEmpty();
        out.writeBoolean(waiting);
        if (!waiting) {
            return;
        }
        out.writeBoolean(barrier != null);
        if (barrier != null) {
            out.writeBoolean(barrier.atUser());
            out.writeUTF(barrier.linkId());
            out.writeUTF(barrier.other());
            out.writeLong(barrier.time());
        }
        out.writeInt(held.size());
        for (Held input : held) {
            out.writeChar(input.kind());
            switch (input.kind()) {
                case Held.EVENT, Held.LATE -> writeBytes(out, EVENTS.encode(input.event()));
                case Held.HANDOFF -> writeBytes(out, HANDOFFS.encode(input.handoff()));
                default -> out.writeLong(input.time());
            }
        }
        out.writeInt(earlyDecisions.size());
        for (IdentityMerge decision : earlyDecisions.values()) {
            out.writeUTF(decision.fromId());
            out.writeUTF(decision.toId());
            out.writeUTF(decision.status().name());
            out.writeUTF(decision.trigger());
            out.writeUTF(decision.messageId());
            out.writeLong(decision.eventTime());
            out.writeInt(decision.linkedIds());
        }
        out.writeInt(earlyHandoffs.size());
        for (StateHandoff handoff : earlyHandoffs.values()) {
            writeBytes(out, HANDOFFS.encode(handoff));
        }
    }

    /** Reads what {@link #writeTo} wrote; the features are bound to the running configuration at the first step. */
    public static UserSegments readFrom(DataInput in) throws IOException {
        byte version = in.readByte();
        if (version != FORMAT_VERSION && version != 1) {
            throw new IOException("unknown user state format " + version);
        }
        UserSegments user = new UserSegments();
        user.clock = in.readLong();
        user.wakeUp = in.readLong();
        if (in.readBoolean()) {
            user.mergedInto = in.readUTF();
            user.mergedAt = in.readLong();
        }
        if (version == 1 && in.readBoolean()) {
            // Format 1 (before links were placed in-band) kept a merge waiting for the clock. Its place in the stream
            // is unknown, so it is dropped: the device's next link merges it.
            in.readUTF();
            in.readUTF();
            in.readUTF();
            in.readUTF();
            in.readLong();
            in.readInt();
        }
        user.features = UserFeatures.fromBytes(readBytes(in), null);
        user.memberships.readFrom(in);
        user.transitions.readFrom(in);
        if (version == 1 || !in.readBoolean()) {
            return user;
        }
        if (in.readBoolean()) {
            user.barrier = new Barrier(in.readBoolean(), in.readUTF(), in.readUTF(), in.readLong());
        }
        int heldCount = in.readInt();
        for (int i = 0; i < heldCount; i++) {
            char kind = in.readChar();
            user.held.add(switch (kind) {
                case Held.EVENT, Held.LATE -> new Held(kind, EVENTS.decode(readBytes(in)), null, 0);
                case Held.HANDOFF -> new Held(kind, null, HANDOFFS.decode(readBytes(in)), 0);
                default -> new Held(Held.TIME, null, null, in.readLong());
            });
        }
        int decisions = in.readInt();
        for (int i = 0; i < decisions; i++) {
            IdentityMerge decision = new IdentityMerge(in.readUTF(), in.readUTF(),
                    IdentityMerge.Status.valueOf(in.readUTF()), in.readUTF(), in.readUTF(), in.readLong(), in.readInt());
            user.earlyDecisions.put(decision.messageId(), decision);
        }
        int handoffs = in.readInt();
        for (int i = 0; i < handoffs; i++) {
            StateHandoff handoff = HANDOFFS.decode(readBytes(in));
            user.earlyHandoffs.put(handoff.linkId(), handoff);
        }
        return user;
    }

    private static void writeBytes(DataOutput out, byte[] bytes) throws IOException {
        out.writeInt(bytes.length);
        out.write(bytes);
    }

    private static byte[] readBytes(DataInput in) throws IOException {
        byte[] bytes = new byte[in.readInt()];
        in.readFully(bytes);
        return bytes;
    }
}
