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
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.hadoop.ParquetReader;
import org.apache.parquet.hadoop.ParquetWriter;
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
 *   <li>A partition dated {@code --older-than} or more before today (UTC; {@code 1d}: yesterday and older) has its
 *       files under half of {@code --target-file-mb} merged, when there are {@code --min-files} of them; a file near
 *       the target stays as it is, so a large partition is not rewritten every night. Partitions live traffic writes
 *       to are left alone; files that arrive in a partition while it is compacted (late events, a backfill) are not
 *       among its inputs and stay as they are.</li>
 *   <li>Each output is written under a hidden name that no reader takes for a history file (a dot first, no
 *       {@code .parquet} last, as Flink names its in-progress files) and its row count checked against what was
 *       read. Then a manifest ({@code _compaction-<run>}: its inputs and outputs) is written, the outputs are renamed
 *       into place and the inputs deleted, and the manifest last. Readers never see a partial file. Between the
 *       rename and the deletes a reader may see a row twice: the training drops repeated messages (source and
 *       messageId), and a query that must be exact at that moment should do the same. A run that stops in between
 *       is finished by the next one from its manifest (inputs deleted when every output is in place, else its
 *       outputs removed), so no row stays twice. One run at a time (the CronJob's {@code concurrencyPolicy:
 *       Forbid}); memory does not grow with a partition.</li>
 *   <li>A partition that fails (an unreadable file, a full disk) is left as it was and named at the end; the others
 *       are compacted, and the exit code is 1.</li>
 *   <li>Rows are rewritten in the current layout (conf/schemas/unified-event.avsc), and files in the layout before
 *       the typed columns are rewritten in every partition, today's included: nothing writes that layout any more,
 *       so an upgrade needs no step of its own.</li>
 * </ul>
 * Any Hadoop file system URI works (file://, s3a:// with hadoop-aws on the classpath, hdfs://).
 */
public final class HistoryCompaction {
    private static final Set<String> KEYS = Set.of("history", "older-than", "target-file-mb", "min-files");

    /**
     * What one run did. {@code recovered}: inputs of an interrupted earlier run deleted now that its outputs were
     * found in place. {@code failed}: the partitions not compacted, with why.
     */
    public record Result(int partitions, long filesIn, long filesOut, long rows, long recovered, long bytesIn,
                         long bytesOut, List<String> failed) {
    }

    private HistoryCompaction() {
    }

    /** The command line, parsed: an unknown option or a bad value is refused with a message naming it. */
    public record Options(String history, Duration olderThan, long targetBytes, int minFiles) {
        public Options {
            if (olderThan.isNegative() || targetBytes < 1 << 20 || minFiles < 2) {
                throw new IllegalArgumentException("--older-than must not be negative, --target-file-mb at least 1 and "
                        + "--min-files at least 2 (one file merges into nothing smaller)");
            }
        }
    }

    public static Options parse(String[] args) {
        JobArgs a = JobArgs.parse(args, KEYS);
        return new Options(a.required("history"), days(a.string("older-than", "1d")),
                a.integer("target-file-mb", 128) * 1024L * 1024L, a.integer("min-files", 2));
    }

    /**
     * Whole days ({@code 1d}, {@code 0d}, {@code 2}): partitions are days. Parsed here, not with Flink's duration
     * syntax, so the command runs from the -job jar, which leaves Flink to the cluster.
     */
    static Duration days(String text) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("(\\d+)\\s*(d|days?)?").matcher(text.trim());
        if (!m.matches()) {
            throw new IllegalArgumentException("--older-than takes whole days such as 1d or 0d, got '" + text + "'");
        }
        return Duration.ofDays(Long.parseLong(m.group(1)));
    }

    /** Exit code 0, or 1 when a partition could not be compacted (the others were; the failures are on stderr). */
    public static void main(String[] args) throws IOException {
        Options o = parse(args);
        Result r = run(o.history(), o.olderThan(), o.targetBytes(), o.minFiles(), LocalDate.now(ZoneOffset.UTC),
                System.out);
        System.out.printf("compaction done: %d partitions, %,d files into %,d, %,d rows, %,d bytes into %,d%s%n",
                r.partitions(), r.filesIn(), r.filesOut(), r.rows(), r.bytesIn(), r.bytesOut(), r.recovered() == 0 ? ""
                        : String.format("; finished an interrupted run (%,d inputs deleted)", r.recovered()));
        r.failed().forEach(f -> System.err.println("not compacted: " + f));
        System.exit(r.failed().isEmpty() ? 0 : 1);
    }

    /**
     * Compacts the partitions of {@code history} dated {@code olderThan} or more before {@code today}: their files
     * under half of {@code targetBytes} (a file already near the target is left as it is, so a large partition is not
     * rewritten every night), when there are at least {@code minFiles}. Files in the layout before the typed columns
     * are rewritten in every partition, today's included, since nothing writes that layout any more.
     */
    public static Result run(String history, Duration olderThan, long targetBytes, int minFiles, LocalDate today,
                             PrintStream progress) throws IOException {
        Configuration conf = new Configuration();
        Path base = new Path(history);
        FileSystem fs = base.getFileSystem(conf);
        if (!fs.exists(base)) {
            throw new IllegalArgumentException("--history " + history + ": no such directory");
        }
        minFiles = Math.max(2, minFiles); // one file merges into nothing smaller
        LocalDate newest = today.minusDays(Math.max(0, olderThan.toDays()));
        FileStatus[] partitions = fs.listStatus(base, p -> p.getName().startsWith("dt="));
        Arrays.sort(partitions, Comparator.comparing(st -> st.getPath().getName()));
        long[] totals = new long[6]; // files in, files out, rows, recovered, bytes in, bytes out
        List<String> failed = new ArrayList<>();
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
            if (!partition.isDirectory()) {
                continue;
            }
            try {
                totals[3] += recover(fs, partition.getPath());
                FileStatus[] files = fs.listStatus(partition.getPath(), p -> p.getName().endsWith(".parquet")
                        && !p.getName().startsWith(".") && !p.getName().startsWith("_"));
                Arrays.sort(files, Comparator.comparing(st -> st.getPath().getName()));
                List<FileStatus> earlierLayout = new ArrayList<>();
                List<FileStatus> small = new ArrayList<>();
                for (FileStatus file : files) {
                    // Our own outputs are in the current layout: no footer to read for them.
                    if (!file.getPath().getName().startsWith(OUTPUT_PREFIX) && inEarlierLayout(file, conf)) {
                        earlierLayout.add(file);
                    } else if (file.getLen() < targetBytes / 2) {
                        small.add(file);
                    }
                }
                List<FileStatus> inputs = new ArrayList<>(earlierLayout);
                if (!date.isAfter(newest) && small.size() + earlierLayout.size() >= minFiles) {
                    inputs.addAll(small);
                }
                if (inputs.isEmpty() || inputs.size() < minFiles && earlierLayout.isEmpty()) {
                    continue;
                }
                inputs.sort(Comparator.comparing(st -> st.getPath().getName()));
                long[] done = compact(fs, conf, partition.getPath(), inputs, targetBytes, e -> true);
                compacted++;
                for (int i = 0; i < totals.length; i++) {
                    totals[i] += done[i];
                }
            } catch (Unfinished e) {
                failed.add(partition.getPath().getName() + ": " + e.getMessage());
            } catch (IOException | RuntimeException e) {
                failed.add(partition.getPath().getName() + ": left as it was: " + e.getMessage()
                        + (e.getCause() != null ? " (" + e.getCause() + ")" : ""));
            }
        }
        return new Result(compacted, totals[0], totals[1], totals[2], totals[3], totals[4], totals[5], failed);
    }

    /** Whether a file was written before the typed columns (its footer has no revenue column): it is rewritten. */
    private static boolean inEarlierLayout(FileStatus file, Configuration conf) throws IOException {
        try (ParquetFileReader footer = ParquetFileReader.open(HadoopInputFile.fromPath(file.getPath(), conf))) {
            return !footer.getFileMetaData().getSchema().containsField("revenue");
        }
    }

    /** Outputs are named so: current layout, no footer check needed. */
    private static final String OUTPUT_PREFIX = "events-compacted-";
    private static final String MANIFEST_PREFIX = "_compaction-";

    /** Compacted, but not every input could be deleted: the manifest stays, and the next run finishes the job. */
    private static final class Unfinished extends IOException {
        Unfinished(String message) {
            super(message);
        }
    }

    /**
     * Finishes what an earlier run left in {@code dir}: a manifest ({@code _compaction-<run>}, written just before a
     * run renames its outputs into place) lists that run's inputs and outputs. If every output is in place, the inputs
     * still there are deleted (their rows are in the outputs); if not, the run's outputs are removed and its inputs
     * stay. Hidden outputs of a run that died before its manifest are removed. Returns the inputs deleted.
     */
    static long recover(FileSystem fs, Path dir) throws IOException {
        long deleted = 0;
        for (FileStatus manifest : fs.listStatus(dir, p -> p.getName().startsWith(MANIFEST_PREFIX))) {
            List<String> lines;
            try (var in = fs.open(manifest.getPath())) {
                lines = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).lines().toList();
            }
            List<Path> inputs = lines.stream().filter(l -> l.startsWith("in ")).map(l -> new Path(dir, l.substring(3))).toList();
            List<Path> outputs = lines.stream().filter(l -> l.startsWith("out ")).map(l -> new Path(dir, l.substring(4))).toList();
            boolean committed = true;
            for (Path out : outputs) {
                committed &= fs.exists(out);
            }
            if (committed) {
                for (Path in : inputs) {
                    if (fs.exists(in) && fs.delete(in, false)) {
                        deleted++;
                    }
                }
            } else {
                for (Path out : outputs) {
                    fs.delete(out, false);
                }
            }
            fs.delete(manifest.getPath(), false);
        }
        for (FileStatus hidden : fs.listStatus(dir, p -> p.getName().startsWith(".compacting-"))) {
            fs.delete(hidden.getPath(), false);
        }
        return deleted;
    }

    /**
     * One partition: the rows of {@code inputs} that {@code keep} keeps into outputs of about {@code targetBytes}, in
     * constant memory (none when it keeps none). Returns files in, files out, rows written, inputs of an earlier run
     * finished (0 here), bytes in, bytes out, rows left out. On any failure before
     * the manifest is written, what this run wrote is removed and the inputs are as they were; after it, {@link
     * #recover} finishes the job at the next run.
     */
    static long[] compact(FileSystem fs, Configuration conf, Path dir, List<FileStatus> inputs, long targetBytes,
                          java.util.function.Predicate<io.cohortflow.core.event.UnifiedEvent> keep) throws IOException {
        String run = UUID.randomUUID().toString();
        List<Path[]> outputs = new ArrayList<>(); // hidden, final
        Path manifest = new Path(dir, MANIFEST_PREFIX + run);
        long rows = 0;
        long left = 0;
        long bytesIn = 0;
        long bytesOut = 0;
        ParquetWriter<GenericRecord> writer = null;
        try {
            for (FileStatus input : inputs) {
                bytesIn += input.getLen();
                try (ParquetReader<GenericRecord> reader = AvroParquetReader.<GenericRecord>builder(
                        HadoopInputFile.fromPath(input.getPath(), conf)).withDataModel(GenericData.get()).build()) {
                    for (GenericRecord r = reader.read(); r != null; r = reader.read()) {
                        io.cohortflow.core.event.UnifiedEvent event = UnifiedEventAvro.fromRecord(r);
                        if (!keep.test(event)) {
                            left++;
                            continue;
                        }
                        if (writer != null && writer.getDataSize() >= targetBytes) {
                            writer.close();
                            writer = null;
                        }
                        if (writer == null) {
                            Path hidden = new Path(dir, ".compacting-" + run + "-" + outputs.size() + ".inprogress");
                            outputs.add(new Path[] {hidden,
                                    new Path(dir, OUTPUT_PREFIX + run + "-" + outputs.size() + ".parquet")});
                            writer = ParquetHistory.writer(HadoopOutputFile.fromPath(hidden, conf), conf);
                        }
                        writer.write(UnifiedEventAvro.toRecord(event));
                        rows++;
                    }
                }
            }
            if (writer != null) {
                ParquetWriter<GenericRecord> last = writer;
                writer = null;
                last.close();
            }
            long written = 0;
            for (Path[] out : outputs) {
                try (ParquetFileReader footer = ParquetFileReader.open(HadoopInputFile.fromPath(out[0], conf))) {
                    written += footer.getRecordCount();
                }
                bytesOut += fs.getFileStatus(out[0]).getLen();
            }
            if (written != rows) {
                throw new IOException("wrote " + written + " rows of " + rows);
            }
            // The commit point: from here on the run is finished, by this run or by the next one's recover().
            StringBuilder listing = new StringBuilder();
            inputs.forEach(in -> listing.append("in ").append(in.getPath().getName()).append('\n'));
            outputs.forEach(out -> listing.append("out ").append(out[1].getName()).append('\n'));
            try (var stream = fs.create(manifest, false)) {
                stream.write(listing.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
            }
        } catch (IOException | RuntimeException e) {
            if (writer != null) {
                try {
                    writer.close();
                } catch (IOException | RuntimeException closing) {
                    e.addSuppressed(closing);
                }
            }
            for (Path[] out : outputs) {
                quietlyDelete(fs, out[0], e);
            }
            quietlyDelete(fs, manifest, e);
            throw new IOException("compacting failed", e);
        }
        for (Path[] out : outputs) {
            if (!fs.rename(out[0], out[1])) {
                throw new Unfinished("compacted, but " + out[0].getName() + " could not be renamed; the next run "
                        + "removes this run's outputs and keeps its inputs");
            }
        }
        for (FileStatus input : inputs) {
            if (!fs.delete(input.getPath(), false) && fs.exists(input.getPath())) {
                throw new Unfinished("compacted, but " + input.getPath().getName() + " could not be deleted: readers "
                        + "see its rows twice until the next run deletes it");
            }
        }
        fs.delete(manifest, false);
        return new long[] {inputs.size(), outputs.size(), rows, 0, bytesIn, bytesOut, left};
    }

    private static void quietlyDelete(FileSystem fs, Path path, Exception into) {
        try {
            fs.delete(path, false);
        } catch (IOException | RuntimeException e) {
            into.addSuppressed(e);
        }
    }
}
