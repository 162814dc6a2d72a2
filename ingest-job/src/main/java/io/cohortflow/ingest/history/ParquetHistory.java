package io.cohortflow.ingest.history;

import io.cohortflow.core.event.UnifiedEvent;
import io.cohortflow.core.event.UnifiedEventAvro;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.flink.api.common.serialization.BulkWriter;
import org.apache.flink.connector.file.sink.FileSink;
import org.apache.flink.core.fs.FSDataOutputStream;
import org.apache.flink.core.fs.Path;
import org.apache.flink.core.io.SimpleVersionedSerializer;
import org.apache.flink.formats.parquet.ParquetBuilder;
import org.apache.flink.formats.parquet.ParquetWriterFactory;
import org.apache.flink.streaming.api.functions.sink.filesystem.BucketAssigner;
import org.apache.flink.streaming.api.functions.sink.filesystem.OutputFileConfig;
import org.apache.flink.streaming.api.functions.sink.filesystem.bucketassigners.SimpleVersionedStringSerializer;
import org.apache.flink.streaming.api.functions.sink.filesystem.PartFileInfo;
import org.apache.flink.streaming.api.functions.sink.filesystem.rollingpolicies.CheckpointRollingPolicy;
import org.apache.hadoop.conf.Configuration;
import org.apache.parquet.avro.AvroParquetWriter;
import org.apache.parquet.hadoop.ParquetWriter;
import org.apache.parquet.hadoop.metadata.CompressionCodecName;
import org.apache.parquet.io.OutputFile;

import java.io.IOException;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;

/**
 * The history of unified events as Parquet files: {@code <base>/dt=YYYY-MM-DD/events-<uuid>-<n>.parquet}, Hive-style
 * partitions by event date (UTC), one row per event in the Avro schema of conf/schemas/unified-event.avsc (typed
 * columns for the well-known properties, JSON text for the rest), Snappy compressed. Files roll on every checkpoint
 * and at 128 MB, and are committed with the checkpoint, so only complete, committed files are ever visible
 * (in-progress files start with a dot); {@link HistoryCompaction} merges the small ones. DuckDB, Spark and Trino read the tree as one table:
 * {@code SELECT * FROM read_parquet('<base>/dt=*}{@code /*.parquet', hive_partitioning = true)}.
 */
public final class ParquetHistory {
    private ParquetHistory() {
    }

    public static FileSink<UnifiedEvent> sink(String basePath) {
        return FileSink.forBulkFormat(new Path(basePath), new WriterFactory())
                .withBucketAssigner(new EventDateBucketAssigner())
                .withRollingPolicy(new CheckpointOrSize(MAX_PART_BYTES))
                .withOutputFileConfig(OutputFileConfig.builder().withPartPrefix("events").withPartSuffix(".parquet").build())
                .build();
    }

    /** A part file rolls at this size even between checkpoints, so one busy partition never makes one huge file. */
    static final long MAX_PART_BYTES = 128L * 1024 * 1024;

    /**
     * Files roll on every checkpoint (a Parquet file is written whole, and only a closed file can be committed with
     * the checkpoint, exactly once) and when they reach {@code maxBytes}. The checkpoint interval is the time bound;
     * the small files a short interval leaves are merged by {@link HistoryCompaction}.
     */
    static final class CheckpointOrSize extends CheckpointRollingPolicy<UnifiedEvent, String> {
        private static final long serialVersionUID = 1L;
        private final long maxBytes;

        CheckpointOrSize(long maxBytes) {
            this.maxBytes = maxBytes;
        }

        @Override
        public boolean shouldRollOnEvent(PartFileInfo<String> part, UnifiedEvent event) throws IOException {
            return part.getSize() >= maxBytes;
        }

        @Override
        public boolean shouldRollOnProcessingTime(PartFileInfo<String> part, long now) {
            return false;
        }
    }

    /** {@code dt=YYYY-MM-DD} of the event time, UTC. */
    static final class EventDateBucketAssigner implements BucketAssigner<UnifiedEvent, String> {
        private static final long serialVersionUID = 1L;

