package io.cohortflow.ingest.history;

import io.cohortflow.core.event.EventType;
import io.cohortflow.core.event.UnifiedEvent;
import io.cohortflow.core.event.UnifiedEventAvro;
import org.apache.avro.generic.GenericRecord;
import org.apache.parquet.avro.AvroParquetReader;
import org.apache.parquet.avro.AvroParquetWriter;
import org.apache.parquet.hadoop.ParquetReader;
import org.apache.parquet.hadoop.ParquetWriter;
import org.apache.parquet.io.LocalInputFile;
import org.apache.parquet.io.LocalOutputFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

class HistoryCompactionTest {
    private static final LocalDate TODAY = LocalDate.parse("2026-03-10");

    @Test
    void repeatedRowsAreWrittenOnceABrokenPartitionIsLeftAsItWasAndTodayWaits(@TempDir Path history) throws Exception {
        // Yesterday: two files sharing a row, as a run stopped between its rename and its deletes leaves them.
        write(history.resolve("dt=2026-03-09/events-a.parquet"), events("2026-03-09", 0, 30));
        write(history.resolve("dt=2026-03-09/events-b.parquet"), events("2026-03-09", 29, 40));
        // A day with an unreadable file: left as it was, named at the end; the other days are compacted.
        write(history.resolve("dt=2026-03-08/events-a.parquet"), events("2026-03-08", 0, 5));
        Files.writeString(history.resolve("dt=2026-03-08/events-b.parquet"), "not parquet");
        // Today: live traffic writes it; its files wait for tomorrow.
        write(history.resolve("dt=2026-03-10/events-a.parquet"), events("2026-03-10", 0, 5));
        write(history.resolve("dt=2026-03-10/events-b.parquet"), events("2026-03-10", 5, 10));

        ByteArrayOutputStream out = new ByteArrayOutputStream();
        HistoryCompaction.Result result = HistoryCompaction.run(history.toUri().toString(), Duration.ofDays(1),
                128L << 20, 2, TODAY, new PrintStream(out));

        assertThat(result.partitions()).isEqualTo(1);
        assertThat(result.rows()).isEqualTo(40);
        assertThat(result.duplicates()).as("the row in both files").isEqualTo(1);
        assertThat(files(history.resolve("dt=2026-03-09"))).singleElement().asString().contains("events-compacted-");
        assertThat(read(files(history.resolve("dt=2026-03-09")).get(0))).hasSize(40);
        assertThat(result.failed()).singleElement().asString().startsWith("dt=2026-03-08: left as it was: ")
                .contains("events-b.parquet");
        assertThat(files(history.resolve("dt=2026-03-08"))).hasSize(2);
        assertThat(files(history.resolve("dt=2026-03-08"))).noneMatch(f -> f.getFileName().toString().startsWith("."));
        assertThat(files(history.resolve("dt=2026-03-10"))).hasSize(2);
        try (Stream<Path> hidden = Files.walk(history)) {
            assertThat(hidden.filter(f -> f.getFileName().toString().startsWith(".compacting"))).as("nothing left behind")
                    .isEmpty();
        }

        // A file already near the target is not rewritten again: the next run has nothing to do.
        HistoryCompaction.Result again = HistoryCompaction.run(history.toUri().toString(), Duration.ofDays(1),
                1L << 20, 1, TODAY, new PrintStream(out));
        assertThat(again.filesIn()).as("only yesterday's one small file: merged with nothing").isLessThanOrEqualTo(1);
    }

    private static List<UnifiedEvent> events(String day, int from, int to) {
        List<UnifiedEvent> events = new ArrayList<>();
        long t = Instant.parse(day + "T12:00:00Z").toEpochMilli();
        for (int i = from; i < to; i++) {
            events.add(new UnifiedEvent("m-" + day + "-" + i, EventType.TRACK, "order_completed", null, "u" + i % 7,
                    "u" + i % 7, t + i, null, t + i, "web", null, Map.of("revenue", 10.0 + i), Map.of(), Map.of()));
        }
        return events;
    }

    private static void write(Path file, List<UnifiedEvent> events) throws Exception {
        Files.createDirectories(file.getParent());
        try (ParquetWriter<GenericRecord> writer = AvroParquetWriter.<GenericRecord>builder(new LocalOutputFile(file))
                .withSchema(UnifiedEventAvro.SCHEMA).build()) {
            for (UnifiedEvent e : events) {
                writer.write(UnifiedEventAvro.toRecord(e));
            }
        }
    }

    private static List<Path> files(Path dir) throws Exception {
        try (Stream<Path> list = Files.list(dir)) {
            return list.filter(f -> !f.getFileName().toString().endsWith(".crc")).sorted().toList();
        }
    }

    private static List<UnifiedEvent> read(Path file) throws Exception {
        List<UnifiedEvent> events = new ArrayList<>();
        try (ParquetReader<GenericRecord> reader = AvroParquetReader.<GenericRecord>builder(new LocalInputFile(file)).build()) {
            for (GenericRecord r = reader.read(); r != null; r = reader.read()) {
                events.add(UnifiedEventAvro.fromRecord(r));
            }
        }
        return events;
    }
}
