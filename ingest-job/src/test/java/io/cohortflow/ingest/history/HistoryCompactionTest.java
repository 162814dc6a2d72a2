package io.cohortflow.ingest.history;

import io.cohortflow.core.event.EventType;
import io.cohortflow.core.event.UnifiedEvent;
import io.cohortflow.core.event.UnifiedEventAvro;
import org.apache.avro.generic.GenericRecord;
import org.apache.parquet.avro.AvroParquetReader;
import org.apache.parquet.hadoop.ParquetReader;
import org.apache.parquet.io.LocalInputFile;
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
    void smallFilesMergeABrokenPartitionIsLeftAsItWasAndTodayWaits(@TempDir Path history) throws Exception {
        write(history.resolve("dt=2026-03-09/events-a.parquet"), events("2026-03-09", 0, 30));
        write(history.resolve("dt=2026-03-09/events-b.parquet"), events("2026-03-09", 30, 40));
        // A day with an unreadable file: left as it was, named at the end; the other days are compacted.
        write(history.resolve("dt=2026-03-08/events-a.parquet"), events("2026-03-08", 0, 5));
        Files.writeString(history.resolve("dt=2026-03-08/events-b.parquet"), "not parquet");
        // Today: live traffic writes it; its files wait for tomorrow.
        write(history.resolve("dt=2026-03-10/events-a.parquet"), events("2026-03-10", 0, 5));
        write(history.resolve("dt=2026-03-10/events-b.parquet"), events("2026-03-10", 5, 10));

        HistoryCompaction.Result result = run(history, 128L << 20, 2);

        assertThat(result.partitions()).isEqualTo(1);
        assertThat(result.rows()).isEqualTo(40);
        assertThat(files(history.resolve("dt=2026-03-09"))).singleElement().asString().contains("events-compacted-");
        assertThat(read(files(history.resolve("dt=2026-03-09")).get(0))).hasSize(40);
        assertThat(result.failed()).singleElement().asString().startsWith("dt=2026-03-08: left as it was: ")
                .contains("events-b.parquet");
        assertThat(files(history.resolve("dt=2026-03-08"))).hasSize(2);
        assertThat(files(history.resolve("dt=2026-03-10"))).hasSize(2);
        try (Stream<Path> left = Files.walk(history)) {
            assertThat(left.map(f -> f.getFileName().toString())
                    .filter(n -> n.startsWith(".compacting") || n.startsWith("_compaction"))).as("nothing left behind")
                    .isEmpty();
        }

        // Nothing left to merge: the next run leaves the compacted file be.
        assertThat(run(history, 1L << 20, 2).filesIn()).isZero();
        // A late file arrives; with a target the compacted file already reaches, that file is not rewritten again
        // (a large day is not rewritten every night), and one late file alone merges into nothing.
        write(history.resolve("dt=2026-03-09/events-late.parquet"), events("2026-03-09", 40, 41));
        long compactedBytes = Files.size(files(history.resolve("dt=2026-03-09")).get(0));
        assertThat(run(history, compactedBytes, 2).filesIn()).isZero();
        assertThat(run(history, 1L << 20, 2).filesIn()).as("with room to spare, the two merge").isEqualTo(2);
    }

    @Test
    void aRunThatStoppedAfterItsRenamesIsFinishedAndOneThatStoppedBeforeIsUndone(@TempDir Path history) throws Exception {
        // Stopped after renaming: its output is in place and its inputs are still there (every row twice).
        Path done = leftover(history, "2026-03-07", "r1", "events-compacted-r1-0.parquet");
        // Stopped before renaming: its output is still hidden; its inputs are the truth.
        Path undone = leftover(history, "2026-03-06", "r2", ".compacting-r2-0.inprogress");

        HistoryCompaction.Result result = run(history, 128L << 20, 2);

        assertThat(result.recovered()).as("the first run's inputs").isEqualTo(2);
        assertThat(files(done)).containsExactly(done.resolve("events-compacted-r1-0.parquet"));
        assertThat(read(files(done).get(0))).hasSize(40);
        assertThat(files(undone)).singleElement().asString().contains("events-compacted-").doesNotContain("r2");
        assertThat(read(files(undone).get(0))).as("every row once").hasSize(40)
                .extracting(UnifiedEvent::messageId).doesNotHaveDuplicates();
        assertThat(result.failed()).isEmpty();
    }

    @Test
    void olderThanIsWholeDays() {
        assertThat(HistoryCompaction.parse(new String[] {"--history", "file:///h", "--older-than", "0d"}).olderThan())
                .isEqualTo(Duration.ZERO);
        assertThat(HistoryCompaction.parse(new String[] {"--history", "file:///h"}).olderThan()).isEqualTo(Duration.ofDays(1));
        assertThat(HistoryCompaction.days("3 days")).isEqualTo(Duration.ofDays(3));
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> HistoryCompaction.days("5min"))
                .hasMessageContaining("whole days");
    }

    /**
     * A partition as a run {@code run} left it: two inputs, its one output written as {@code output} (renamed into
     * place, or still hidden), and its manifest. Returns the partition.
     */
    private static Path leftover(Path history, String day, String run, String output) throws Exception {
        Path dir = history.resolve("dt=" + day);
        write(dir.resolve("events-a.parquet"), events(day, 0, 30));
        write(dir.resolve("events-b.parquet"), events(day, 30, 40));
        write(dir.resolve(output), events(day, 0, 40));
        Files.writeString(dir.resolve("_compaction-" + run), "in events-a.parquet\nin events-b.parquet\n"
                + "out events-compacted-" + run + "-0.parquet\n");
        return dir;
    }

    private static HistoryCompaction.Result run(Path history, long target, int minFiles) throws Exception {
        return HistoryCompaction.run(history.toUri().toString(), Duration.ofDays(1), target, minFiles, TODAY,
                new PrintStream(new ByteArrayOutputStream()));
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
        HistoryFixtures.writeEvents(file, events);
    }

    private static List<Path> files(Path dir) throws Exception {
        try (Stream<Path> list = Files.list(dir)) {
            return list.filter(f -> !f.getFileName().toString().endsWith(".crc")
                    && !f.getFileName().toString().startsWith(".")).sorted().toList();
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
