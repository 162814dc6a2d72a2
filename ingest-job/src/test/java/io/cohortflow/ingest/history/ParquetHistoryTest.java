package io.cohortflow.ingest.history;

import io.cohortflow.core.event.EventType;
import io.cohortflow.core.event.UnifiedEvent;
import io.cohortflow.core.event.UnifiedEventAvro;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.flink.api.common.serialization.BulkWriter;
import org.apache.flink.core.fs.FSDataOutputStream;
import org.apache.flink.core.fs.FileSystem;
import org.apache.parquet.avro.AvroParquetReader;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.hadoop.ParquetReader;
import org.apache.parquet.hadoop.metadata.ColumnChunkMetaData;
import org.apache.parquet.io.LocalInputFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;

class ParquetHistoryTest {
    @TempDir
    Path dir;

    /**
     * The history's layout, through the sink's writer and the fixtures': every row reads back as written, and the
     * columns that repeat keep their dictionary. The four whose every value is new have none, as before the writer
     * stopped trying one for them: Parquet drops a dictionary that saves nothing at the page's end, and what the
     * setting saves is the hashing on the way there, which a footer does not show.
     */
    @Test
    void writesEveryRowWithDictionariesOnlyForColumnsThatRepeat() throws Exception {
        List<UnifiedEvent> events = new ArrayList<>();
        for (int i = 0; i < 3_000; i++) {
            String user = "u" + i % 40;
            events.add(new UnifiedEvent("m-" + i, EventType.TRACK, i % 3 == 0 ? "product_viewed" : "page_view", null,
                    user, user, 1_772_000_000_000L + i * 7_919L, 1_772_000_000_000L + i * 7_919L - 50,
                    1_772_000_000_000L + i * 7_919L + 90, "web", null,
                    Map.of("product_id", "p" + i % 12, "price", 10.0 + i % 12, "path", "/p/" + i % 12), Map.of(),
                    Map.of("locale", "en-US")));
        }
        Path fixture = dir.resolve("fixture.parquet");
        HistoryFixtures.writeEvents(fixture, events);
        // The sink's way: Flink's bulk writer over a stream, the writer built by the sink's factory.
        Path sunk = dir.resolve("sink.parquet");
        try (FSDataOutputStream out = FileSystem.getLocalFileSystem().create(
                new org.apache.flink.core.fs.Path(sunk.toUri()), FileSystem.WriteMode.NO_OVERWRITE)) {
            BulkWriter<UnifiedEvent> writer = new ParquetHistory.WriterFactory().create(out);
            for (UnifiedEvent e : events) {
                writer.addElement(e);
            }
            writer.finish();
        }

        for (Path file : List.of(fixture, sunk)) {
            assertThat(read(file)).as(file.toString()).isEqualTo(events);
            assertThat(dictionaries(file)).as(file.toString()).containsEntry("messageId", false)
                    .containsEntry("timestamp", false).containsEntry("sentAt", false).containsEntry("receivedAt", false)
                    .containsEntry("resolvedId", true).containsEntry("event", true).containsEntry("source", true)
                    .containsEntry("product_id", true).containsEntry("properties", true)
                    .containsEntry("context", true);
        }
        // The JSON columns have no minimum and maximum (no reader filters on them); the others keep theirs.
        assertThat(minAndMax(sunk)).containsEntry("properties", false).containsEntry("traits", false)
                .containsEntry("context", false).containsEntry("timestamp", true).containsEntry("resolvedId", true)
                .containsEntry("event", true).containsEntry("product_id", true);
    }

    private static List<UnifiedEvent> read(Path file) throws Exception {
        List<UnifiedEvent> read = new ArrayList<>();
        try (ParquetReader<GenericRecord> reader = AvroParquetReader.<GenericRecord>builder(new LocalInputFile(file))
                .withDataModel(GenericData.get()).build()) {
            for (GenericRecord r = reader.read(); r != null; r = reader.read()) {
                read.add(UnifiedEventAvro.fromRecord(r));
            }
        }
        return read;
    }

    /** Whether each column of the file's first row group has a minimum and a maximum in its statistics. */
    private static Map<String, Boolean> minAndMax(Path file) throws Exception {
        Map<String, Boolean> stats = new TreeMap<>();
        try (ParquetFileReader footer = ParquetFileReader.open(new LocalInputFile(file))) {
            for (ColumnChunkMetaData column : footer.getFooter().getBlocks().get(0).getColumns()) {
                stats.put(column.getPath().toDotString(), column.getStatistics().hasNonNullValue());
            }
        }
        return stats;
    }

    /** Whether each column of the file's first row group has a dictionary page. */
    private static Map<String, Boolean> dictionaries(Path file) throws Exception {
        Map<String, Boolean> dictionary = new TreeMap<>();
        try (ParquetFileReader footer = ParquetFileReader.open(new LocalInputFile(file))) {
            for (ColumnChunkMetaData column : footer.getFooter().getBlocks().get(0).getColumns()) {
                dictionary.put(column.getPath().toDotString(), column.hasDictionaryPage());
            }
        }
        return dictionary;
    }
}
