package io.cohortflow.training;

import io.cohortflow.core.event.UnifiedEvent;
import io.cohortflow.core.feature.FeatureConfig;
import io.cohortflow.core.feature.FeatureSnapshot;
import io.cohortflow.core.feature.UserFeatures;
import io.cohortflow.core.training.ChurnLabels;
import org.apache.flink.api.common.accumulators.LongCounter;
import org.apache.flink.api.common.functions.FlatMapFunction;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichFlatMapFunction;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Keyed by resolved user id, in BATCH mode: collects the user's history, and at the end of the key emits the
 * training rows (features as of T − 2H and, with {@code samples} above 1, each day before it, labels from the horizon
 * after each; none reaches past T − H, the holdout's feature time), the holdout row (features as of T − H, label
 * from (T − H, T]) and the current row (features as of T), each when the user is in the population then, computed by
 * core's {@link ChurnLabels} and {@code UserFeatures}, the stream's code.
 */
final class ExamplesFunction extends KeyedProcessFunction<Tuple2<Long, String>, Tuple2<String, byte[]>, TrainingRow> {
    private static final long serialVersionUID = 1L;
    /** What the shuffle and the sort carry: the user, and the event as {@link EventBytes}'s bytes. */
    static final TypeInformation<Tuple2<String, byte[]>> ENCODED =
            Types.TUPLE(Types.STRING, PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO);
    /** The key: a spread hash of the user, then the user (see {@link #key}). */
    static final TypeInformation<Tuple2<Long, String>> KEY = Types.TUPLE(Types.LONG, Types.STRING);

    private final ChurnLabels labels;
    private final long cutoff;
    private final FeatureConfig config;
    private final List<String> eventNames;
    private final int samples;
    private transient ListState<byte[]> history;
    private transient LongCounter emitted;
    private transient EventBytes.Decoder decoder;

    ExamplesFunction(ChurnLabels labels, long cutoff, FeatureConfig config, List<String> eventNames, int samples) {
        this.samples = samples;
        this.labels = labels;
        this.cutoff = cutoff;
        this.config = config;
        this.eventNames = List.copyOf(eventNames);
    }

    @Override
    public void open(OpenContext openContext) {
        history = getRuntimeContext().getListState(new ListStateDescriptor<>("history",
                PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO));
        decoder = new EventBytes.Decoder();
        emitted = new LongCounter();
        getRuntimeContext().addAccumulator(HistoryRows.ROWS_EMITTED, emitted);
    }

    /**
     * The events up to the cutoff, as the keyed step takes them: the user and the event's bytes. The shuffle and the
     * sort by user then copy bytes instead of taking every event apart and building it again twice (the network's
     * read, the sorter's write and read: half of the keyed task's time in JFR, issue "Speed to lead", P3), and each
     * event is decoded once, when its user's rows are computed. Events past the cutoff, which no row reads, are
     * dropped before the shuffle.
     */
    FlatMapFunction<UnifiedEvent, Tuple2<String, byte[]>> encoder() {
        long until = cutoff;
        return new RichFlatMapFunction<>() {
            private static final long serialVersionUID = 1L;
            private transient EventBytes.Encoder encoder;

            @Override
            public void open(OpenContext openContext) {
                encoder = new EventBytes.Encoder();
            }

            @Override
            public void flatMap(UnifiedEvent event, Collector<Tuple2<String, byte[]>> out) throws Exception {
                if (event.timestamp() <= until) {
                    out.collect(Tuple2.of(event.resolvedId(), encoder.encode(event)));
                }
            }
        };
    }

    /**
     * The key of an encoded event: the user, after a hash of it. Flink's sort compares the first 8 bytes of each key
     * and, where those are equal, the whole keys; user ids often share their first bytes ("u0003563"), so keyed by the
     * id alone almost every comparison was a whole one (half of the sorting thread's time). Users whose hashes collide
     * are still told apart by the id.
     */
    static Tuple2<Long, String> key(Tuple2<String, byte[]> encoded) {
        return Tuple2.of(encoded.f0.hashCode() * 0x9E3779B97F4A7C15L, encoded.f0);
    }

    @Override
    public void processElement(Tuple2<String, byte[]> event, Context ctx, Collector<TrainingRow> out)
            throws Exception {
        history.add(event.f1);
        // In BATCH mode a timer fires once the key's input is complete.
        ctx.timerService().registerEventTimeTimer(cutoff);
    }

    /**
     * The user's events, each message (source and messageId) once. Ingest writes each message once; a row read twice (a
     * compaction swapping files under the reader) is dropped here, so it never counts twice. Told apart by message id
     * first, without building a key of both per event: one id from two sources is rare.
     */
    static List<UnifiedEvent> decodedOnce(Iterable<byte[]> history, EventBytes.Decoder decoder, String user)
            throws IOException {
        List<UnifiedEvent> events = new ArrayList<>();
        Map<String, String> sourceById = new HashMap<>();
        Set<String> otherSources = new HashSet<>();
        for (byte[] bytes : history) {
            UnifiedEvent event = decoder.decode(bytes, user);
            String first = sourceById.putIfAbsent(event.messageId(), event.source());
            if (first == null
                    || !first.equals(event.source()) && otherSources.add(event.source() + '\u0000' + event.messageId())) {
                events.add(event);
            }
        }
        return events;
    }

    @Override
    public void onTimer(long timestamp, OnTimerContext ctx, Collector<TrainingRow> out) throws Exception {
        String user = ctx.getCurrentKey().f1;
        List<UnifiedEvent> events = decodedOnce(history.get(), decoder, user);
        long horizon = labels.horizon().toMillis();
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
