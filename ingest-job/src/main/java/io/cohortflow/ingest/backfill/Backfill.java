package io.cohortflow.ingest.backfill;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.cohortflow.ingest.mapping.IngestMapper;
import io.cohortflow.ingest.mapping.RawEventDeserializer;
import io.cohortflow.ingest.mapping.SourceMapping;
import io.cohortflow.jobs.options.JobArgs;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.serialization.ByteArraySerializer;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZoneId;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

/**
 * Backfills history from a file into events.raw, so that the running ingest job puts it through the same mapping,
 * validation, dedupe and identity resolution, into the same outputs (events.unified, events.dlq, identity.merges, the
 * Parquet history), exactly as live traffic. Replayed records carry the header {@code replay: true}: they are old by
 * nature and exempt from the lateness rule.
 *
 * <pre>
 * java -cp ingest-job-job.jar io.cohortflow.ingest.backfill.Backfill \
 *     --file history.csv|history.jsonl --source web|stripe|... --bootstrap-servers HOST:PORT [--topic events.raw]
 *     [--timestamp-format 'M/d/yyyy H:mm'] [--zone Europe/London] [--sources DIR]
 * </pre>
 *
 * <p>A source whose mapping (shipped, or in {@code --sources DIR} as ingest's) declares a {@code file:} layout has its
 * CSV read that way: declared column kinds, and rows grouped into records (the lines of an invoice into one order);
 * ingest then maps each record through the same mapping.
 *
 * <p>JSON lines: one payload per line, as a source would send it; lines are sent byte for byte (a broken line is
 * dead-lettered by ingest with its reason, not dropped here). CSV: {@link CsvRows}, each column typed once for the
 * whole file, ids as text, times without a zone read in {@code --zone}. Progress, in rows of the whole file, is
 * printed every two seconds.
 */
public final class Backfill {
    private static final Set<String> KEYS = Set.of("file", "source", "bootstrap-servers", "topic", "format",
            "timestamp-format", "zone", "sources");
    private static final ObjectMapper JSON = new ObjectMapper();

    /** What a backfill sent: records (a CSV group of rows is one), of how many rows of the file. */
    public record Result(long records, long rows, long bytes, Duration elapsed) {
    }

    /**
     * How CSV times without a zone are read: the {@code --timestamp-format} pattern (or null: ISO local times only)
     * and {@code --zone}.
     */
    public record Times(String format, ZoneId zone) {
        public static final Times UTC = new Times(null, ZoneId.of("UTC"));
    }

    private Backfill() {
    }

    public static void main(String[] args) throws IOException {
        JobArgs a = JobArgs.parse(args, KEYS);
        Path file = Path.of(a.required("file"));
        Times times = new Times(a.string("timestamp-format", null), ZoneId.of(a.string("zone", "UTC")));
        String source = a.required("source");
        Result result = run(file, source, a.string("format", formatOf(file)), a.required("bootstrap-servers"),
                a.string("topic", "events.raw"), times, layoutOf(source, a.string("sources", null)), System.out);
        System.out.printf("backfill of %s done: %,d records from %,d rows, %,d bytes in %.1f s%n", file,
                result.records(), result.rows(), result.bytes(), result.elapsed().toMillis() / 1000.0);
    }

    /** csv for a .csv file, else jsonl. */
    public static String formatOf(Path file) {
        String name = file.getFileName().toString().toLowerCase(java.util.Locale.ROOT);
        return name.endsWith(".csv") ? "csv" : "jsonl";
    }

    /**
     * The file layout that the mapping of {@code source} declares, among the shipped mappings or those in
     * {@code sourcesDir} (ingest's {@code --sources}); null when the source has no mapping or it declares none.
     */
    public static SourceMapping.FileLayout layoutOf(String source, String sourcesDir) {
        return IngestMapper.loadMappings(sourcesDir).stream().filter(m -> m.source().equals(source))
                .map(SourceMapping::file).filter(java.util.Objects::nonNull).findFirst().orElse(null);
    }

    /** {@link #run(Path, String, String, String, String, Times, SourceMapping.FileLayout, PrintStream)}: UTC, no layout. */
    public static Result run(Path file, String source, String format, String bootstrapServers, String topic,
                             PrintStream progress) throws IOException {
        return run(file, source, format, bootstrapServers, topic, Times.UTC, null, progress);
    }

