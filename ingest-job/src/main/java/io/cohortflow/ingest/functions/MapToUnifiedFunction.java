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

import java.util.EnumMap;
import java.util.Map;

/**
 * Maps raw payloads onto unified events. Whatever cannot be mapped goes to the {@link #DEAD_LETTERS} side output with
 * its reason and original bytes (bounded: a large payload's first bytes, its size and SHA-256); this function never
 * throws on input.
 *
 * <p>Metrics (group {@code cohortflow}): {@code eventsIn} (payloads), {@code eventsMapped} (calls mapped),
 * {@code deadLettered} and {@code deadLettered_<REASON>}.
 */
public final class MapToUnifiedFunction extends ProcessFunction<RawEvent, UnifiedEvent> {
    private static final long serialVersionUID = 1L;

    public static final OutputTag<DeadLetter> DEAD_LETTERS = new OutputTag<>("dead-letters", JsonRecordTypeInfo.DEAD_LETTER);

    private final IngestMapper mapper;
    private final int maxDeadLetterPayloadBytes;
    private transient Counter in;
    private transient Counter mapped;
    private transient Counter deadLettered;
    private transient Map<RejectReason, Counter> byReason;

    public MapToUnifiedFunction(IngestMapper mapper) {
        this(mapper, DeadLetter.DEFAULT_MAX_PAYLOAD_BYTES);
    }

    /** @param maxDeadLetterPayloadBytes the most of a payload a dead letter carries (the rest: size and SHA-256) */
    public MapToUnifiedFunction(IngestMapper mapper, int maxDeadLetterPayloadBytes) {
        this.mapper = mapper;
        this.maxDeadLetterPayloadBytes = maxDeadLetterPayloadBytes;
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
            ctx.output(DEAD_LETTERS, deadLetter(raw, rejected, ctx.timerService().currentProcessingTime(),
                    maxDeadLetterPayloadBytes));
        }
    }

    static DeadLetter deadLetter(RawEvent raw, MappingOutcome.Rejected rejected, long now, int maxPayloadBytes) {
        return DeadLetter.of(rejected.reason().name(), rejected.detail(), raw.source(), now,
                rejected.payload() != null ? rejected.payload() : raw.payload(), maxPayloadBytes);
    }
}
