package io.cohortflow.training;

import io.cohortflow.core.event.UnifiedEvent;
import io.cohortflow.core.event.UnifiedEventAvro;
import io.cohortflow.core.training.ChurnLabels;
import io.cohortflow.jobs.types.JsonRecordTypeInfo;
import io.cohortflow.jobs.types.UnifiedEventTypeInfo;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.flink.api.common.JobExecutionResult;
import org.apache.flink.api.common.accumulators.LongCounter;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.file.src.FileSource;
import org.apache.flink.connector.file.src.reader.StreamFormat;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.fs.FSDataInputStream;
import org.apache.flink.core.fs.Path;
import org.apache.flink.formats.parquet.ParquetInputFile;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.util.CloseableIterator;
import org.apache.parquet.avro.AvroReadSupport;
import org.apache.parquet.hadoop.ParquetReader;
import org.apache.parquet.hadoop.api.InitContext;
import org.apache.parquet.hadoop.api.ReadSupport;
import org.apache.parquet.io.api.RecordMaterializer;
import org.apache.parquet.schema.MessageType;

import java.io.IOException;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Phase 1 of the training: every user's point-in-time rows, computed by a Flink BATCH job over the Parquet history
 * and collected to the client.
 *
 * <p>Reading and sorting the history is most of a large run (at 100,000 people, 8 of 12 minutes), and no row leaves
 * the job before the sort is done, so the client prints how many events the job has read, from the job's
 * accumulators, while it waits. When the job has finished, the number of rows it emitted is checked against the
 * number that arrived: Flink's collect can only assume a job on a closed local cluster has finished, and says "some
 * data might be lost"; here a loss fails the training instead.
 */
final class HistoryRows {
    static final String EVENTS_READ = "cohortflow-events-read";
    static final String ROWS_EMITTED = "cohortflow-rows-emitted";

    /**
     * The training rows (features at T − 2H) and the holdout rows (at T − H), each at most the sample's size
     * ({@link RowSample}) of all there were ({@code trainRows}, {@code holdoutRows}), the current rows (at T), each
     * sorted by user, and the events read.
     */
    record Rows(List<TrainingRow> train, List<TrainingRow> holdout, List<TrainingRow> current, long events,
                long excluded, long trainRows, long holdoutRows) {
    }

    private HistoryRows() {
    }

