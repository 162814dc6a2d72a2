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
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;

/**
 * Keeps one user's membership of one windowed-count segment and emits only its transitions.
 *
 * <p>State per user: per-minute counts of the matching events still inside the window, whether the user is a member,
 * and the newest matching event time. An event-time timer is set for the moment the oldest counted minute leaves the
 * window, so a member EXITs when the window passes even if they never send another event; the EXIT carries that
 * moment as its event time. Once nothing is counted and the user is not a member, all state is cleared.
 *
 * <p>Events are evaluated as of the newest event time seen for the user; an event older than the window as of then
 * is counted nowhere.
 */
public final class WindowedRuleFunction extends KeyedProcessFunction<String, UnifiedEvent, SegmentChange> {
    private static final long serialVersionUID = 1L;

    private final WindowedCountRule rule;
    private final String featureName;

    private transient MapState<Long, Integer> buckets;
    private transient ValueState<Boolean> member;
    private transient ValueState<Long> newestEventTime;
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
        member = getRuntimeContext().getState(new ValueStateDescriptor<>(rule.id() + "-member", Types.BOOLEAN));
        newestEventTime = getRuntimeContext().getState(
                new ValueStateDescriptor<>(rule.id() + "-newest-event-time", Types.LONG));
        var metrics = getRuntimeContext().getMetricGroup().addGroup("cohortflow");
        enters = metrics.counter("segmentEnters");
        exits = metrics.counter("segmentExits");
    }

    @Override
    public void processElement(UnifiedEvent event, Context ctx, Collector<SegmentChange> out) throws Exception {
        if (!rule.counts(event.event())) {
            return;
        }
        Long newest = newestEventTime.value();
        long asOf = newest == null ? event.timestamp() : Math.max(newest, event.timestamp());
        newestEventTime.update(asOf);
        // Exits that fell due before this event (its timer may not have fired yet) happen first, at their own time.
        advance(ctx.getCurrentKey(), asOf, ctx.timerService().currentProcessingTime(), out);

        long bucket = WindowedCountRule.bucketStart(event.timestamp());
        if (rule.inWindow(bucket, asOf)) {
            Integer current = buckets.get(bucket);
            buckets.put(bucket, current == null ? 1 : current + 1);
        }
        int count = rule.count(buckets.entries(), asOf);
        if (rule.satisfiedBy(count) && !isMember()) {
            member.update(true);
            enters.inc();
            out.collect(change(ctx.getCurrentKey(), ChangeType.ENTER, event.timestamp(),
                    ctx.timerService().currentProcessingTime(), count));
        }
        scheduleNextExpiry(ctx.timerService(), asOf);
    }

    @Override
    public void onTimer(long timestamp, OnTimerContext ctx, Collector<SegmentChange> out) throws Exception {
        advance(ctx.getCurrentKey(), timestamp, ctx.timerService().currentProcessingTime(), out);
        if (buckets.isEmpty() && !isMember()) {
            buckets.clear();
            member.clear();
            newestEventTime.clear();
            return;
        }
        scheduleNextExpiry(ctx.timerService(), timestamp);
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

    private void scheduleNextExpiry(org.apache.flink.streaming.api.TimerService timers, long asOf) throws Exception {
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
