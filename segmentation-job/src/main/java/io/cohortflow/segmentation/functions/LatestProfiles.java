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
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Between the segmentation function and the segments.profiles sink: while the job is behind (a catch-up after an
 * outage, a replay, a backfill: the profile's element time lies more than {@code behind} before the wall clock), a
 * profile that moved no membership ({@link ProfileUpdate#supersedable}) waits here, one per user and not yet built
 * ({@link StepProfile}), and a later profile of the same user takes its place; what waits is written at every
 * checkpoint (before its barrier, so into the transaction of the steps that made it), at-least-once every
 * {@code flushEvery} of processing time, when {@code maxWaiting} users wait, and at the end of the input. A profile
 * that came with a change, a merge or a tombstone is written at once, and the older one of its user that waited is
 * dropped, so a user's profiles keep their order. Live profiles go as they come: held to the barrier, they made the
 * sink send them all there, and the checkpoint, whose completion also commits the changes, waited (P2, exactly-once,
 * events.unified to change visible: p50 530 ms became 900–1,075 ms). A live profile of a moment a window moved lies the watermark's
 * out-of-orderness behind, so {@code behind} must exceed it (the job's default: 15 min against 5 min).
 *
 * <p>segments.profiles is compacted and read as each user's latest profile (the console, the audience snapshot,
 * activation's join). With exactly-once, its readers (read_committed) see a checkpoint's profiles all at once, when
 * its transaction commits: of a user's profiles in one checkpoint only the last was ever the latest to anyone, and
 * that one is written, so at every commit the topic's latest profile per user is the one it would be if every profile
 * were written. Every change still finds the profile of its own step, or a later one with the same memberships, in its
 * transaction. This is what Flink SQL's upsert-kafka sink does with its {@code sink.buffer-flush.*} options (the
 * latest row per key, flushed on an interval, a row count and each checkpoint). Here it applies when the job catches
 * up (a backfill, a restart after an outage), when a user's windows move many times per checkpoint: see the README's
 * Performance section for the figures. With at-least-once, a profile that waited reaches the topic at most
 * {@code flushEvery} later than it would have. With exactly-once ({@code committedAtCheckpoints}), what waits is
 * written at the barrier only (and when {@code maxWaiting} users wait): nothing written there is seen before its
 * checkpoint commits, so writing it earlier every {@code flushEvery} made no profile visible sooner; it only wrote
 * profiles that a later one of their user, in the same transaction, hid from every reader (P1 end to end: the flushes
 * on the timer were 39% of the job's profile encoding in JFR, the encoding a quarter of its keyed task; without them
 * the job wrote about 12% fewer profiles and changes over the benchmark's replay).
 *
 * <p>Metrics: {@code profilesSuperseded}, the profiles a later one of their user replaced before they were written.
 */
public final class LatestProfiles extends AbstractStreamOperator<SegmentProfile>
        implements OneInputStreamOperator<ProfileUpdate, SegmentProfile>, BoundedOneInput, ProcessingTimeCallback {
    private static final long serialVersionUID = 1L;

    private final long flushEveryMillis;
    private final long behindMillis;
    private final int maxWaiting;
    private final boolean committedAtCheckpoints;
    /** Per user, the profile that waits and its element's timestamp, in the order the users began to wait. */
    private transient LinkedHashMap<String, Waiting> waiting;
    private transient Counter superseded;

    /**
     * @param flushEvery how long a supersedable profile may wait at most (processing time); zero writes every profile
     *                   as it comes
     * @param behind     how far before the wall clock a profile's time must lie for it to wait
     * @param maxWaiting how many users' profiles may wait at once before all are written (memory: one profile each)
     * @param committedAtCheckpoints the sink writes in transactions its checkpoints commit (exactly-once): what waits
     *                   is written at the barrier, not every {@code flushEvery}
     */
    public LatestProfiles(Duration flushEvery, Duration behind, int maxWaiting, boolean committedAtCheckpoints) {
        if (flushEvery.isNegative() || behind.isNegative() || maxWaiting < 1) {
            throw new IllegalArgumentException("flushEvery and behind must be zero or more and maxWaiting positive, got "
                    + flushEvery + ", " + behind + " and " + maxWaiting);
        }
        this.flushEveryMillis = flushEvery.toMillis();
        this.behindMillis = behind.toMillis();
        this.maxWaiting = maxWaiting;
        this.committedAtCheckpoints = committedAtCheckpoints;
    }

    private record Waiting(StepProfile profile, long timestamp) {
    }

    @Override
    public void open() throws Exception {
        super.open();
        waiting = new LinkedHashMap<>();
        superseded = ProductMetrics.of(getMetricGroup()).counter("profilesSuperseded");
        if (flushEveryMillis > 0 && !committedAtCheckpoints) {
            schedule();
        }
    }

    @Override
    public void processElement(StreamRecord<ProfileUpdate> element) {
        ProfileUpdate update = element.getValue();
        StepProfile profile = update.profile();
        String user = profile.userId();
        if (update.supersedable() && flushEveryMillis > 0 && element.hasTimestamp()
                && getProcessingTimeService().getCurrentProcessingTime() - element.getTimestamp() > behindMillis) {
            Waiting before = waiting.put(user, new Waiting(profile, element.getTimestamp()));
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
            output.collect(new StreamRecord<>(built, profile.timestamp()));
        }
        waiting.clear();
    }
}
