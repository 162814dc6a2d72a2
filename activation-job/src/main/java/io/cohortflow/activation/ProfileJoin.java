package io.cohortflow.activation;

import io.cohortflow.core.segment.SegmentChange;
import io.cohortflow.core.segment.SegmentProfile;
import io.cohortflow.jobs.metrics.ProductMetrics;
import io.cohortflow.jobs.state.StateTtls;
import io.cohortflow.jobs.types.JsonRecordTypeInfo;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.co.KeyedCoProcessFunction;
import org.apache.flink.util.Collector;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Joins each change with what the user's profile holds, keyed by user id, and fans it out to every destination that
 * takes it. The segmentation job publishes a profile with every change, as of the change's time, but on another topic:
 * so a change waits (in order, behind the user's earlier ones) until a profile that covers it has come (as of its time
 * or later, scored by the same model, and in the segment after an ENTER, out of it after an EXIT: a rules change
 * re-evaluates a user at an unchanged time, so the time alone would take the profile from before it), or one that covers
 * a later waiting change of the same segment (an ENTER and its EXIT in one step of the segmentation job share the
 * profile after both), at most {@code wait} of processing time from when it became the first waiting, then goes with
 * the latest profile there is (or none). The latest profile is kept {@code profileTtl} after it was written, and
 * dropped at the user's tombstone (a privacy request's erasure). Metrics: {@code changesIn},
 * {@code joinedWithoutProfile}.
 */
public final class ProfileJoin extends KeyedCoProcessFunction<String, SegmentChange, SegmentProfile, Activation> {
    private static final long serialVersionUID = 1L;

    private final List<Destination> destinations;
    private final Duration wait;
    private final Duration profileTtl;
    private transient ValueState<SegmentProfile> latest;
    private transient ListState<SegmentChange> waiting;
    private transient ValueState<Long> deadline;
    /** When the profile kept of an erased user is dropped (a wait after her tombstone). */
    private transient ValueState<Long> forgetAt;
    private transient Counter changesIn;
    private transient Counter withoutProfile;

    public ProfileJoin(List<Destination> destinations, Duration wait, Duration profileTtl) {
        this.destinations = List.copyOf(destinations);
        this.wait = wait;
        this.profileTtl = profileTtl;
    }

    @Override
    public void open(OpenContext openContext) {
        ValueStateDescriptor<SegmentProfile> profile = new ValueStateDescriptor<>("latest-profile",
                new JsonRecordTypeInfo<>(new io.cohortflow.core.segment.SegmentProfileCodec()));
        profile.enableTimeToLive(StateTtls.afterWrite(profileTtl));
        latest = getRuntimeContext().getState(profile);
        waiting = getRuntimeContext().getListState(new ListStateDescriptor<>("waiting-changes",
                JsonRecordTypeInfo.SEGMENT_CHANGE));
        deadline = getRuntimeContext().getState(new ValueStateDescriptor<>("wait-deadline", Types.LONG));
        forgetAt = getRuntimeContext().getState(new ValueStateDescriptor<>("forget-at", Types.LONG));
        var metrics = ProductMetrics.of(getRuntimeContext().getMetricGroup());
        changesIn = metrics.counter("changesIn");
        withoutProfile = metrics.counter("joinedWithoutProfile");
    }

    @Override
    public void processElement1(SegmentChange change, Context ctx, Collector<Activation> out) throws Exception {
        changesIn.inc();
        if (destinations.stream().noneMatch(d -> d.takes(change))) {
            return;
        }
        SegmentProfile profile = latest.value();
        boolean waits = deadline.value() != null;
        boolean covered = covers(profile, change);
        if (!waits && covered) {
            emit(change, profile, out);
            return;
        }
        waiting.add(change);
        if (covered) {
            // Changes wait before it: it may settle one (an ENTER it undid in one step has no profile of its own).
            release(profile, false, ctx, out);
        } else if (!waits) {
            startWait(ctx);
        }
    }

