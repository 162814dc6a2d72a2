package io.cohortflow.core.engine;

import io.cohortflow.core.codec.BinaryMaps;
import io.cohortflow.core.event.UnifiedEvent;
import io.cohortflow.core.feature.FeatureConfig;
import io.cohortflow.core.feature.FeatureSnapshot;
import io.cohortflow.core.feature.UserFeatures;
import io.cohortflow.core.identity.IdentityMerge;
import io.cohortflow.core.scoring.Scorer;
import io.cohortflow.core.scoring.Scores;
import io.cohortflow.core.segment.Cause;
import io.cohortflow.core.segment.ChangeType;
import io.cohortflow.core.segment.SegmentChange;
import io.cohortflow.core.segment.SegmentProfile;
import io.cohortflow.core.segment.SegmentRules;
import io.cohortflow.core.segment.StateHandoff;

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
 *       reaches {@link Outcome#wakeUp}. Window exits, abandoned carts, recency, due merges and cleanup happen there,
 *       each change carrying the moment it happened.</li>
 *   <li><b>Identity merges</b>: a MERGED link arrives at the anonymous id ({@link #expectMerge}) and takes effect
 *       when the clock passes its time: the id's members EXIT (cause {@code identity}), its features are handed to
 *       the known user, and it remembers where it went for {@link Ruleset#mergeMemory} so that stragglers follow.
 *       The known user folds a handoff in with {@link #absorb}.</li>
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
    private static final byte FORMAT_VERSION = 1;

    private UserFeatures features;
    /** Segment id -> when the user entered it. */
    private final TreeMap<String, Long> memberships = new TreeMap<>();
    /** Segment id -> transitions so far (the next change's ordinal). */
    private final TreeMap<String, Long> transitions = new TreeMap<>();
    /** Evaluated up to here (event time); {@link #NEVER} before the first input. */
    private long clock = NEVER;
    /**
     * What the host was last told to wake the engine at; {@link #NEVER} when nothing is due. Derivable from the rest,
     * but kept (8 bytes) so the host can delete its previous timer without computing the next feature change twice
     * on every event.
     */
    private long wakeUp = NEVER;
    private IdentityMerge pendingMerge;
    private String mergedInto;
    private long mergedAt = NEVER;

    /** A user with no history; its features are bound to the ruleset's configuration at the first step. */
    public UserSegments() {
        this.features = new UserFeatures(null);
    }

    // ---- steps ---------------------------------------------------------------------------------------------------

    /** One event of this user, applied now. */
    public Outcome apply(String userId, UnifiedEvent event, Ruleset rules, long processingTime) {
        return apply(new Step(userId, rules, processingTime), event);
    }

    /**
     * A late event of this user (later than ingest's allowed lateness, from events.late), applied as a correction
     * like any event: into its own event-time bucket, evaluated as of the clock if it is behind it. A window still
     * open counts it; one already closed does not. The changes it makes say so: their cause is {@link Cause#late()}.
     */
    public Outcome correct(String userId, UnifiedEvent event, Ruleset rules, long processingTime) {
        Step step = new Step(userId, rules, processingTime);
        step.correction = true;
        return apply(step, event);
    }

    private Outcome apply(Step step, UnifiedEvent event) {
        String userId = step.userId;
        Ruleset rules = step.rules;
        long t = event.timestamp();
        if (mergedInto == null && t > clock) {
            advance(step, t - 1);
        }
        if (mergedInto != null) {
            // A straggler of an id already merged away: its behaviour belongs to the known user.
            UserFeatures single = new UserFeatures(rules.features());
            single.add(event);
            step.handoffs.add(handoff(userId, mergedInto, single, t));
            return step.finish();
        }
        features.add(event);
        long at = Math.max(t, clock);
        evaluate(step, at, false);
        clock = at;
        return step.finish();
    }

    /** Feature state handed over from an id merged into this user: folded in bucket by bucket. */
    public Outcome absorb(String userId, StateHandoff handoff, Ruleset rules, long processingTime) {
        Step step = new Step(userId, rules, processingTime);
        long t = handoff.eventTime();
        if (mergedInto == null && t > clock) {
            advance(step, t - 1);
        }
        if (mergedInto != null) {
            // This id was itself merged on (an alias chain): the state follows.
            step.handoffs.add(new StateHandoff(handoff.fromId(), mergedInto, handoff.features(), t));
            return step.finish();
        }
        features.merge(UserFeatures.fromBytes(Base64.getDecoder().decode(handoff.features()), rules.features()));
        long at = Math.max(t, clock);
        evaluate(step, at, true);
        clock = at;
        return step.finish();
    }

    /**
     * A link of this (anonymous) id to a known user. It takes effect when the clock passes its time, so that the
     * history before it is applied first; links that are not MERGED, or that link an id to itself, change nothing.
     */
    public Outcome expectMerge(String userId, IdentityMerge merge, Ruleset rules) {
        Step step = new Step(userId, rules, 0);
        if (merge.status() == IdentityMerge.Status.MERGED && !merge.fromId().equals(merge.toId()) && mergedInto == null
                && (pendingMerge == null || merge.eventTime() < pendingMerge.eventTime())) {
            pendingMerge = merge;
        }
        return step.finish();
    }

    /** Time passes to {@code time} (the host's watermark): whatever time alone changes up to it happens now. */
    public Outcome advanceTo(String userId, long time, Ruleset rules, long processingTime) {
        Step step = new Step(userId, rules, processingTime);
        advance(step, time);
        return step.finish();
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
                memberships.get(segmentId), inputs));
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
     * time; a merge due on the way takes effect at its time.
     */
    private void advance(Step step, long to) {
        if (mergedInto != null) {
            clock = Math.max(clock, to);
            return;
        }
        long mergeAt = pendingMerge == null ? Long.MAX_VALUE : pendingMerge.eventTime();
        long until = Math.min(to, mergeAt);
        OptionalLong next = clock == NEVER ? OptionalLong.empty() : features.nextChange(clock);
        while (next.isPresent() && next.getAsLong() <= until) {
            long at = next.getAsLong();
            features.prune(at);
            evaluate(step, at, false);
            clock = at;
            next = features.nextChange(at);
        }
        if (until > clock) {
            features.prune(until);
            clock = until;
        }
        if (pendingMerge != null && mergeAt <= to) {
            merge(step, pendingMerge);
            clock = Math.max(clock, to);
        }
    }

    private void merge(Step step, IdentityMerge merge) {
        long at = Math.max(merge.eventTime(), clock);
        String model = step.rules.scorer().label();
        Map<String, Double> numeric = features.snapshot(at, step.rules.eventNames()).numeric();
        Cause cause = new Cause("identity", "merged into " + merge.toId(), null);
        for (String segmentId : List.copyOf(memberships.keySet())) {
            transition(step, segmentId, segmentName(segmentId, step.rules), ChangeType.EXIT, at, cause, numeric, model);
        }
        step.handoffs.add(handoff(step.userId, merge.toId(), features, at));
        step.profile = new SegmentProfile(step.userId, at, List.of(), numeric, Map.of(), null, model, merge.toId());
        features = new UserFeatures(step.rules.features());
        transitions.clear();
        pendingMerge = null;
        mergedInto = merge.toId();
        mergedAt = at;
        clock = at;
    }

    // ---- evaluation ----------------------------------------------------------------------------------------------

    private void evaluate(Step step, long t, boolean forceProfile) {
        Ruleset rules = step.rules;
        FeatureSnapshot snapshot = features.snapshot(t, rules.eventNames());
        Scores scores = rules.scorer().score(snapshot);
        Map<String, Object> variables = SegmentRules.variables(snapshot, scores.scores(), scores.persona());
        Map<String, Double> numeric = null;
        boolean changed = false;
        for (SegmentRules.Compiled segment : rules.segments().values()) {
            String id = segment.definition().id();
            boolean in = SegmentRules.matches(segment, variables);
            if (in != memberships.containsKey(id)) {
                numeric = numeric == null ? snapshot.numeric() : numeric;
                transition(step, id, segment.definition().name(), in ? ChangeType.ENTER : ChangeType.EXIT, t,
                        cause(segment, scores), numeric, scores.model());
                changed = true;
            }
        }
        String persona = scores.persona() == null ? null : personaSegment(scores.persona());
        for (String id : List.copyOf(memberships.keySet())) {
            boolean isPersona = id.startsWith(PERSONA_PREFIX);
            if (isPersona ? !id.equals(persona) : !rules.segments().containsKey(id)) {
                numeric = numeric == null ? snapshot.numeric() : numeric;
                transition(step, id, segmentName(id, rules), ChangeType.EXIT, t,
                        isPersona ? personaCause(scores) : new Cause("rule", id, "removed"), numeric, scores.model());
                changed = true;
            }
        }
        if (persona != null && !memberships.containsKey(persona)) {
            numeric = numeric == null ? snapshot.numeric() : numeric;
            transition(step, persona, scores.persona(), ChangeType.ENTER, t, personaCause(scores), numeric,
                    scores.model());
            changed = true;
        }
        if (changed || forceProfile) {
            step.profile = new SegmentProfile(step.userId, t, List.copyOf(memberships.keySet()),
                    numeric == null ? snapshot.numeric() : numeric, scores.scores(), scores.persona(), scores.model(),
                    null);
        }
    }

    private void transition(Step step, String segmentId, String name, ChangeType type, long t, Cause cause,
                            Map<String, Double> numeric, String model) {
        if (type == ChangeType.ENTER) {
            memberships.put(segmentId, t);
        } else {
            memberships.remove(segmentId);
        }
        long ordinal = transitions.getOrDefault(segmentId, 0L);
        transitions.put(segmentId, ordinal + 1);
        step.changes.add(SegmentChange.of(step.userId, segmentId, name, type, t, ordinal, step.processingTime,
                step.correction ? cause.late() : cause, numeric, model));
    }

    /** A rule's cause carries a version of its condition; a condition that reads the model names the model. */
    private static Cause cause(SegmentRules.Compiled segment, Scores scores) {
        return segment.readsModel()
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

    private static StateHandoff handoff(String from, String to, UserFeatures state, long t) {
        return new StateHandoff(from, to, Base64.getEncoder().encodeToString(state.toBytes()), t);
    }

    /** Deserialized state carries no configuration (it is not part of the state): bind it to the running one. */
    private void bind(FeatureConfig config) {
        features = features.withConfig(config);
    }

    /** The outputs of one step, and the bookkeeping that closes it. */
    private final class Step {
        final String userId;
        final Ruleset rules;
        final long processingTime;
        final List<SegmentChange> changes = new ArrayList<>(2);
        final List<StateHandoff> handoffs = new ArrayList<>(1);
        SegmentProfile profile;
        /** Whether this step applies a late event: its changes are corrections. */
        boolean correction;

        Step(String userId, Ruleset rules, long processingTime) {
            this.userId = Objects.requireNonNull(userId, "userId");
            this.rules = rules;
            this.processingTime = processingTime;
            bind(rules.features());
        }

        /** Works out the next wake-up, or that nothing is left of the user. */
        Outcome finish() {
            boolean cleared;
            long next;
            if (mergedInto != null) {
                long forgetAt = mergedAt + rules.mergeMemory().toMillis();
                cleared = clock >= forgetAt;
                next = forgetAt;
            } else {
                cleared = pendingMerge == null && memberships.isEmpty()
                        && features.isEmpty(clock == NEVER ? Long.MAX_VALUE : clock);
                next = clock == NEVER ? Long.MAX_VALUE : features.nextChange(clock).orElse(Long.MAX_VALUE);
                if (pendingMerge != null) {
                    next = Math.min(next, Math.max(pendingMerge.eventTime(), clock));
                }
            }
            wakeUp = cleared || next == Long.MAX_VALUE ? NEVER : next;
            return new Outcome(changes, Optional.ofNullable(profile), handoffs,
                    wakeUp == NEVER ? OptionalLong.empty() : OptionalLong.of(wakeUp), cleared);
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
        out.writeBoolean(pendingMerge != null);
        if (pendingMerge != null) {
            out.writeUTF(pendingMerge.fromId());
            out.writeUTF(pendingMerge.toId());
            out.writeUTF(pendingMerge.trigger());
            out.writeUTF(pendingMerge.messageId());
            out.writeLong(pendingMerge.eventTime());
            out.writeInt(pendingMerge.linkedIds());
        }
        byte[] state = features.toBytes();
        out.writeInt(state.length);
        out.write(state);
        BinaryMaps.writeStringLongs(out, memberships);
        BinaryMaps.writeStringLongs(out, transitions);
    }

    /** Reads what {@link #writeTo} wrote; the features are bound to the running configuration at the first step. */
    public static UserSegments readFrom(DataInput in) throws IOException {
        byte version = in.readByte();
        if (version != FORMAT_VERSION) {
            throw new IOException("unknown user state format " + version);
        }
        UserSegments user = new UserSegments();
        user.clock = in.readLong();
        user.wakeUp = in.readLong();
        if (in.readBoolean()) {
            user.mergedInto = in.readUTF();
            user.mergedAt = in.readLong();
        }
        if (in.readBoolean()) {
            user.pendingMerge = new IdentityMerge(in.readUTF(), in.readUTF(), IdentityMerge.Status.MERGED,
                    in.readUTF(), in.readUTF(), in.readLong(), in.readInt());
        }
        byte[] state = new byte[in.readInt()];
        in.readFully(state);
        user.features = UserFeatures.fromBytes(state, null);
        BinaryMaps.readStringLongs(in, user.memberships);
        BinaryMaps.readStringLongs(in, user.transitions);
        return user;
    }
}