        @Override
        public String getBucketId(UnifiedEvent event, Context context) {
            return "dt=" + LocalDate.ofInstant(Instant.ofEpochMilli(event.timestamp()), ZoneOffset.UTC);
        }

        @Override
        public SimpleVersionedSerializer<String> getSerializer() {
            return SimpleVersionedStringSerializer.INSTANCE;
        }
    }

    /** Converts each event to its Avro record on the way into Flink's Parquet writer. */
    static final class WriterFactory implements BulkWriter.Factory<UnifiedEvent> {
        private static final long serialVersionUID = 1L;
        private final ParquetWriterFactory<GenericRecord> parquet = new ParquetWriterFactory<>(new Builder());

        @Override
        public BulkWriter<UnifiedEvent> create(FSDataOutputStream out) throws IOException {
            BulkWriter<GenericRecord> writer = parquet.create(out);
            return new BulkWriter<>() {
                @Override
                public void addElement(UnifiedEvent event) throws IOException {
                    writer.addElement(UnifiedEventAvro.toRecord(event));
                }

                @Override
                public void flush() throws IOException {
                    writer.flush();
                }

                @Override
                public void finish() throws IOException {
                    writer.finish();
                }
            };
        }
    }

    /**
     * A writer of history rows, as the sink and {@link HistoryCompaction} write them: Snappy, and no dictionary for the
     * columns whose every value is new (the message id and the three times). Parquet would hash each of their values
     * into a dictionary only to find, at the page's end, that the dictionary saves nothing, and write the page again
     * plainly: the files are the same size without it (65.3 B per event either way over 200,000 simulated events),
     * and the writer is a fifth faster. The other columns keep it: ids, names and sources repeat within a file, and so
     * do the JSON columns (without their dictionary the files were 17% larger). The JSON columns have no statistics:
     * no reader filters on the smallest and largest JSON text of a page, and Parquet compared every value with both
     * (without them, writing rows took 4-5% less CPU, and the files are a few kilobytes smaller). The benchmarks write
     * their simulated histories with it too, so that the training reads there what it reads in production.
     */
    public static ParquetWriter<GenericRecord> writer(OutputFile out) throws IOException {
        // A read loads the resources into DEFAULTS: at the first writer, and again only if Hadoop emptied them (it
        // empties every configuration's properties when a default resource is added later, as an HDFS file system
        // set up after this class does), instead of every copy parsing them.
        Builder.DEFAULTS.size();
        return writer(out, new Configuration(Builder.DEFAULTS));
    }

    /** {@link #writer(OutputFile)} with a configuration of the caller's. */
    static ParquetWriter<GenericRecord> writer(OutputFile out, Configuration conf) throws IOException {
        return AvroParquetWriter.<GenericRecord>builder(out)
                .withConf(conf)
                .withSchema(UnifiedEventAvro.SCHEMA)
                .withDataModel(GenericData.get())
                .withCompressionCodec(CompressionCodecName.SNAPPY)
                .withDictionaryEncoding("messageId", false)
                .withDictionaryEncoding("timestamp", false)
                .withDictionaryEncoding("sentAt", false)
                .withDictionaryEncoding("receivedAt", false)
                .withStatisticsEnabled("properties", false)
                .withStatisticsEnabled("traits", false)
                .withStatisticsEnabled("context", false)
                .withSizeStatisticsEnabled("properties", false)
                .withSizeStatisticsEnabled("traits", false)
                .withSizeStatisticsEnabled("context", false)
                .build();
    }

    private static final class Builder implements ParquetBuilder<GenericRecord> {
        private static final long serialVersionUID = 1L;
        /**
         * Hadoop's defaults, read once. A writer built without a configuration makes a new one, which parses Hadoop's
         * XML resources again at its first read: files roll at every checkpoint, so every part file paid for it (12% of
         * the history writer's time in a JFR of P5, issue "Speed to lead"). Each writer gets a copy, which takes the
         * parsed properties without reading them again, so no writer sees another's settings.
         */
        private static final Configuration DEFAULTS = new Configuration();

        @Override
        public ParquetWriter<GenericRecord> createWriter(OutputFile out) throws IOException {
            return writer(out);
        }
    }
}