    /**
     * Sends every record of {@code file} to {@code topic}; blocks until all are acknowledged. A CSV file is read in
     * {@code layout} when given (declared column kinds, rows grouped into records).
     */
    public static Result run(Path file, String source, String format, String bootstrapServers, String topic,
                             Times times, SourceMapping.FileLayout layout, PrintStream progress) throws IOException {
        Input input = Input.plan(file, format, times, layout);
        input.warnings().forEach(w -> progress.println("  warning: " + w));
        long total = input.rows();
        long started = System.nanoTime();
        AtomicReference<Exception> failure = new AtomicReference<>();
        long[] counts = new long[2]; // records, bytes
        long[] lastReport = {started};
        try (var producer = new KafkaProducer<byte[], byte[]>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                ProducerConfig.ACKS_CONFIG, "all",
                // Ordered and retried without idempotence: an idempotent producer needs a producer id from the broker,
                // and a single-node test broker that has handed out thousands to exactly-once jobs can stall on that.
                ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, false,
                ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, 1,
                ProducerConfig.LINGER_MS_CONFIG, 20,
                ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4"), new ByteArraySerializer(), new ByteArraySerializer())) {
            List<org.apache.kafka.common.header.Header> headers = List.of(
                    new RecordHeader(RawEventDeserializer.SOURCE_HEADER, source.getBytes(StandardCharsets.UTF_8)),
                    new RecordHeader(RawEventDeserializer.REPLAY_HEADER, "true".getBytes(StandardCharsets.UTF_8)));
            Consumer<byte[]> send = payload -> {
                if (failure.get() != null) {
                    throw new IllegalStateException("sending to " + topic + " failed", failure.get());
                }
                producer.send(new ProducerRecord<byte[], byte[]>(topic, null, null, null, payload, headers), (m, e) -> {
                    if (e != null) {
                        failure.compareAndSet(null, e);
                    }
                });
                counts[0]++;
                counts[1] += payload.length;
            };
            input.each(send, rows -> {
                long now = System.nanoTime();
                if (now - lastReport[0] > 2_000_000_000L) {
                    lastReport[0] = now;
                    progress.printf("  %,d of %,d rows (%.0f%%) of %s, %,.0f rows/s%n", rows, total,
                            100.0 * rows / Math.max(1, total), file.getFileName(), rows / ((now - started) / 1e9));
                }
            });
            producer.flush();
        }
        if (failure.get() != null) {
            throw new IllegalStateException("sending to " + topic + " failed", failure.get());
        }
        return new Result(counts[0], input.rows(), counts[1], Duration.ofNanos(System.nanoTime() - started));
    }

    /**
     * A file read as a backfill reads it, before anything is sent: its rows counted, its CSV columns typed (in the
     * layout, when given) and its groups checked. {@link #each} then gives every record as the bytes sent.
     */
    public static final class Input {
        private final Path file;
        private final CsvRows csv; // null for JSON lines
        private final long rows;

        private Input(Path file, CsvRows csv, long rows) {
            this.file = file;
            this.csv = csv;
            this.rows = rows;
        }

        /** Reads {@code file} once (jsonl or csv). */
        public static Input plan(Path file, String format, Times times, SourceMapping.FileLayout layout)
                throws IOException {
            return switch (format) {
                case "csv" -> {
                    CsvRows csv = CsvRows.plan(file, times, layout);
                    yield new Input(file, csv, csv.rows());
                }
                case "jsonl" -> new Input(file, null, lines(file));
                default -> throw new IllegalArgumentException("--format must be jsonl or csv, got " + format);
            };
        }

        /** The rows of the file: its lines that are not blank, or its CSV rows. */
        public long rows() {
            return rows;
        }

        /** Cells of declared CSV columns that are not of their kind. */
        public List<String> warnings() {
            return csv == null ? List.of() : csv.warnings();
        }

        /** Every record, in order, as the bytes a backfill sends; {@code rowsRead} hears how many rows are done. */
        public void each(Consumer<byte[]> record, java.util.function.LongConsumer rowsRead) throws IOException {
            if (csv == null) {
                long[] n = {0};
                try (InputStream in = new BufferedInputStream(Files.newInputStream(file), 1 << 16)) {
                    readLines(in, line -> {
                        record.accept(line);
                        rowsRead.accept(++n[0]);
                    });
                }
                return;
            }
            csv.each(file, call -> {
                try {
                    record.accept(JSON.writeValueAsBytes(call));
                } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                    throw new IllegalStateException(e);
                }
            }, rowsRead);
        }
    }

    /** Lines as raw bytes: no decoding here, so that ingest sees (and dead-letters) bytes that are not UTF-8. */
    private static void readLines(InputStream in, Consumer<byte[]> send) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream(1024);
        int b;
        while ((b = in.read()) != -1) {
            if (b == '\n') {
                emitLine(line, send);
            } else {
                line.write(b);
            }
        }
        emitLine(line, send);
    }

    private static void emitLine(ByteArrayOutputStream line, Consumer<byte[]> send) {
        byte[] bytes = line.toByteArray();
        line.reset();
        int end = bytes.length;
        if (end > 0 && bytes[end - 1] == '\r') {
            end--;
        }
        if (end == 0) {
            return; // blank lines separate nothing
        }
        send.accept(end == bytes.length ? bytes : java.util.Arrays.copyOf(bytes, end));
    }

    /**
     * The lines of a JSON-lines file that are not blank (as {@link #emitLine} skips them): its rows. Counted in place,
     * nothing copied, so the pass before sending costs a read of the file and no more.
     */
    static long lines(Path file) throws IOException {
        long count = 0;
        long length = 0; // of the current line
        boolean onlyCr = false;
        byte[] buffer = new byte[1 << 16];
        try (InputStream in = Files.newInputStream(file)) {
            for (int n; (n = in.read(buffer)) != -1; ) {
                for (int i = 0; i < n; i++) {
                    if (buffer[i] == '\n') {
                        count += length > 0 && !(length == 1 && onlyCr) ? 1 : 0;
                        length = 0;
                    } else {
                        onlyCr = length == 0 && buffer[i] == '\r';
                        length++;
                    }
                }
            }
        }
        return count + (length > 0 && !(length == 1 && onlyCr) ? 1 : 0);
    }
}