    @Override
    public void processElement2(SegmentProfile profile, Context ctx, Collector<Activation> out) throws Exception {
        SegmentProfile known = latest.value();
        if (profile.isTombstone()) {
            // The user was erased (a privacy request): what waits goes now, with the last profile known (a destination
            // takes her out of its audiences by the ids in it). Her EXITs come on another topic and may come later:
            // the profile is kept for them for one wait more, then nothing of her is kept here.
            release(known, true, ctx, out);
            if (known != null) {
                long at = ctx.timerService().currentProcessingTime() + wait.toMillis();
                forgetAt.update(at);
                ctx.timerService().registerProcessingTimeTimer(at);
            }
            return;
        }
        if (forgetAt.value() != null) {
            // A profile after the tombstone: she came back, and this is her new one, whatever its time (her clock
            // started afresh); the erased one is not kept.
            forgetAt.clear();
            known = null;
        }
        if (known != null && known.asOf() > profile.asOf()) {
            return; // an older profile than the one kept (profiles of one user come in order; this is a replay)
        }
        latest.update(profile);
        release(profile, false, ctx, out);
    }

    @Override
    public void onTimer(long timestamp, OnTimerContext ctx, Collector<Activation> out) throws Exception {
        Long due = deadline.value();
        if (due != null && due <= timestamp) {
            release(latest.value(), true, ctx, out);
        }
        Long erasedUntil = forgetAt.value();
        if (erasedUntil != null && erasedUntil <= timestamp) {
            latest.clear();
            forgetAt.clear();
        }
    }

    /** Emits the waiting changes in order: those the profile covers, or all of them once the wait is over. */
    private void release(SegmentProfile profile, boolean waitOver, Context ctx, Collector<Activation> out)
            throws Exception {
        List<SegmentChange> all = new ArrayList<>();
        waiting.get().forEach(all::add);
        Long due = deadline.value();
        if (all.isEmpty() && due == null) {
            return; // nothing waits
        }
        int released = 0;
        while (released < all.size()) { // a later change never overtakes an earlier one of the same user
            SegmentChange change = all.get(released);
            boolean covered = covers(profile, change)
                    || undoneAndCovered(profile, change, all.subList(released + 1, all.size()));
            if (!waitOver && !covered) {
                break;
            }
            if (!covered) {
                withoutProfile.inc();
            }
            emit(change, profile, out);
            released++;
        }
        if (released == 0 && !all.isEmpty() && due != null) {
            return; // nothing moved: the list and its wait stay as they are
        }
        List<SegmentChange> left = all.subList(released, all.size());
        waiting.update(new ArrayList<>(left));
        if (due != null) {
            ctx.timerService().deleteProcessingTimeTimer(due);
            deadline.clear();
        }
        if (!left.isEmpty()) { // a new first waiting change gets a wait of its own
            startWait(ctx);
        }
    }

    private void startWait(Context ctx) throws Exception {
        long at = ctx.timerService().currentProcessingTime() + wait.toMillis();
        deadline.update(at);
        ctx.timerService().registerProcessingTimeTimer(at);
    }

    /**
     * Whether {@code profile} is the user's state after {@code change} (or later). An EXIT of an erasure (cause
     * {@code privacy}) waits for nothing: the profile after it is a tombstone.
     */
    static boolean covers(SegmentProfile profile, SegmentChange change) {
        if ("privacy".equals(change.cause().kind())) {
            return true;
        }
        return profile != null && profile.covers(change);
    }

    /**
     * Whether a later change of the same segment, among those waiting after {@code change}, is covered by
     * {@code profile}: the profile is then the state after both. A step of the segmentation job that ENTERs and EXITs
     * one segment (a moment a window moved, then the user's event) publishes one profile, after both, so the ENTER has
     * none of its own; it goes with the EXIT's, rather than waiting for the whole wait.
     */
    private static boolean undoneAndCovered(SegmentProfile profile, SegmentChange change, List<SegmentChange> later) {
        for (SegmentChange next : later) {
            if (next.segmentId().equals(change.segmentId()) && covers(profile, next)) {
                return true;
            }
        }
        return false;
    }

    private void emit(SegmentChange change, SegmentProfile profile, Collector<Activation> out) {
        for (Destination destination : destinations) {
            if (destination.takes(change)) {
                out.collect(new Activation(destination.id(), change, profile));
            }
        }
    }
}
