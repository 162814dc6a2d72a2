package io.cohortflow.ingest.functions;

import io.cohortflow.core.identity.IdentityMerge;
import io.cohortflow.core.privacy.PrivacyRequest;
import io.cohortflow.core.privacy.PrivacyRequestCodec;
import io.cohortflow.jobs.types.JsonRecordTypeInfo;
import io.cohortflow.jobs.metrics.ProductMetrics;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import io.cohortflow.jobs.state.StateTtls;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.co.KeyedCoProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Keyed by user id: accepts at most {@code maxLinkedIds} linked anonymous ids per user, like Segment's identity
 * limits, so that a shared kiosk device cannot glue thousands of people into one profile. An accepted link is
 * published as {@code MERGED}; one over the cap as {@code REJECTED_CAP} (reported, never merged). Every request gets
 * a decision (a link accepted before is {@code MERGED} again): segmentation holds both ids at the link until it comes.
 *
 * <p>Input 2 is the privacy requests, one per id they name (keyed by that id). This is the one place that knows a
 * person's devices, so a request naming a user with linked devices gets a follow-up request naming them
 * ({@link PrivacyRequest#forLinkedDevices}, on {@link #LINKED_DEVICES}, written to privacy.requests), which every
 * stage then applies to the devices as to her: ingest suppresses them by id, segmentation erases their state, the
 * history erasure removes their rows. A request that deletes also clears the user's list of devices here.
 *
 * <p>Metrics (group {@code cohortflow}): {@code identityMerges}, {@code identityCapOverflow}.
 */
public final class IdentityCapFunction extends KeyedCoProcessFunction<String, IdentityMerge, PrivacyRequest, IdentityMerge> {
    private static final long serialVersionUID = 1L;

    /** Follow-up requests for the devices linked to a user a privacy request names. */
    public static final OutputTag<PrivacyRequest> LINKED_DEVICES = new OutputTag<>("privacy-linked-devices",
            new JsonRecordTypeInfo<>(new PrivacyRequestCodec()));

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
    public void processElement1(IdentityMerge request, Context ctx, Collector<IdentityMerge> out) throws Exception {
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

    /** A privacy request naming this key ({@code request} names it alone). */
    @Override
    public void processElement2(PrivacyRequest request, Context ctx, Collector<IdentityMerge> out) throws Exception {
        if (request.origin() != null) {
            return; // already a follow-up: its ids are devices
        }
        List<String> devices = new ArrayList<>();
        for (String device : linkedIds.keys()) {
            devices.add(device);
        }
        if (devices.isEmpty()) {
            return;
        }
        devices.sort(null);
        ctx.output(LINKED_DEVICES, PrivacyRequest.forLinkedDevices(request, ctx.getCurrentKey(), devices));
        if (request.type().deletes()) {
            linkedIds.clear();
        }
    }

    private static IdentityMerge decision(IdentityMerge request, IdentityMerge.Status status, int linked) {
        return new IdentityMerge(request.fromId(), request.toId(), status, request.trigger(), request.messageId(),
                request.eventTime(), linked);
    }
}
