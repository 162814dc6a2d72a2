package io.cohortflow.ingest.history;

import io.cohortflow.core.event.UnifiedEventAvro;
import io.cohortflow.jobs.options.JobArgs;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.parquet.avro.AvroParquetReader;
import org.apache.parquet.avro.AvroParquetWriter;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.hadoop.ParquetReader;
import org.apache.parquet.hadoop.ParquetWriter;
import org.apache.parquet.hadoop.metadata.CompressionCodecName;
import org.apache.parquet.hadoop.util.HadoopInputFile;
import org.apache.parquet.hadoop.util.HadoopOutputFile;

import java.io.IOException;
import java.io.PrintStream;
import java.time.Duration;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.UUID;

/**
 * Merges the small files of the Parquet history into files of a sensible size, one partition at a time. The ingest
 * job commits a file per partition, per subtask, per checkpoint (Parquet files are written whole, so its files roll on
 * every checkpoint); a backfill of a year touches hundreds of partitions in every checkpoint. This step, run before
 * the nightly training or on its own schedule, leaves each partition with one file per {@code --target-file-mb}.
 *
 * <pre>
 * java -cp ingest-job-job.jar io.cohortflow.ingest.history.HistoryCompaction --history file:///data/history \
 *     [--older-than 1d] [--target-file-mb 128] [--min-files 2]
 * </pre>
 *
 * <ul>
 *   <li>Only partitions whose date is at least {@code --older-than} before today (UTC) are touched, so the partitions
 *       live traffic writes to are left alone; files that arrive in a partition while it is compacted (late events,
 *       a backfill) are not among its inputs and stay as they are.</li>
 *   <li>Each output is written under a hidden name that no reader takes for a history file (a dot first, no
 *       {@code .parquet} last, as Flink names its in-progress files), its row count checked
 *       against its inputs', then renamed into place; only then are the inputs deleted. Readers never see a partial
 *       file. Between the rename and the deletes a reader may see a row twice: the training drops repeated
 *       messages (source and messageId), and a query that must be exact at that moment should do the same.</li>
 *   <li>Rows are rewritten in the current layout (conf/schemas/unified-event.avsc), so history written before the
 *       typed columns is upgraded by the same step: a partition with such a file is rewritten even when it has only
 *       one.</li>
 * </ul>
 * Any Hadoop file system URI works (file://, s3a:// with hadoop-aws on the classpath, hdfs://).
 */
public final class HistoryCompaction {
    private static final Set<String> KEYS = Set.of("history", "older-than", "target-file-mb", "min-files");

    /** What one run did. */
    public record Result(int partitions, long filesIn, long filesOut, long rows, long bytesIn, long bytesOut) {
    }

    private HistoryCompaction() {
    }

    /** The command line, parsed: an unknown option or a bad value is refused with a message naming it. */
    public record Options(String history, Duration olderThan, long targetBytes, int minFiles) {
        public Options {
            if (olderThan.isNegative() || targetBytes < 1 << 20 || minFiles < 1) {
                throw new IllegalArgumentException("--older-than must not be negative, --target-file-mb at least 1 and "
                        + "--min-files at least 1");
            }
        }
    }

    public static Options parse(String[] args) {
        JobArgs a = JobArgs.parse(args, KEYS);
        return new Options(a.required("history"), a.duration("older-than", Duration.ofDays(1)),
                a.integer("target-file-mb", 128) * 1024L * 1024L, a.integer("min-files", 2));
    }

    public static void main(String[] args) throws IOException {
        Options o = parse(args);
        Result r = run(o.history(), o.olderThan(), o.targetBytes(), o.minFiles(), LocalDate.now(ZoneOffset.UTC),
                System.out);
        System.out.printf("compaction done: %d partitions, %,d files into %,d, %,d rows, %,d bytes into %,d%n",
                r.partitions(), r.filesIn(), r.filesOut(), r.rows(), r.bytesIn(), r.bytesOut());
    }

