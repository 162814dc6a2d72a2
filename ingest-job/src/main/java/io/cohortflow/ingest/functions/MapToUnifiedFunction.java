package io.cohortflow.ingest.functions;

import io.cohortflow.core.event.DeadLetter;
import io.cohortflow.core.event.RejectReason;
import io.cohortflow.core.event.UnifiedEvent;
import io.cohortflow.ingest.mapping.IngestMapper;
import io.cohortflow.ingest.mapping.MappingOutcome;
import io.cohortflow.ingest.mapping.RawEvent;
import io.cohortflow.jobs.metrics.ProductMetrics;
import io.cohortflow.jobs.types.JsonRecordTypeInfo;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.EnumMap;
import java.util.Map;

/**
 * Maps raw payloads onto unified events. Whatever cannot be mapped goes to the {@link #DEAD_LETTERS} side output with
 * its reason and original bytes; this function never throws on input.
 *
 * <p>Metrics (group {@code cohortflow}): {@code eventsIn} (payloads), {@code eventsMapped} (calls mapped),
 * {@code deadLettered} and {@code deadLettered_<REASON>}.
 */
public final class MapToUnifiedFunction extends ProcessFunction<RawEvent, UnifiedEvent> {
    private static final long serialVersionUID = 1L;

    public static final OutputTag<DeadLetter> DEAD_LETTERS = new OutputTag<>("dead-letters", JsonRecordTypeInfo.DEAD_LETTER);

    private final IngestMapper mapper;
    private transient Counter in;
    private transient Counter mapped;
    private transient Counter deadLettered;
    private transient Map<RejectReason, Counter> byReason;

    public MapToUnifiedFunction(IngestMapper mapper) {
        this.mapper = mapper;
    }

    @Override
    public void open(OpenContext openContext) {
        MetricGroup group = ProductMetrics.of(getRuntimeContext().getMetricGroup());
        in = group.counter("eventsIn");
        mapped = group.counter("eventsMapped");
        deadLettered = group.counter("deadLettered");
        byReason = new EnumMap<>(RejectReason.class);
        for (RejectReason reason : RejectReason.values()) {
            byReason.put(reason, group.counter("deadLettered_" + reason.name()));
        }
    }

    @Override
    public void processElement(RawEvent raw, Context ctx, Collector<UnifiedEvent> out) {
        in.inc();
        MappingOutcome outcome;
        try {
            outcome = mapper.map(raw);
        } catch (RuntimeException e) {
            // A mapper bug must not stop the pipeline: keep the payload and the error for a replay after the fix.
            outcome = MappingOutcome.rejected(RejectReason.MAPPING_FAILED, "mapping failed: " + e);
        }
        for (UnifiedEvent event : outcome.events()) {
            mapped.inc();
            out.collect(event);
        }
        for (MappingOutcome.Rejected rejected : outcome.rejected()) {
            deadLettered.inc();
            byReason.get(rejected.reason()).inc();
            ctx.output(DEAD_LETTERS, deadLetter(raw, rejected, ctx.timerService().currentProcessingTime()));
        }
    }

    static DeadLetter deadLetter(RawEvent raw, MappingOutcome.Rejected rejected, long now) {
        byte[] bytes = rejected.payload() != null ? rejected.payload() : raw.payload();
        String text = new String(bytes, StandardCharsets.UTF_8);
        // Keep the payload byte-exact: text when it round-trips through UTF-8, Base64 otherwise.
        boolean exact = java.util.Arrays.equals(text.getBytes(StandardCharsets.UTF_8), bytes);
        return new DeadLetter(rejected.reason().name(), rejected.detail(), raw.source(), now,
                exact ? text : Base64.getEncoder().encodeToString(bytes), !exact);
    }
}
