package io.cohortflow.ingest.backfill;

import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.csv.CsvMapper;
import com.fasterxml.jackson.dataformat.csv.CsvSchema;
import io.cohortflow.ingest.mapping.RawEventDeserializer;
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
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.regex.Pattern;

/**
 * Backfills history from a file into events.raw, so that the running ingest job puts it through the same mapping,
 * validation, dedupe and identity resolution, into the same outputs (events.unified, events.dlq, identity.merges, the
 * Parquet history), exactly as live traffic. Replayed records carry the header {@code replay: true}: they are old by
 * nature and exempt from the lateness rule.
 *
 * <pre>
 * java -cp ingest-job-job.jar io.cohortflow.ingest.backfill.Backfill \
 *     --file history.csv|history.jsonl --source web|stripe|... --bootstrap-servers HOST:PORT [--topic events.raw]
 * </pre>
 *
 * <p>JSON lines: one payload per line, as a source would send it; lines are sent byte for byte (a broken line is
 * dead-lettered by ingest with its reason, not dropped here). CSV: the header names the fields; a dotted header nests
 * ({@code properties.price} becomes {@code {"properties": {"price": ...}}}); values that read as numbers or booleans
 * become JSON numbers and booleans, empty cells are absent. Progress is printed every two seconds.
 */
public final class Backfill {
    private static final Set<String> KEYS = Set.of("file", "source", "bootstrap-servers", "topic", "format");
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern NUMBER = Pattern.compile("-?(0|[1-9]\\d*)(\\.\\d+)?([eE][+-]?\\d+)?");

    /** What a backfill sent. */
    public record Result(long records, long bytes, Duration elapsed) {
    }

    private Backfill() {
    }

    public static void main(String[] args) throws IOException {
        JobArgs a = JobArgs.parse(args, KEYS);
        Path file = Path.of(a.required("file"));
        Result result = run(file, a.required("source"), a.string("format", formatOf(file)), a.required("bootstrap-servers"),
                a.string("topic", "events.raw"), System.out);
        System.out.printf("backfill of %s done: %,d records, %,d bytes in %.1f s%n", file, result.records(),
                result.bytes(), result.elapsed().toMillis() / 1000.0);
    }

    static String formatOf(Path file) {
        String name = file.getFileName().toString().toLowerCase(java.util.Locale.ROOT);
        return name.endsWith(".csv") ? "csv" : "jsonl";
    }

    /** Sends every record of {@code file} to {@code topic}; blocks until all are acknowledged. */
    public static Result run(Path file, String source, String format, String bootstrapServers, String topic,
                             PrintStream progress) throws IOException {
        long size = Files.size(file);
        long started = System.nanoTime();
        AtomicReference<Exception> failure = new AtomicReference<>();
        long[] counts = new long[2];
        long[] lastReport = {started};
        try (var producer = new KafkaProducer<byte[], byte[]>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                ProducerConfig.ACKS_CONFIG, "all",
                // Ordered and retried without idempotence: an idempotent producer needs a producer id from the broker,
                // and a single-node test broker that has handed out thousands to exactly-once jobs can stall on that.
                ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, false,
                ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, 1,
                ProducerConfig.LINGER_MS_CONFIG, 20,
                ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4"), new ByteArraySerializer(), new ByteArraySerializer());
             InputStream in = new BufferedInputStream(Files.newInputStream(file), 1 << 16)) {
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
                long now = System.nanoTime();
                if (now - lastReport[0] > 2_000_000_000L) {
                    lastReport[0] = now;
                    progress.printf("  %,d records, %.0f%% of %s, %,.0f records/s%n", counts[0],
                            100.0 * counts[1] / Math.max(1, size), file.getFileName(),
                            counts[0] / ((now - started) / 1e9));
                }
            };
            switch (format) {
                case "jsonl" -> readLines(in, send);
                case "csv" -> readCsv(in, send);
                default -> throw new IllegalArgumentException("--format must be jsonl or csv, got " + format);
            }
            producer.flush();
        }
        if (failure.get() != null) {
            throw new IllegalStateException("sending to " + topic + " failed", failure.get());
        }
        return new Result(counts[0], counts[1], Duration.ofNanos(System.nanoTime() - started));
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

    private static void readCsv(InputStream in, Consumer<byte[]> send) throws IOException {
        CsvMapper csv = new CsvMapper();
        try (MappingIterator<Map<String, String>> rows = csv.readerForMapOf(String.class)
                .with(CsvSchema.emptySchema().withHeader())
                .readValues(in)) {
            while (rows.hasNextValue()) {
                send.accept(JSON.writeValueAsBytes(nest(rows.nextValue())));
            }
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }

    /** A CSV row as a JSON object: dotted names nest, numbers and booleans are typed, empty cells are absent. */
    static ObjectNode nest(Map<String, String> row) {
        ObjectNode root = JsonNodeFactory.instance.objectNode();
        row.forEach((name, value) -> {
            if (value == null || value.isEmpty()) {
                return;
            }
            String[] path = name.trim().split("\\.");
            ObjectNode node = root;
            for (int i = 0; i < path.length - 1; i++) {
                node = node.has(path[i]) && node.get(path[i]).isObject()
                        ? (ObjectNode) node.get(path[i]) : node.putObject(path[i]);
            }
            String leaf = path[path.length - 1];
            boolean number = NUMBER.matcher(value).matches();
            boolean leadingZero = value.length() > 1 && value.startsWith("0") && !value.startsWith("0.");
            if (number && (value.contains(".") || value.contains("e") || value.contains("E"))) {
                node.put(leaf, Double.parseDouble(value));
            } else if (number && !leadingZero && value.length() < 19) {
                node.put(leaf, Long.parseLong(value));
            } else if (value.equals("true") || value.equals("false")) {
                node.put(leaf, Boolean.parseBoolean(value));
            } else {
                node.put(leaf, value);
            }
        });
        return root;
    }
}
