package io.cohortflow.ingest.history;

import io.cohortflow.core.privacy.ErasedIds;
import io.cohortflow.core.privacy.PrivacyRequest;
import io.cohortflow.core.privacy.PrivacyStatus;
import io.cohortflow.jobs.kafka.PrivacyTopics;
import io.cohortflow.jobs.options.JobArgs;
import io.cohortflow.core.event.UnifiedEventAvro;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.parquet.avro.AvroParquetReader;
import org.apache.parquet.avro.AvroReadSupport;
import org.apache.parquet.hadoop.ParquetReader;
import org.apache.parquet.hadoop.util.HadoopInputFile;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Rewrites the Parquet history without the rows of the people that privacy requests delete ({@code DELETE} and
 * {@code SUPPRESS_WITH_DELETE} on privacy.requests), and records what it rewrote. The nightly job runs it after the
 * compaction and before the training (which leaves out the people of every request anyway, done or not).
 *
 * <pre>
 * java -cp ingest-job-job.jar io.cohortflow.ingest.history.HistoryErasure --history file:///data/history \
 *     --bootstrap-servers HOST:PORT [--topic privacy.requests] [--status-topic privacy.status] [--target-file-mb 128]
 *     [--min-age 1h]
 * </pre>
 *
 * <ul>
 *   <li>The requests taken are those with no record under {@code <history>/_erasures/} yet. Their ids go with the
 *       anonymous ids the history links to them (an identify naming both, or a row resolved to one of them): one pass
 *       over the id columns alone finds the links, a second finds the files that hold rows that go.</li>
 *   <li>A request that deletes and suppresses takes every row of its ids; one that only deletes takes the rows
 *       received by the time it was made (new events are let in again after a {@code DELETE}).</li>
 *   <li>Each partition's affected files are rewritten as {@link HistoryCompaction} rewrites them: outputs under hidden
 *       names, row counts checked, a manifest, the outputs renamed into place, the inputs deleted. A reader sees each
 *       file whole, before or after; a run that stops half way is finished by the next run of either step.</li>
 *   <li>When every partition is done, a record per request goes to {@code _erasures/<request id>.json} (the files
 *       rewritten and the rows removed; never the ids) and, with {@code --status-topic}, the request's history stage
 *       is reported done on privacy.status. A partition that fails is named at the end, no request is recorded done,
 *       and the exit code is 1: the next run takes the same requests again.</li>
 *   <li>Requests made less than {@code --min-age} ago wait for the next run: ingest writes a request's last rows
 *       of the person in files it commits on its next checkpoints, and a row written after its request's record would
 *       stay. A lagging ingest (a backlog older than the margin) needs a larger one. Never run at the same time as
 *       {@link HistoryCompaction}: each finishes the other's interrupted runs, so the nightly job runs them one after
 *       the other.</li>
 * </ul>
 */
public final class HistoryErasure {
    private static final Set<String> KEYS = Set.of("history", "bootstrap-servers", "topic", "status-topic",
            "target-file-mb", "min-age");
    static final String RECORDS = "_erasures";

    /** What one run did: the requests it erased, the files rewritten (in and out), the rows removed. */
    public record Result(List<String> requests, int ids, long filesIn, long filesOut, long rowsRemoved,
                         List<String> failed) {
    }

    private HistoryErasure() {
    }

    /** The command line, parsed: an unknown option or a bad value is refused with a message naming it. */
    public record Options(String history, String bootstrapServers, String topic, String statusTopic, long targetBytes,
                          java.time.Duration minAge) {
    }

    public static Options parse(String[] args) {
        JobArgs a = JobArgs.parse(args, KEYS);
        long target = a.integer("target-file-mb", 128) * 1024L * 1024L;
        if (target < 1 << 20) {
            throw new IllegalArgumentException("--target-file-mb must be at least 1");
        }
        return new Options(a.required("history"), a.required("bootstrap-servers"), a.string("topic", "privacy.requests"),
                a.string("status-topic", null), target, minAge(a.string("min-age", "1h")));
    }