    /**
     * @param maxRows the most training rows and the most holdout rows kept: past it, a sample of the people's
     *                ({@link RowSample}, with {@code seed})
     */
    static Rows compute(StreamExecutionEnvironment env, String history, PrivacyExclusion privacy,
                        ExamplesFunction examples, int maxRows, long seed, Duration progressEvery, PrintStream out,
                        long started) throws Exception {
        // The other ids and times are read only for the privacy requests' exclusion: no row reads them.
        FileSource<UnifiedEvent> source = FileSource.forRecordStreamFormat(new HistoryFormat(!privacy.ids().isEmpty()),
                new Path(history)).build();
        DataStream<UnifiedEvent> events = env
                .fromSource(source, WatermarkStrategy.noWatermarks(), "Parquet history")
                .map(new CountEvents()).returns(UnifiedEventTypeInfo.INSTANCE).name("count events");
        if (!privacy.ids().isEmpty()) { // no check per event when nobody is left out
            events = events.filter(new PrivacyExclusion.Filter(privacy.ids())).name("leave out the privacy requests' people");
        }
        CloseableIterator<TrainingRow> collected = events
                .flatMap(examples.encoder()).returns(ExamplesFunction.ENCODED).name("encode up to the cutoff")
                .keyBy(ExamplesFunction::key, ExamplesFunction.KEY)
                .process(examples)
                .returns(new JsonRecordTypeInfo<>(new TrainingRowCodec())).name("point-in-time rows")
                .collectAsync();
        JobClient job = env.executeAsync("cohortflow training: features");
        RowSample train = new RowSample(maxRows, seed);
        RowSample holdout = new RowSample(maxRows, seed);
        List<TrainingRow> current = new ArrayList<>();
        ScheduledExecutorService progress = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "training progress");
            t.setDaemon(true);
            return t;
        });
        AtomicLong lastRead = new AtomicLong();
        progress.scheduleWithFixedDelay(() -> report(job, lastRead, out, started), progressEvery.toMillis(),
                progressEvery.toMillis(), TimeUnit.MILLISECONDS);
        try (collected) {
            collected.forEachRemaining(row -> {
                switch (row.split()) {
                    case TRAIN -> train.add(row);
                    case HOLDOUT -> holdout.add(row);
                    case CURRENT -> current.add(row);
                }
            });
        } finally {
            progress.shutdownNow();
        }
        JobExecutionResult result = job.getJobExecutionResult().get();
        long emitted = counter(result, ROWS_EMITTED);
        long arrived = train.added() + holdout.added() + current.size();
        if (emitted != arrived) {
            throw new IllegalStateException("the features job emitted " + emitted + " rows but " + arrived
                    + " reached the client; not training on part of the history");
        }
        // Rows arrive in whatever order the parallel job emits them: sorted, training is reproducible.
        current.sort(Comparator.comparing(TrainingRow::userId));
        return new Rows(train.rows(), holdout.rows(), current, counter(result, EVENTS_READ),
                counter(result, PrivacyExclusion.ROWS_EXCLUDED), train.added(), holdout.added());
    }

    private static long counter(JobExecutionResult result, String name) {
        Object value = result.getAccumulatorResult(name);
        return value == null ? 0 : ((Number) value).longValue();
    }

    /**
     * One progress line when the job has read more since the last one (accumulators arrive with heartbeats), and one
     * when it has stopped reading: in BATCH mode the rows are computed once the events are sorted by user.
     */
    private static void report(JobClient job, AtomicLong lastRead, PrintStream out, long started) {
        try {
            Map<String, Object> accumulators = job.getAccumulators().get(10, TimeUnit.SECONDS);
            if (!(accumulators.get(EVENTS_READ) instanceof Number n) || lastRead.get() < 0) {
                return;
            }
            double seconds = (System.nanoTime() - started) / 1e9;
            if (n.longValue() > lastRead.get()) {
                lastRead.set(n.longValue());
                out.printf("      %,d events read (%.1f s)%n", n.longValue(), seconds);
            } else if (n.longValue() > 0) {
                lastRead.set(-1);
                out.printf("      reading done; sorting by user and computing the rows (%.1f s)%n", seconds);
            }
        } catch (Exception e) {
            // The job has just finished, or the cluster is busy: the next line, or the next phase, says so.
        }
    }

    /**
     * The history's rows as unified events, decoded in the reader itself: a row never travels as an Avro record, whose
     * copy between operators would force it into the current schema, so files of every layout read (the one before
     * the typed columns included: {@link UnifiedEventAvro.FeatureRows} takes each file's own schema). Each event keeps
     * only the properties the rows' features and labels read ({@link ChurnLabels#MODEL_PROPERTIES_READ}), which is
     * less to decode here and less to shuffle and sort (and, for most rows, no properties JSON to parse); traits,
     * context and the other typed columns are not even read from the file ({@link FeatureColumns}), nor are the other
     * ids and times ({@link UnifiedEventAvro.FeatureRows#OTHER_ID_COLUMNS}) unless {@code ids}: the exclusion of privacy
     * requests' people reads them, no row does.
     */
    static final class HistoryFormat implements StreamFormat<UnifiedEvent> {
        private static final long serialVersionUID = 1L;
        private final boolean ids;

        HistoryFormat(boolean ids) {
            this.ids = ids;
        }

        @Override
        public Reader<UnifiedEvent> createReader(org.apache.flink.configuration.Configuration config,
                                                 FSDataInputStream stream, long fileLen, long splitEnd) throws IOException {
            if (splitEnd != fileLen) {
                throw new IllegalArgumentException("a history file is read whole, but its split ends at " + splitEnd
                        + " of " + fileLen + " bytes");
            }
            ParquetReader<GenericRecord> records = new ParquetReader.Builder<GenericRecord>(
                    new ParquetInputFile(stream, fileLen)) {
                @Override
                protected ReadSupport<GenericRecord> getReadSupport() {
                    return new FeatureColumns(ids);
                }
            }.build();
            UnifiedEventAvro.FeatureRows rows = new UnifiedEventAvro.FeatureRows(ChurnLabels.MODEL_PROPERTIES_READ, ids);
            return new Reader<>() {
                @Override
                public UnifiedEvent read() throws IOException {
                    GenericRecord record = records.read();
                    return record == null ? null : rows.read(record);
                }

                @Override
                public void close() throws IOException {
                    records.close();
                }
            };
        }

        /** Restored at the start of the file: the file source skips the records its checkpoint counted. */
        @Override
        public Reader<UnifiedEvent> restoreReader(org.apache.flink.configuration.Configuration config,
                                                  FSDataInputStream stream, long restoredOffset, long fileLen,
                                                  long splitEnd) throws IOException {
            if (restoredOffset != org.apache.flink.connector.file.src.util.CheckpointedPosition.NO_OFFSET) {
                throw new IllegalArgumentException("a history file is restored from its start, not offset " + restoredOffset);
            }
            return createReader(config, stream, fileLen, splitEnd);
        }

        @Override
        public boolean isSplittable() {
            return false;
        }

        @Override
        public TypeInformation<UnifiedEvent> getProducedType() {
            return UnifiedEventTypeInfo.INSTANCE;
        }
    }

    /**
     * Parquet-Avro's reading of a history file, with the columns no feature reads left unread: the requested Parquet
     * schema is the file's own without them, and the Avro schema the rows are built to is the one the file was written
     * with (the {@code parquet.avro.schema} footer entry), without them too. Every other column, and every choice of
     * Parquet-Avro's (its compatible record converter included), is as when the whole file is read.
     */
    static final class FeatureColumns extends ReadSupport<GenericRecord> {
        /** Where Parquet-Avro's writer keeps the file's Avro schema. */
        private static final String AVRO_SCHEMA = "parquet.avro.schema";

        private final AvroReadSupport<GenericRecord> avro = new AvroReadSupport<>(GenericData.get());
        private final Set<String> unread;

        /** @param ids whether the other ids and times are read (see {@link HistoryFormat}) */
        FeatureColumns(boolean ids) {
            unread = unread(ids);
        }

        /**
         * The columns no feature reads: traits and context (JSON text, the widest in a file), the typed columns of
         * properties the features do not read, and unless {@code ids} the other ids and times.
         */
        static Set<String> unread(boolean ids) {
            return Stream.of(Stream.of("traits", "context"),
                            UnifiedEventAvro.TYPED.keySet().stream()
                                    .filter(p -> !ChurnLabels.MODEL_PROPERTIES_READ.contains(p)),
                            ids ? Stream.<String>empty() : UnifiedEventAvro.FeatureRows.OTHER_ID_COLUMNS.stream())
                    .flatMap(names -> names).collect(Collectors.toUnmodifiableSet());
        }

        @Override
        public ReadContext init(InitContext context) {
            ReadContext whole = avro.init(context);
            MessageType file = context.getFileSchema();
            MessageType read = new MessageType(file.getName(),
                    file.getFields().stream().filter(f -> !unread.contains(f.getName())).toList());
            return new ReadContext(read, whole.getReadSupportMetadata());
        }

        @Override
        public RecordMaterializer<GenericRecord> prepareForRead(org.apache.hadoop.conf.Configuration configuration,
                                                                Map<String, String> keyValueMetaData,
                                                                MessageType fileSchema, ReadContext readContext) {
            Map<String, String> metadata = new java.util.HashMap<>(keyValueMetaData);
            String written = keyValueMetaData.get(AVRO_SCHEMA);
            if (written != null) {
                metadata.put(AVRO_SCHEMA, without(new Schema.Parser().parse(written), unread).toString());
            }
            return avro.prepareForRead(configuration, metadata, fileSchema, readContext);
        }

        static Schema without(Schema record, Set<String> unread) {
            List<Schema.Field> kept = record.getFields().stream().filter(f -> !unread.contains(f.name()))
                    .map(f -> new Schema.Field(f, f.schema())).toList();
            Schema projected = Schema.createRecord(record.getName(), record.getDoc(), record.getNamespace(),
                    record.isError(), kept);
            record.getObjectProps().forEach(projected::addProp);
            return projected;
        }
    }

    /** Counts the events read, for progress. */
    static final class CountEvents extends RichMapFunction<UnifiedEvent, UnifiedEvent> {
        private static final long serialVersionUID = 1L;
        private transient LongCounter read;

        @Override
        public void open(OpenContext openContext) {
            read = new LongCounter();
            getRuntimeContext().addAccumulator(EVENTS_READ, read);
        }

        @Override
        public UnifiedEvent map(UnifiedEvent event) {
            read.add(1);
            return event;
        }
    }
}
