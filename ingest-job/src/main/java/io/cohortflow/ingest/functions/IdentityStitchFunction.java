package io.cohortflow.ingest.functions;

import io.cohortflow.core.event.EventType;
import io.cohortflow.core.event.UnifiedEvent;
import io.cohortflow.core.identity.IdentityLink;
import io.cohortflow.core.identity.IdentityMerge;
import io.cohortflow.jobs.metrics.ProductMetrics;
import io.cohortflow.jobs.types.JsonRecordTypeInfo;
import io.cohortflow.core.identity.IdentityMergeCodec;
import org.apache.flink.api.common.functions.OpenContext;
import io.cohortflow.jobs.state.StateTtls;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.co.KeyedCoProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

import java.time.Duration;

/**
 * Stitches devices to people. Keyed by {@link IdentityKeys}: one device's events pass here in order.
 *
 * <ul>
 *   <li>An event carrying both an anonymous id and a user id (identify, or any call after login) links the device to
 *       that user; so does an alias (previousId to userId). A new link is sent to {@link #LINK_REQUESTS}, where the
 *       per-user cap decides whether it becomes a merge. A device that logs in as someone else is re-linked: the
 *       newest login wins, as on a shared family computer. The link is written in-band too ({@link IdentityLink}):
 *       a marker keyed by the device, and the linking event annotated, so that segmentation merges at the same place
 *       on every run.</li>
 *   <li>An event with only the anonymous id is resolved to the linked user, if any.</li>
 *   <li>Input 2 carries links the cap refused (read back from identity.merges): the device stops resolving to that
 *       user and is not linked to them again.</li>
 *   <li>A privacy request naming the device ({@link io.cohortflow.ingest.privacy.ForgetMarker}, from dedupe) clears
 *       its link state.</li>
 * </ul>
 * Link state expires after {@code linkTtl} without a new link (processing time). Each write of it sets a
 * processing-time timer (rounded up to the hour, so a device re-linked often has one per hour at most) that reads it
 * once that time has passed, which drops it if it expired ({@link StateTtls#afterWriteWithoutIncrementalCleanup}).
 */
public final class IdentityStitchFunction extends KeyedCoProcessFunction<String, UnifiedEvent, IdentityMerge, UnifiedEvent> {
    private static final long serialVersionUID = 1L;

    public static final OutputTag<IdentityMerge> LINK_REQUESTS =
            new OutputTag<>("identity-link-requests", new JsonRecordTypeInfo<>(new IdentityMergeCodec()));

    private final Duration linkTtl;
    private transient ValueState<String> linkedUser;
    private transient ValueState<String> refusedUser;
    private transient Counter unified;
    private transient Counter resolvedFromDevice;

    public IdentityStitchFunction(Duration linkTtl) {
        this.linkTtl = linkTtl;
    }

    @Override
    public void open(OpenContext openContext) {
        var ttl = StateTtls.afterWriteWithoutIncrementalCleanup(linkTtl);
        ValueStateDescriptor<String> linked = new ValueStateDescriptor<>("device-linked-user", Types.STRING);
        linked.enableTimeToLive(ttl);
        ValueStateDescriptor<String> refused = new ValueStateDescriptor<>("device-refused-user", Types.STRING);
        refused.enableTimeToLive(ttl);
        linkedUser = getRuntimeContext().getState(linked);
        refusedUser = getRuntimeContext().getState(refused);
        var metrics = ProductMetrics.of(getRuntimeContext().getMetricGroup());
        unified = metrics.counter("eventsUnified");
        resolvedFromDevice = metrics.counter("eventsResolvedFromDevice");
    }

    @Override
    public void processElement1(UnifiedEvent event, Context ctx, Collector<UnifiedEvent> out) throws Exception {
        String key = ctx.getCurrentKey();
        if (io.cohortflow.ingest.privacy.ForgetMarker.is(event)) {
            // A privacy request names this device: its link, and a refused one, are forgotten; nothing is emitted.
            linkedUser.clear();
            refusedUser.clear();
            return;
        }
        if (key.startsWith(IdentityKeys.USER)) {
            emit(event, out);
            return;
        }
        String device = key.substring(IdentityKeys.DEVICE.length());
        String linked = linkedUser.value();
        if (event.userId() != null && !event.userId().equals(device) && !event.userId().equals(linked)
                && !event.userId().equals(refusedUser.value())) {
            linkedUser.update(event.userId());
            sweepAfterTtl(ctx);
            linked = event.userId();
            String trigger = event.type() == EventType.ALIAS ? "alias"
                    : event.type() == EventType.IDENTIFY ? "identify" : "event";
            ctx.output(LINK_REQUESTS, new IdentityMerge(device, event.userId(), IdentityMerge.Status.MERGED, trigger,
                    event.messageId(), event.timestamp(), 0));
            // The link's place in both ids' streams (IdentityLink): the device's marker is the last record of its own
            // key, and the linking event carries the link to the user's.
            out.collect(IdentityLink.marker(event, device));
            emit(IdentityLink.annotate(event, device), out);
            return;
        }
        if (event.userId() == null && linked != null) {
            resolvedFromDevice.inc();
            emit(event.withResolvedId(linked), out);
        } else {
            emit(event, out);
        }
    }

    @Override
    public void processElement2(IdentityMerge refusal, Context ctx, Collector<UnifiedEvent> out) throws Exception {
        if (refusal.status() != IdentityMerge.Status.REJECTED_CAP) {
            return;
        }
        if (refusal.toId().equals(linkedUser.value())) {
            linkedUser.clear();
        }
        refusedUser.update(refusal.toId());
        sweepAfterTtl(ctx);
    }

    private static final long HOUR = Duration.ofHours(1).toMillis();

    /** A timer, on the hour after the state just written expires, that drops it then if it did ({@link #onTimer}). */
    private void sweepAfterTtl(Context ctx) {
        long expires = ctx.timerService().currentProcessingTime() + linkTtl.toMillis();
        ctx.timerService().registerProcessingTimeTimer(Math.floorDiv(expires, HOUR) * HOUR + HOUR);
    }

    /** Reads the link state: what expired is dropped by the read; what was written again since has a later timer. */
    @Override
    public void onTimer(long timestamp, OnTimerContext ctx, Collector<UnifiedEvent> out) throws Exception {
        linkedUser.value();
        refusedUser.value();
    }

    private void emit(UnifiedEvent event, Collector<UnifiedEvent> out) {
        unified.inc();
        out.collect(event);
    }
}
