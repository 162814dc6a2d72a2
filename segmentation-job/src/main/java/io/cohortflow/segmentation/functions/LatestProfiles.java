package io.cohortflow.segmentation.functions;

import io.cohortflow.core.engine.StepProfile;
import io.cohortflow.core.segment.SegmentProfile;
import io.cohortflow.jobs.metrics.ProductMetrics;
import org.apache.flink.api.common.operators.ProcessingTimeService.ProcessingTimeCallback;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.BoundedOneInput;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;

import java.time.Duration;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Between the segmentation function and the segments.profiles sink: a profile that moved no membership
 * ({@link ProfileUpdate#supersedable}), of a user who already had one written since the last flush, waits here, one
 * per user and not yet built ({@link StepProfile}), and a later profile of the same user takes its place; what waits
 * is written at every checkpoint (before its barrier, so into the transaction of the steps that made it), every
 * {@code flushEvery} of processing time, when {@code maxWaiting} users wait or were written, and at the end of the
 * input. A user's first profile after a flush is written at once, so live traffic (a profile or so per user between
 * checkpoints) goes as it comes and does not pile up before the barrier, where the sink would have to flush it all
 * and the checkpoint, and with it the changes' commit, would wait (P2 measured +400 ms at the median, exactly-once,
 * when every such profile waited). A profile that came with a change, a merge or a tombstone is written at once, and
 * the older one of its user that waited is dropped, so a user's profiles keep their order.
 *
 * <p>segments.profiles is compacted and read as each user's latest profile (the console, the audience snapshot,
 * activation's join). With exactly-once, its readers (read_committed) see a checkpoint's profiles all at once, when
 * its transaction commits: of a user's profiles in one checkpoint only the last was ever the latest to anyone, and
 * that one is written, so at every commit the topic's latest profile per user is the one it would be if every profile
 * were written. Every change still finds the profile of its own step, or a later one with the same memberships, in its
 * transaction. This is what Flink SQL's upsert-kafka sink does with its {@code sink.buffer-flush.*} options (the
 * latest row per key, flushed on an interval, a row count and each checkpoint). It matters most when the job catches
 * up (a backfill, a restart after an outage), when a user's windows move many times per checkpoint: see the README's
 * Performance section for the figures. With at-least-once, a profile that moved no membership reaches the topic at
 * most {@code flushEvery} later than it would have.
 *
 * <p>Metrics: {@code profilesSuperseded}, the profiles a later one of their user replaced before they were written.
 */
public final class LatestProfiles extends AbstractStreamOperator<SegmentProfile>
        implements OneInputStreamOperator<ProfileUpdate, SegmentProfile>, BoundedOneInput, ProcessingTimeCallback {
    private static final long serialVersionUID = 1L;
    /** An element without a timestamp keeps none. */
    private static final long NO_TIMESTAMP = Long.MIN_VALUE;

    private final long flushEveryMillis;
    private final int maxWaiting;
    /** Per user, the profile that waits and its element's timestamp, in the order the users began to wait. */
    private transient LinkedHashMap<String, Waiting> waiting;
    /** The users with a profile written since the last flush: a supersedable profile of anyone else goes at once. */
    private transient HashSet<String> written;
    private transient Counter superseded;

    /**
     * @param flushEvery how long a supersedable profile may wait at most (processing time); zero writes every profile
     *                   as it comes
     * @param maxWaiting how many users' profiles may wait at once before all are written (memory: one profile each)
     */
    public LatestProfiles(Duration flushEvery, int maxWaiting) {
        if (flushEvery.isNegative() || maxWaiting < 1) {
            throw new IllegalArgumentException("flushEvery must be zero or more and maxWaiting positive, got "
                    + flushEvery + " and " + maxWaiting);
        }
        this.flushEveryMillis = flushEvery.toMillis();
        this.maxWaiting = maxWaiting;
    }

    private record Waiting(StepProfile profile, long timestamp) {
    }

    @Override
    public void open() throws Exception {
        super.open();
        waiting = new LinkedHashMap<>();
        written = new HashSet<>();
        superseded = ProductMetrics.of(getMetricGroup()).counter("profilesSuperseded");
        if (flushEveryMillis > 0) {
            schedule();
        }
    }

    @Override
    public void processElement(StreamRecord<ProfileUpdate> element) {
        ProfileUpdate update = element.getValue();
        StepProfile profile = update.profile();
        String user = profile.userId();
        if (update.supersedable() && flushEveryMillis > 0 && written.contains(user)) {
            Waiting before = waiting.put(user,
                    new Waiting(profile, element.hasTimestamp() ? element.getTimestamp() : NO_TIMESTAMP));
            if (before != null) {
                superseded.inc();
            } else if (waiting.size() >= maxWaiting) {
                flush();
            }
            return;
        }
        if (waiting.remove(user) != null) {
            superseded.inc();
        }
        if (flushEveryMillis > 0) {
            written.add(user);
            if (written.size() >= maxWaiting) {
                flush();
            }
        }
        output.collect(element.replace(profile.get()));
    }

    /**
     * Writes what waits before the barrier: Flink prepares a chain's operators from its head to its tail, so these
     * profiles reach the chained sink writer before it flushes (at-least-once) or prepares its transaction's commit
     * (exactly-once). Unchained, they go downstream ahead of the barrier. Nothing waiting is in a checkpoint's state.
     */
    @Override
    public void prepareSnapshotPreBarrier(long checkpointId) throws Exception {
        super.prepareSnapshotPreBarrier(checkpointId);
        flush();
    }

    @Override
    public void endInput() {
        flush();
    }

    @Override
    public void onProcessingTime(long time) {
        flush();
        schedule();
    }

    private void schedule() {
        var time = getProcessingTimeService();
        time.registerTimer(time.getCurrentProcessingTime() + flushEveryMillis, this);
    }

    private void flush() {
        for (Map.Entry<String, Waiting> entry : waiting.entrySet()) {
            Waiting profile = entry.getValue();
            SegmentProfile built = profile.profile().get();
            output.collect(profile.timestamp() == NO_TIMESTAMP ? new StreamRecord<>(built)
                    : new StreamRecord<>(built, profile.timestamp()));
        }
        waiting.clear();
        written.clear();
    }
}
