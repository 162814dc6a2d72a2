package io.cohortflow.training;

import io.cohortflow.core.event.UnifiedEvent;
import io.cohortflow.core.feature.FeatureConfig;
import io.cohortflow.core.feature.FeatureSnapshot;
import io.cohortflow.core.feature.UserFeatures;
import io.cohortflow.core.training.ChurnLabels;
import org.apache.flink.api.common.accumulators.LongCounter;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;

import java.util.ArrayList;
import java.util.List;

/**
 * Keyed by resolved user id, in BATCH mode: collects the user's history, and at the end of the key emits the
 * training rows (features as of T − 2H and, with {@code samples} above 1, each day before it, labels from the horizon
 * after each; none reaches past T − H, the holdout's feature time), the holdout row (features as of T − H, label
 * from (T − H, T]) and the current row (features as of T), each when the user is in the population then, computed by
 * core's {@link ChurnLabels} and {@code UserFeatures}, the stream's code.
 */
final class ExamplesFunction extends KeyedProcessFunction<String, UnifiedEvent, TrainingRow> {
    private static final long serialVersionUID = 1L;

    private final ChurnLabels labels;
    private final long cutoff;
    private final FeatureConfig config;
    private final List<String> eventNames;
    private final int samples;
    private transient ListState<UnifiedEvent> history;
    private transient LongCounter emitted;

    ExamplesFunction(ChurnLabels labels, long cutoff, FeatureConfig config, List<String> eventNames, int samples) {
        this.samples = samples;
        this.labels = labels;
        this.cutoff = cutoff;
        this.config = config;
        this.eventNames = List.copyOf(eventNames);
    }

    @Override
    public void open(OpenContext openContext) {
        history = getRuntimeContext().getListState(new ListStateDescriptor<>("history", FeatureEventTypeInfo.INSTANCE));
        emitted = new LongCounter();
        getRuntimeContext().addAccumulator(HistoryRows.ROWS_EMITTED, emitted);
    }

    @Override
    public void processElement(UnifiedEvent event, Context ctx, Collector<TrainingRow> out) throws Exception {
        if (event.timestamp() <= cutoff) {
            history.add(event);
            // In BATCH mode a timer fires once the key's input is complete.
            ctx.timerService().registerEventTimeTimer(cutoff);
        }
    }

    @Override
    public void onTimer(long timestamp, OnTimerContext ctx, Collector<TrainingRow> out) throws Exception {
        List<UnifiedEvent> events = new ArrayList<>();
        java.util.Set<String> seen = new java.util.HashSet<>();
        for (UnifiedEvent event : history.get()) {
            // Ingest writes each message (source and messageId) once; a row read twice (a compaction swapping files
            // under the reader) is dropped here, so it never counts twice.
            if (seen.add(event.source() + '\u0000' + event.messageId())) {
                events.add(event);
            }
        }
        long horizon = labels.horizon().toMillis();
        String user = ctx.getCurrentKey();
        // Every row's features from one replay of the history: the training rows' feature times (a cutoff T - H - day
        // sees features as of T - 2H - day), the holdout's (T - H) and now (T).
        long[] times = new long[samples + 2];
        for (int day = 0; day < samples; day++) {
            times[day] = cutoff - 2 * horizon - day * UserFeatures.DAY;
        }
        times[samples] = cutoff - horizon;
        times[samples + 1] = cutoff;
        FeatureSnapshot[] features = ChurnLabels.featuresAsOf(events, times, config, eventNames);
        for (int day = 0; day < samples; day++) {
            labels.example(user, events, cutoff - horizon - day * UserFeatures.DAY, features[day]).ifPresent(e -> {
                out.collect(new TrainingRow(user, TrainingRow.Split.TRAIN, e.featureTime(), e.vector(), e.churned(),
                        e.boughtBundle()));
                emitted.add(1);
            });
        }
        labels.example(user, events, cutoff, features[samples]).ifPresent(e -> {
            out.collect(new TrainingRow(user, TrainingRow.Split.HOLDOUT, e.featureTime(), e.vector(), e.churned(),
                    e.boughtBundle()));
            emitted.add(1);
        });
        labels.current(events, cutoff, features[samples + 1]).ifPresent(f -> {
            out.collect(new TrainingRow(user, TrainingRow.Split.CURRENT, cutoff, f.modelVector(), false, false));
            emitted.add(1);
        });
        history.clear();
    }
}