    /** Compacts every partition of {@code history} dated at least {@code olderThan} before {@code today}. */
    public static Result run(String history, Duration olderThan, long targetBytes, int minFiles, LocalDate today,
                             PrintStream progress) throws IOException {
        Configuration conf = new Configuration();
        Path base = new Path(history);
        FileSystem fs = base.getFileSystem(conf);
        if (!fs.exists(base)) {
            throw new IllegalArgumentException("--history " + history + ": no such directory");
        }
        LocalDate newest = today.minusDays(Math.max(0, olderThan.toDays()));
        FileStatus[] partitions = fs.listStatus(base, p -> p.getName().startsWith("dt="));
        Arrays.sort(partitions, Comparator.comparing(s -> s.getPath().getName()));
        long[] totals = new long[5]; // files in, files out, rows, bytes in, bytes out
        int compacted = 0;
        int seen = 0;
        long lastReport = System.nanoTime();
        for (FileStatus partition : partitions) {
            seen++;
            if (System.nanoTime() - lastReport > 2_000_000_000L) {
                lastReport = System.nanoTime();
                progress.printf("  %d of %d partitions looked at, %d compacted: %,d files into %,d, %,d rows%n", seen,
                        partitions.length, compacted, totals[0], totals[1], totals[2]);
            }
            LocalDate date;
            try {
                date = LocalDate.parse(partition.getPath().getName().substring(3));
            } catch (java.time.format.DateTimeParseException e) {
                continue; // not a partition of ours
            }
            if (!partition.isDirectory() || !date.isBefore(newest)) {
                continue;
            }
            FileStatus[] files = fs.listStatus(partition.getPath(), p -> p.getName().endsWith(".parquet")
                    && !p.getName().startsWith(".") && !p.getName().startsWith("_"));
            if (files.length < minFiles && !anyInEarlierLayout(files, conf)) {
                continue;
            }
            Arrays.sort(files, Comparator.comparing(s -> s.getPath().getName()));
            long[] done = compact(fs, conf, partition.getPath(), files, targetBytes);
            compacted++;
            for (int i = 0; i < done.length; i++) {
                totals[i] += done[i];
            }
        }
        return new Result(compacted, totals[0], totals[1], totals[2], totals[3], totals[4]);
    }

    /** Whether a file was written before the typed columns (its footer has no revenue column): it is rewritten. */
    private static boolean anyInEarlierLayout(FileStatus[] files, Configuration conf) throws IOException {
        for (FileStatus file : files) {
            try (ParquetFileReader footer = ParquetFileReader.open(HadoopInputFile.fromPath(file.getPath(), conf))) {
                if (!footer.getFileMetaData().getSchema().containsField("revenue")) {
                    return true;
                }
            }
        }
        return false;
    }

    /** One partition: its files' rows into outputs of about {@code targetBytes}; returns the figures. */
    private static long[] compact(FileSystem fs, Configuration conf, Path dir, FileStatus[] inputs, long targetBytes)
            throws IOException {
        String run = UUID.randomUUID().toString();
        List<Path[]> outputs = new ArrayList<>(); // hidden, final
        long rowsIn = 0;
        long bytesIn = 0;
        ParquetWriter<GenericRecord> writer = null;
        try {
            for (FileStatus input : inputs) {
                bytesIn += input.getLen();
                try (ParquetReader<GenericRecord> reader = AvroParquetReader.<GenericRecord>builder(
                        HadoopInputFile.fromPath(input.getPath(), conf)).withDataModel(GenericData.get()).build()) {
                    for (GenericRecord r = reader.read(); r != null; r = reader.read()) {
                        if (writer != null && writer.getDataSize() >= targetBytes) {
                            writer.close();
                            writer = null;
                        }
                        if (writer == null) {
                            Path hidden = new Path(dir, ".compacting-" + run + "-" + outputs.size() + ".inprogress");
                            outputs.add(new Path[] {hidden,
                                    new Path(dir, "events-compacted-" + run + "-" + outputs.size() + ".parquet")});
                            writer = AvroParquetWriter.<GenericRecord>builder(HadoopOutputFile.fromPath(hidden, conf))
                                    .withSchema(UnifiedEventAvro.SCHEMA).withDataModel(GenericData.get())
                                    .withCompressionCodec(CompressionCodecName.SNAPPY).build();
                        }
                        writer.write(UnifiedEventAvro.toRecord(UnifiedEventAvro.fromRecord(r)));
                        rowsIn++;
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            if (writer != null) {
                writer.close();
            }
            for (Path[] out : outputs) {
                fs.delete(out[0], false);
            }
            throw new IOException("compacting " + dir + " failed; its files are untouched", e);
        }
        if (writer != null) {
            writer.close();
        }
        long rowsOut = 0;
        long bytesOut = 0;
        for (Path[] out : outputs) {
            try (ParquetFileReader footer = ParquetFileReader.open(HadoopInputFile.fromPath(out[0], conf))) {
                rowsOut += footer.getRecordCount();
            }
            bytesOut += fs.getFileStatus(out[0]).getLen();
        }
        if (rowsOut != rowsIn) {
            for (Path[] out : outputs) {
                fs.delete(out[0], false);
            }
            throw new IOException("compacting " + dir + ": wrote " + rowsOut + " rows of " + rowsIn + "; its files are untouched");
        }
        for (Path[] out : outputs) {
            if (!fs.rename(out[0], out[1])) {
                throw new IOException("cannot rename " + out[0] + " to " + out[1]);
            }
        }
        for (FileStatus input : inputs) {
            fs.delete(input.getPath(), false);
        }
        return new long[] {inputs.length, outputs.size(), rowsIn, bytesIn, bytesOut};
    }
}
