package io.cohortflow.ingest.functions;

import io.cohortflow.core.event.UnifiedEvent;
import io.cohortflow.ingest.mapping.EventNormalizer;
import io.cohortflow.jobs.metrics.ProductMetrics;
import io.cohortflow.jobs.state.StateTtls;
import io.cohortflow.jobs.types.StringBlockSerializer;
import io.cohortflow.jobs.types.UnifiedEventTypeInfo;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.common.typeutils.base.LongSerializer;
import org.apache.flink.metrics.Counter;
import io.cohortflow.core.privacy.PrivacyRequest;
import io.cohortflow.ingest.privacy.Suppress;
import org.apache.flink.streaming.api.functions.co.KeyedBroadcastProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

import java.time.Duration;

/**
 * Drops redeliveries of a message (same source and messageId) seen within the dedupe window, and routes events that
 * arrive later than the allowed lateness behind the watermark to {@link #LATE}.
 *
 * <p>It is keyed like the identity stage ({@link IdentityKeys}: a redelivery carries the same ids as the original),
 * so the job can hand its output to identity stitching without another shuffle and one device's events keep their
 * order between the two.
 *
 * <p>History replayed by a backfill (context {@code backfill: true}) is old by nature and exempt from the lateness
 * rule. The window is state TTL, so it is measured in processing time: redeliveries (SDK and webhook retries) happen
 * soon after the first delivery in wall-clock terms, whatever their event time. Late events are still first
 * deduplicated, so a late retry is a duplicate, not a second late event.
 *
 * <p>The messages seen are one map per key, message to the processing time it was first seen, swept by a
 * processing-time timer per key: a message is forgotten once the window has passed since it was first seen. Not
 * Flink's state TTL: on the heap backend its incremental cleanup copies the whole map of every entry it visits, ten
 * per access, which was about 70% of this operator's time in JFR, and the operator the busiest of the job.
 * The message keys are written as blocks of bytes ({@link StringBlockSerializer}): the heap backend writes this state
 * whole at every checkpoint. State written by the versions before ({@code messages-seen-at}, the same map with Flink's
 * string serializer; {@code messages-seen}, with TTL) is moved into the map the first time its key comes back or its
 * sweep is due, so an upgrade forgets no redelivery.
 *
 * <p>It drops the events of ids suppressed by a privacy request first (the broadcast input, {@link Suppress}), so
 * that neither events.unified nor events.late nor the history gets them, and no redelivery of theirs is remembered.
 *
 * <p>Metrics (group {@code cohortflow}): {@code duplicates}, {@code lateEvents}, {@code suppressed}.
 */
public final class DedupeFunction extends KeyedBroadcastProcessFunction<String, UnifiedEvent, PrivacyRequest, UnifiedEvent> {
    private static final long serialVersionUID = 1L;

    public static final OutputTag<UnifiedEvent> LATE = new OutputTag<>("late-events", UnifiedEventTypeInfo.INSTANCE);

    private final Duration window;
    private final Duration allowedLateness;
    /** Each message seen within the window (its key: {@link #messageKey}) and when it was first seen. */
    private transient MapState<String, Long> seenAt;
    /** The same, as the version before wrote it, until each key's are moved into {@link #seenAt}. */
    private transient MapState<String, Long> seenAtBefore;
    /** When this key's messages are next swept (its timer), or null while it has none. */
    private transient ValueState<Long> sweepAt;
    /** The messages seen as the versions before kept them (TTL'd), until each key's are moved into {@link #seenAt}. */
    private transient MapState<String, Boolean> earlier;
    private transient Counter duplicates;
    private transient Counter late;
    private transient Counter suppressed;
    private final Suppress.Baseline privacy;
    private transient java.util.Set<String> suppressedAtOpen;

    public DedupeFunction(Duration window, Duration allowedLateness) {
        this(window, allowedLateness, null);
    }

    /** @param privacy where the privacy requests are, read whole at open ({@link Suppress.Baseline}); null: none */
    public DedupeFunction(Duration window, Duration allowedLateness, Suppress.Baseline privacy) {
        this.window = window;
        this.allowedLateness = allowedLateness;
        this.privacy = privacy;
    }

    /** What identifies a message: ids are unique per source, not across sources. */
    static String messageKey(UnifiedEvent event) {
        return event.source() + '\u0000' + event.messageId();
    }

    /**
     * The state the versions before wrote, with TTL as it was written with (a savepoint's TTL state restores only into
     * TTL state) but without incremental cleanup, the cost this replaced: a key's entries leave when the key comes
     * back, the rest expire in full snapshots and in RocksDB's compactions. Flink cleans up in the background unless
     * told not to, and on the heap backend that meant a walk through every key group at every event, this state
     * being empty (29% of this task at 2,000 events/s, P2).
     */
    static MapStateDescriptor<String, Boolean> earlier(Duration window) {
        MapStateDescriptor<String, Boolean> before = new MapStateDescriptor<>("messages-seen", Types.STRING, Types.BOOLEAN);
        before.enableTimeToLive(StateTtls.afterWriteWithoutIncrementalCleanup(window));
        return before;
    }

