package io.cohortflow.training;

import io.cohortflow.core.event.EventType;
import io.cohortflow.core.event.UnifiedEvent;
import io.cohortflow.core.event.UnifiedEventAvro;
import io.cohortflow.core.testing.Events;
import io.cohortflow.core.testing.LegacyHistory;
import io.cohortflow.core.training.ChurnLabels;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.connector.file.src.reader.StreamFormat;
import org.apache.flink.core.fs.FSDataInputStream;
import org.apache.flink.formats.parquet.ParquetInputFile;
import org.apache.parquet.avro.AvroParquetReader;
import org.apache.parquet.avro.AvroParquetWriter;
import org.apache.parquet.hadoop.ParquetReader;
import org.apache.parquet.hadoop.ParquetWriter;
import org.apache.parquet.io.LocalOutputFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The training's reader of the history leaves the traits, context and unread typed columns unread (and, when no privacy
 * request needs them, the other ids and times), and reads every other column as reading the whole file does: the events are those of {@link UnifiedEventAvro#forFeatures} over the
 * whole rows with the properties the rows read ({@link ChurnLabels#MODEL_PROPERTIES_READ}), in the current layout
 * and in the one before the typed columns (whose traits and context have no default to fall back on).
 */
class HistoryFormatTest {
    @TempDir
    Path dir;

    @Test
    void readsTheFeatureColumnsOfTheCurrentLayout() throws Exception {
        Path file = write("current.parquet", UnifiedEventAvro.SCHEMA, UnifiedEventAvro::toRecord);

        List<UnifiedEvent> read = read(file, true);

        assertThat(read).hasSize(events().size()).isEqualTo(whole(file));
        assertThat(read(file, false)).isEqualTo(whole(file).stream().map(HistoryFormatTest::withoutIds).toList());
        assertThat(read.get(0).properties()).containsEntry("revenue", 129.5).containsEntry("items", 3L)
                .doesNotContainKeys("order_id", "coupon");
        assertThat(read.get(2).properties()).containsEntry("product_id", "p-1").containsEntry("price", 19.99)
                .containsEntry("category", "shoes").doesNotContainKey("name");
        assertThat(read).allSatisfy(e -> assertThat(e.traits()).isEmpty()).allSatisfy(e -> assertThat(e.context()).isEmpty());
    }

    @Test
    void readsTheFeatureColumnsOfTheLayoutBeforeTheTypedColumns() throws Exception {
        Path file = write("legacy.parquet", LegacyHistory.SCHEMA, LegacyHistory::record);

        List<UnifiedEvent> read = read(file, true);

        assertThat(read).hasSize(events().size()).isEqualTo(whole(file));
        assertThat(read(file, false)).isEqualTo(whole(file).stream().map(HistoryFormatTest::withoutIds).toList());
        assertThat(read.get(0).properties()).containsEntry("revenue", 129.5).containsEntry("items", 3L)
                .doesNotContainKeys("order_id", "coupon");
    }

    @Test
    void theProjectionLeavesOnlyTheUnreadColumnsOut() {
        List<String> unread = List.of("traits", "context", "quantity", "currency", "order_id");
        List<String> ids = List.of("anonymousId", "userId", "sentAt", "receivedAt", "previousId");
        Schema projected = HistoryRows.FeatureColumns.without(UnifiedEventAvro.SCHEMA,
                HistoryRows.FeatureColumns.unread(true));
        Schema withoutIds = HistoryRows.FeatureColumns.without(UnifiedEventAvro.SCHEMA,
                HistoryRows.FeatureColumns.unread(false));

        assertThat(projected.getFields()).extracting(Schema.Field::name)
                .containsExactlyElementsOf(UnifiedEventAvro.SCHEMA.getFields().stream().map(Schema.Field::name)
                        .filter(name -> !unread.contains(name)).toList());
        assertThat(withoutIds.getFields()).extracting(Schema.Field::name)
                .containsExactlyElementsOf(UnifiedEventAvro.SCHEMA.getFields().stream().map(Schema.Field::name)
                        .filter(name -> !unread.contains(name) && !ids.contains(name)).toList());
        assertThat(projected.getFullName()).isEqualTo(UnifiedEventAvro.SCHEMA.getFullName());
    }

    /** The event as read without the other ids and times: its resolved user's, received when it happened. */
    private static UnifiedEvent withoutIds(UnifiedEvent e) {
        return new UnifiedEvent(e.messageId(), e.type(), e.event(), null, e.resolvedId(), e.resolvedId(), e.timestamp(),
                null, e.timestamp(), e.source(), null, e.properties(), e.traits(), e.context());
    }

    private static List<UnifiedEvent> events() {
        Map<String, Object> order = new LinkedHashMap<>();
        order.put("revenue", 129.5);
        order.put("order_id", "o-1");
        order.put("items", 3L);
        order.put("coupon", "SPRING");
        return List.of(
                new UnifiedEvent("m-1", EventType.TRACK, "order_completed", "anon-1", "user-1", "user-1", 1_000L, 900L,
                        1_100L, "web", null, order, Map.of("email", "a@example.com"),
                        Map.of("library", Map.of("name", "analytics.js"), "ip", "203.0.113.9")),
                new UnifiedEvent("m-2", EventType.IDENTIFY, null, "anon-2", null, "anon-2", 2_000L, null, 2_100L, "ios",
                        "anon-0", Map.of(), Map.of("plan", "pro"), Map.of()),
                new UnifiedEvent("m-3", EventType.TRACK, "product_viewed", null, "user-3", "user-3", 3_000L, null,
                        3_100L, "web", null, Map.of("product_id", "p-1", "price", 19.99, "category", "shoes",
                        "name", "Trail"), Map.of(), Map.of("page", Map.of("url", "https://shop.example/p-1"))));
    }

    private Path write(String name, Schema schema, Function<UnifiedEvent, GenericRecord> row) throws Exception {
        Path file = dir.resolve(name);
        try (ParquetWriter<GenericRecord> writer = AvroParquetWriter.<GenericRecord>builder(new LocalOutputFile(file))
                .withSchema(schema).build()) {
            for (UnifiedEvent e : events()) {
                writer.write(row.apply(e));
            }
        }
        return file;
    }

    /** Through the training's format, as the file source reads a file; with the other ids and times if {@code ids}. */
    private static List<UnifiedEvent> read(Path file, boolean ids) throws Exception {
        org.apache.flink.core.fs.Path path = new org.apache.flink.core.fs.Path(file.toUri());
        long length = Files.size(file);
        List<UnifiedEvent> events = new ArrayList<>();
        try (FSDataInputStream in = path.getFileSystem().open(path);
             StreamFormat.Reader<UnifiedEvent> reader = new HistoryRows.HistoryFormat(ids)
                     .createReader(new Configuration(), in, length, length)) {
            for (UnifiedEvent e = reader.read(); e != null; e = reader.read()) {
                events.add(e);
            }
        }
        return events;
    }

    /** Every column read, each row decoded for the features, with the properties they read. */
    private static List<UnifiedEvent> whole(Path file) throws Exception {
        org.apache.flink.core.fs.Path path = new org.apache.flink.core.fs.Path(file.toUri());
        List<UnifiedEvent> events = new ArrayList<>();
        try (FSDataInputStream in = path.getFileSystem().open(path);
             ParquetReader<GenericRecord> reader = AvroParquetReader.<GenericRecord>builder(
                     new ParquetInputFile(in, Files.size(file))).withDataModel(GenericData.get()).build()) {
            for (GenericRecord r = reader.read(); r != null; r = reader.read()) {
                events.add(Events.withOnlyProperties(UnifiedEventAvro.forFeatures(r),
                        ChurnLabels.MODEL_PROPERTIES_READ));
            }
        }
        return events;
    }
}
