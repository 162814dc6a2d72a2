package io.cohortflow.segmentation.functions;

import io.cohortflow.core.event.UnifiedEvent;
import io.cohortflow.core.segment.Cause;
import io.cohortflow.core.segment.ChangeType;
import io.cohortflow.core.segment.SegmentChange;
import io.cohortflow.core.segment.WindowedCountRule;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.TimerService;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;

/**
 * Keeps one user's membership of one windowed-count segment and emits only its transitions, in event time.
 *
 * <p>Matching events wait in {@code pending} until the watermark passes them, and are then applied in timestamp
 * order, so the result does not depend on the order in which a user's devices' events arrive (nor on parallelism).
 * State per user: per-minute counts still inside the window, the pending events, and whether the user is a member.
 * An event-time timer is set for the moment the oldest counted minute leaves the window, so a member EXITs when the
 * window passes even if they never send another event; the EXIT carries that moment as its event time. Once nothing
 * is counted or pending and the user is not a member, all state is cleared.
 *
 * <p>An event behind the watermark (beyond the job's out-of-orderness) is applied at once, as of the watermark: it
 * counts if its minute is still in the window, and never rewrites transitions already published.
 */
public final class WindowedRuleFunction extends KeyedProcessFunction<String, UnifiedEvent, SegmentChange> {
    private static final long serialVersionUID = 1L;

    private final WindowedCountRule rule;
    private final String featureName;

    private transient MapState<Long, Integer> buckets;
    private transient MapState<Long, Integer> pending;
    private transient ValueState<Boolean> member;
    private transient Counter enters;
    private transient Counter exits;

    public WindowedRuleFunction(WindowedCountRule rule) {
        this.rule = rule;
        this.featureName = rule.id() + "_count";
    }

    @Override
    public void open(OpenContext openContext) {
        buckets = getRuntimeContext().getMapState(
                new MapStateDescriptor<>(rule.id() + "-minute-counts", Types.LONG, Types.INT));
        pending = getRuntimeContext().getMapState(
                new MapStateDescriptor<>(rule.id() + "-pending-events", Types.LONG, Types.INT));
        member = getRuntimeContext().getState(new ValueStateDescriptor<>(rule.id() + "-member", Types.BOOLEAN));
        var metrics = getRuntimeContext().getMetricGroup().addGroup("cohortflow");
        enters = metrics.counter("segmentEnters");
        exits = metrics.counter("segmentExits");
    }

    @Override
    public void processElement(UnifiedEvent event, Context ctx, Collector<SegmentChange> out) throws Exception {
        if (!rule.counts(event.event())) {
            return;
        }
        long watermark = ctx.timerService().currentWatermark();
        if (event.timestamp() <= watermark) {
            apply(ctx.getCurrentKey(), event.timestamp(), 1, watermark, ctx.timerService(), out);
            scheduleNextExpiry(ctx.timerService(), watermark);
            return;
        }
        Integer waiting = pending.get(event.timestamp());
        pending.put(event.timestamp(), waiting == null ? 1 : waiting + 1);
        ctx.timerService().registerEventTimeTimer(event.timestamp());
    }

    @Override
    public void onTimer(long timestamp, OnTimerContext ctx, Collector<SegmentChange> out) throws Exception {
        String userId = ctx.getCurrentKey();
        long processingTime = ctx.timerService().currentProcessingTime();
        List<Long> due = new ArrayList<>();
        for (Long t : pending.keys()) {
            if (t <= timestamp) {
                due.add(t);
            }
        }
        due.sort(null);
        for (long t : due) {
            int count = pending.get(t);
            pending.remove(t);
            apply(userId, t, count, t, ctx.timerService(), out);
        }
        advance(userId, timestamp, processingTime, out);
        if (buckets.isEmpty() && pending.isEmpty() && !isMember()) {
            buckets.clear();
            pending.clear();
            member.clear();
            return;
        }
        scheduleNextExpiry(ctx.timerService(), timestamp);
    }

    /** Counts {@code count} events at {@code eventTime}, as of {@code asOf}, after the exits due by then. */
    private void apply(String userId, long eventTime, int count, long asOf, TimerService timers,
                       Collector<SegmentChange> out) throws Exception {
        long processingTime = timers.currentProcessingTime();
        advance(userId, asOf, processingTime, out);
        long bucket = WindowedCountRule.bucketStart(eventTime);
        if (!rule.inWindow(bucket, asOf)) {
            return;
        }
        Integer current = buckets.get(bucket);
        buckets.put(bucket, current == null ? count : current + count);
        int total = rule.count(buckets.entries(), asOf);
        if (rule.satisfiedBy(total) && !isMember()) {
            member.update(true);
            enters.inc();
            out.collect(change(userId, ChangeType.ENTER, Math.max(eventTime, asOf), processingTime, total));
        }
    }

    /** Applies every expiry up to {@code time}: an EXIT at the first expiry that drops the count below threshold. */
    private void advance(String userId, long time, long processingTime, Collector<SegmentChange> out) throws Exception {
        List<Long> starts = new ArrayList<>();
        for (Long start : buckets.keys()) {
            starts.add(start);
        }
        starts.sort(null);
        if (isMember()) {
            for (long start : starts) {
                long expiry = rule.expiry(start);
                if (expiry > time) {
                    break;
                }
                int count = rule.count(buckets.entries(), expiry);
                if (!rule.satisfiedBy(count)) {
                    member.update(false);
                    exits.inc();
                    out.collect(change(userId, ChangeType.EXIT, expiry, processingTime, count));
                    break;
                }
            }
        }
        for (long start : starts) {
            if (rule.expiry(start) <= time) {
                buckets.remove(start);
            }
        }
    }

    private void scheduleNextExpiry(TimerService timers, long asOf) throws Exception {
        OptionalLong next = rule.nextExpiry(buckets.keys(), asOf);
        if (next.isPresent()) {
            timers.registerEventTimeTimer(next.getAsLong());
        }
    }

    private boolean isMember() throws Exception {
        return Boolean.TRUE.equals(member.value());
    }

    private SegmentChange change(String userId, ChangeType type, long eventTime, long processingTime, int count) {
        return SegmentChange.of(userId, rule.id(), rule.name(), type, eventTime, processingTime,
                Cause.rule(rule.id(), null), Map.of(featureName, (double) count));
    }
}
