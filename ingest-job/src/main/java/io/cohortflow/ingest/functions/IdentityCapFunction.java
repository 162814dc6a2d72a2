package io.cohortflow.ingest.functions;

import io.cohortflow.core.identity.IdentityMerge;
import io.cohortflow.jobs.metrics.ProductMetrics;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import io.cohortflow.jobs.state.StateTtls;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;

import java.time.Duration;

/**
 * Keyed by user id: accepts at most {@code maxLinkedIds} linked anonymous ids per user, like Segment's identity
 * limits, so that a shared kiosk device cannot glue thousands of people into one profile. An accepted link is
 * published as {@code MERGED}; one over the cap as {@code REJECTED_CAP} (reported, never merged). Every request gets
 * a decision (a link accepted before is {@code MERGED} again): segmentation holds both ids at the link until it comes.
 *
 * <p>Metrics (group {@code cohortflow}): {@code identityMerges}, {@code identityCapOverflow}.
 */
public final class IdentityCapFunction extends KeyedProcessFunction<String, IdentityMerge, IdentityMerge> {
    private static final long serialVersionUID = 1L;

    private final int maxLinkedIds;
    private final Duration linkTtl;
    private transient MapState<String, Long> linkedIds;
    private transient Counter merges;
    private transient Counter overflow;

    public IdentityCapFunction(int maxLinkedIds, Duration linkTtl) {
        this.maxLinkedIds = maxLinkedIds;
        this.linkTtl = linkTtl;
    }

    @Override
    public void open(OpenContext openContext) {
        MapStateDescriptor<String, Long> descriptor = new MapStateDescriptor<>("user-linked-ids", Types.STRING, Types.LONG);
        descriptor.enableTimeToLive(StateTtls.afterWrite(linkTtl));
        linkedIds = getRuntimeContext().getMapState(descriptor);
        var metrics = ProductMetrics.of(getRuntimeContext().getMetricGroup());
        merges = metrics.counter("identityMerges");
        overflow = metrics.counter("identityCapOverflow");
    }

    @Override
    public void processElement(IdentityMerge request, Context ctx, Collector<IdentityMerge> out) throws Exception {
        int count = 0;
        for (String ignored : linkedIds.keys()) {
            count++;
        }
        if (linkedIds.contains(request.fromId())) {
            // Linked before (the device went elsewhere and came back): merged again, so that both ends, which wait
            // for a decision on every link, get one.
            out.collect(decision(request, IdentityMerge.Status.MERGED, count));
            return;
        }
        if (count >= maxLinkedIds) {
            overflow.inc();
            out.collect(decision(request, IdentityMerge.Status.REJECTED_CAP, count));
            return;
        }
        linkedIds.put(request.fromId(), request.eventTime());
        merges.inc();
        out.collect(decision(request, IdentityMerge.Status.MERGED, count + 1));
    }

    private static IdentityMerge decision(IdentityMerge request, IdentityMerge.Status status, int linked) {
        return new IdentityMerge(request.fromId(), request.toId(), status, request.trigger(), request.messageId(),
                request.eventTime(), linked);
    }
}