    /**
     * {@code 1h}, {@code 30m}, {@code 0s}, {@code 2d}: parsed here, not with Flink's duration syntax, so the command runs
     * from the -job jar, which leaves Flink to the cluster.
     */
    static java.time.Duration minAge(String text) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("(\\d+)\\s*(ms|s|m|min|h|d)").matcher(text.trim());
        if (!m.matches()) {
            throw new IllegalArgumentException("--min-age takes a duration such as 1h, 30m, 0s or 2d, got '" + text + "'");
        }
        long n = Long.parseLong(m.group(1));
        return switch (m.group(2)) {
            case "ms" -> java.time.Duration.ofMillis(n);
            case "s" -> java.time.Duration.ofSeconds(n);
            case "m", "min" -> java.time.Duration.ofMinutes(n);
            case "h" -> java.time.Duration.ofHours(n);
            default -> java.time.Duration.ofDays(n);
        };
    }

    public static void main(String[] args) throws IOException {
        Options o = parse(args);
        List<PrivacyRequest> requests = PrivacyTopics.requests(o.bootstrapServers(), o.topic());
        Result r = run(o.history(), requests, System.currentTimeMillis() - o.minAge().toMillis(), o.targetBytes(),
                System.out, o.statusTopic() == null ? reports -> { }
                : reports -> PrivacyTopics.report(o.bootstrapServers(), o.statusTopic(), reports));
        System.out.printf("erasure done: %d requests (%,d ids with their linked devices), %,d files rewritten into "
                + "%,d, %,d rows removed%n", r.requests().size(), r.ids(), r.filesIn(), r.filesOut(), r.rowsRemoved());
        r.failed().forEach(f -> System.err.println("not rewritten: " + f));
        System.exit(r.failed().isEmpty() ? 0 : 1);
    }

    /**
     * Erases the rows of the requests that delete, were made by {@code madeBy} (epoch ms) and have no record yet under
     * {@code history}. {@code status} receives the reports of the history stage: done again for each recorded request
     * (at the time of its record, so a report lost after the record is made good), then running and done for the
     * requests erased now.
     */
    public static Result run(String history, List<PrivacyRequest> requests, long madeBy, long targetBytes,
                             PrintStream progress, Consumer<List<PrivacyStatus>> status) throws IOException {
        Configuration conf = new Configuration();
        Path base = new Path(history);
        FileSystem fs = base.getFileSystem(conf);
        if (!fs.exists(base)) {
            throw new IllegalArgumentException("--history " + history + ": no such directory");
        }
        Path records = new Path(base, RECORDS);
        List<PrivacyRequest> pending = new ArrayList<>();
        List<PrivacyStatus> recorded = new ArrayList<>();
        int young = 0;
        for (PrivacyRequest r : requests) {
            if (!r.type().deletes()) {
                continue;
            }
            if (fs.exists(record(records, r))) {
                Record done;
                try (var in = fs.open(record(records, r))) {
                    done = JSON.readValue(in.readAllBytes(), Record.class);
                }
                recorded.add(PrivacyStatus.whole(r.requestId(), PrivacyStatus.Stage.HISTORY, PrivacyStatus.State.DONE,
                        done.finishedAt(), done.detail()));
            } else if (r.requestedAt() > madeBy) {
                young++; // ingest may not have committed all of its rows yet: the next run takes it
            } else {
                pending.add(r);
            }
        }
        if (!recorded.isEmpty()) {
            status.accept(recorded);
        }
        if (pending.isEmpty()) {
            progress.printf("no request to erase (%d recorded under %s, %d too recent: made after %s)%n",
                    recorded.size(), records, young, java.time.Instant.ofEpochMilli(madeBy));
            return new Result(List.of(), 0, 0, 0, 0, List.of());
        }
        long started = System.currentTimeMillis();
        status.accept(pending.stream().map(r -> PrivacyStatus.whole(r.requestId(), PrivacyStatus.Stage.HISTORY,
                PrivacyStatus.State.RUNNING, started, "rewriting the history")).toList());
        ErasedIds ids = ErasedIds.of(pending);
        FileStatus[] partitions = fs.listStatus(base, p -> p.getName().startsWith("dt="));
        Arrays.sort(partitions, Comparator.comparing(st -> st.getPath().getName()));
        progress.printf("erasing %d requests (%s) from %d partitions%n", pending.size(),
                String.join(", ", pending.stream().map(PrivacyRequest::requestId).toList()), partitions.length);
        // Pass 1: the links. Files that arrive later are not read (see the class comment).
        for (FileStatus partition : partitions) {
            for (FileStatus file : dataFiles(fs, partition)) {
                forEachIds(file, conf, ids::link);
            }
        }
        progress.printf("  %,d ids with the devices linked to them%n", ids.size());
        // Pass 2: the files holding rows that go, rewritten partition by partition.
        long[] totals = new long[3]; // files in, files out, rows removed
        List<String> failed = new ArrayList<>();
        List<String> rewritten = new ArrayList<>();
        for (int i = 0; i < partitions.length; i++) {
            Path dir = partitions[i].getPath();
            try {
                HistoryCompaction.recover(fs, dir);
                List<FileStatus> inputs = new ArrayList<>();
                for (FileStatus file : dataFiles(fs, partitions[i])) {
                    boolean[] holds = {false};
                    forEachIds(file, conf, row -> holds[0] |= ids.covers(row));
                    if (holds[0]) {
                        inputs.add(file);
                    }
                }
                if (inputs.isEmpty()) {
                    continue;
                }
                long[] done = HistoryCompaction.compact(fs, conf, dir, inputs, targetBytes,
                        e -> !ids.covers(e.userId(), e.anonymousId(), e.resolvedId(), e.receivedAt()));
                totals[0] += done[0];
                totals[1] += done[1];
                totals[2] += done[6];
                inputs.forEach(in -> rewritten.add(dir.getName() + "/" + in.getPath().getName()));
                progress.printf("  %s: %d files rewritten into %d, %,d rows removed (%d of %d partitions)%n",
                        dir.getName(), done[0], done[1], done[6], i + 1, partitions.length);
            } catch (IOException | RuntimeException e) {
                failed.add(dir.getName() + ": " + e.getMessage() + (e.getCause() != null ? " (" + e.getCause() + ")" : ""));
            }
        }
        if (!failed.isEmpty()) {
            status.accept(pending.stream().map(r -> PrivacyStatus.whole(r.requestId(), PrivacyStatus.Stage.HISTORY,
                    PrivacyStatus.State.RUNNING, started, failed.size() + " partitions failed; the next run takes the "
                            + "request again")).toList());
            return new Result(pending.stream().map(PrivacyRequest::requestId).toList(), ids.size(), totals[0],
                    totals[1], totals[2], failed);
        }
        long finished = System.currentTimeMillis();
        String detail = String.format("%,d rows removed from %,d files (%,d written in their place)", totals[2],
                totals[0], totals[1]);
        fs.mkdirs(records);
        for (PrivacyRequest r : pending) {
            String json = JSON.writerWithDefaultPrettyPrinter().writeValueAsString(new Record(r.requestId(),
                    r.type().name(), started, finished, totals[2], rewritten, totals[1], detail));
            try (var out = fs.create(record(records, r), true)) {
                out.write(json.getBytes(StandardCharsets.UTF_8));
            }
        }
        status.accept(pending.stream().map(r -> PrivacyStatus.whole(r.requestId(), PrivacyStatus.Stage.HISTORY,
                PrivacyStatus.State.DONE, finished, detail)).toList());
        return new Result(pending.stream().map(PrivacyRequest::requestId).toList(), ids.size(), totals[0], totals[1],
                totals[2], List.of());
    }

    /**
     * What {@code _erasures/<request id>.json} records of a run (shared by the requests it took together): when, the
     * rows removed, and the files rewritten (by partition and name), so an auditor can see what changed.
     */
    public record Record(String requestId, String type, long startedAt, long finishedAt, long rowsRemoved,
                         List<String> filesRewritten, long filesWritten, String detail) {
    }

    private static final com.fasterxml.jackson.databind.ObjectMapper JSON = new com.fasterxml.jackson.databind.ObjectMapper()
            .disable(com.fasterxml.jackson.databind.DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);


    private static Path record(Path records, PrivacyRequest request) {
        return new Path(records, request.requestId() + ".json");
    }

    private static List<FileStatus> dataFiles(FileSystem fs, FileStatus partition) throws IOException {
        if (!partition.isDirectory()) {
            return List.of();
        }
        FileStatus[] files = fs.listStatus(partition.getPath(), p -> p.getName().endsWith(".parquet")
                && !p.getName().startsWith(".") && !p.getName().startsWith("_"));
        Arrays.sort(files, Comparator.comparing(st -> st.getPath().getName()));
        return List.of(files);
    }

    /** Reads only the id columns and the receive time of {@code file} ({@link UnifiedEventAvro#ID_COLUMNS}). */
    private static void forEachIds(FileStatus file, Configuration conf, Consumer<GenericRecord> each) throws IOException {
        Configuration projected = new Configuration(conf);
        AvroReadSupport.setRequestedProjection(projected, UnifiedEventAvro.ID_COLUMNS);
        try (ParquetReader<GenericRecord> reader = AvroParquetReader.<GenericRecord>builder(
                HadoopInputFile.fromPath(file.getPath(), projected)).withDataModel(GenericData.get())
                .withConf(projected).build()) {
            for (GenericRecord r = reader.read(); r != null; r = reader.read()) {
                each.accept(r);
            }
        }
    }
}