    @Override
    public void open(OpenContext openContext) {
        seenAt = getRuntimeContext().getMapState(new MapStateDescriptor<>("messages-first-seen",
                StringBlockSerializer.INSTANCE, LongSerializer.INSTANCE));
        seenAtBefore = getRuntimeContext().getMapState(
                new MapStateDescriptor<>("messages-seen-at", Types.STRING, Types.LONG));
        sweepAt = getRuntimeContext().getState(new ValueStateDescriptor<>("messages-sweep-at", Types.LONG));
        earlier = getRuntimeContext().getMapState(earlier(window));
        var metrics = ProductMetrics.of(getRuntimeContext().getMetricGroup());
        duplicates = metrics.counter("duplicates");
        late = metrics.counter("lateEvents");
        suppressed = metrics.counter("suppressed");
        suppressedAtOpen = Suppress.Baseline.of(privacy);
    }

    @Override
    public void processElement(UnifiedEvent event, ReadOnlyContext ctx, Collector<UnifiedEvent> out) throws Exception {
        Suppress.Ids ids = new Suppress.Ids(suppressedAtOpen, ctx.getBroadcastState(Suppress.SUPPRESSED));
        if (ids.any() && Suppress.carries(event, ids)) {
            suppressed.inc();
            return;
        }
        long now = ctx.timerService().currentProcessingTime();
        moveEarlier(now);
        String message = messageKey(event);
        Long first = seenAt.get(message);
        if (first != null && now - first < window.toMillis()) {
            duplicates.inc();
            return;
        }
        seenAt.put(message, now);
        if (sweepAt.value() == null) {
            sweepAt.update(now + window.toMillis());
            ctx.timerService().registerProcessingTimeTimer(now + window.toMillis());
        }
        long watermark = ctx.timerService().currentWatermark();
        boolean backfill = Boolean.TRUE.equals(event.context().get(EventNormalizer.BACKFILL_CONTEXT_KEY));
        // (At Long.MAX_VALUE, event time has ended: a bounded input's end, not lateness.)
        if (!backfill && watermark != Long.MIN_VALUE && watermark != Long.MAX_VALUE
                && event.timestamp() < watermark - allowedLateness.toMillis()) {
            late.inc();
            ctx.output(LATE, event);
            return;
        }
        out.collect(event);
    }

    /**
     * Moves this key's messages of the versions before into {@link #seenAt}; those of the oldest version, which kept no
     * time, count as seen now.
     */
    private void moveEarlier(long now) throws Exception {
        if (!seenAtBefore.isEmpty()) {
            for (var message : seenAtBefore.entries()) {
                seenAt.put(message.getKey(), message.getValue());
            }
            seenAtBefore.clear();
        }
        if (!earlier.isEmpty()) {
            for (String message : earlier.keys()) {
                seenAt.put(message, now);
            }
            earlier.clear();
        }
    }

    /** Forgets the messages whose window has passed; the next sweep is when the oldest left passes. */
    @Override
    public void onTimer(long timestamp, OnTimerContext ctx, Collector<UnifiedEvent> out) throws Exception {
        moveEarlier(timestamp);
        long next = Long.MAX_VALUE;
        for (var it = seenAt.iterator(); it.hasNext(); ) {
            long first = it.next().getValue();
            if (timestamp - first >= window.toMillis()) {
                it.remove();
            } else {
                next = Math.min(next, first + window.toMillis());
            }
        }
        if (next == Long.MAX_VALUE) {
            seenAt.clear();
            sweepAt.clear();
        } else {
            sweepAt.update(next);
            ctx.timerService().registerProcessingTimeTimer(next);
        }
    }

    @Override
    public void processBroadcastElement(PrivacyRequest request, Context ctx, Collector<UnifiedEvent> out)
            throws Exception {
        if (Suppress.take(request, ctx.getBroadcastState(Suppress.SUPPRESSED))) {
            ctx.output(Suppress.STATUS, Suppress.report(request, io.cohortflow.core.privacy.PrivacyStatus.CHECK_DEDUPE,
                    getRuntimeContext().getTaskInfo()));
        }
        // Stitching forgets the named devices' links, after their earlier events and before any later one (which,
        // for a request that suppresses, this function drops from now on).
        io.cohortflow.ingest.privacy.ForgetMarker.emit(request, getRuntimeContext().getTaskInfo(), out);
    }
}
