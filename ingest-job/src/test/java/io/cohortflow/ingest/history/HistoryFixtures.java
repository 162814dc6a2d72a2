package io.cohortflow.ingest.history;

import io.cohortflow.core.event.EventTaxonomy;
import io.cohortflow.core.event.UnifiedEvent;
import io.cohortflow.core.event.UnifiedEventAvro;
import io.cohortflow.ingest.mapping.IngestMapper;
import io.cohortflow.ingest.mapping.RawEvent;
import io.cohortflow.simulator.Delivery;
import org.apache.avro.generic.GenericRecord;
import org.apache.hadoop.conf.Configuration;
import org.apache.parquet.hadoop.ParquetWriter;
import org.apache.parquet.io.LocalOutputFile;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** A Parquet history written without a running job: calls through the real ingest mapper, laid out as ingest does. */
public final class HistoryFixtures {
    private HistoryFixtures() {
    }

    /** {@code events} as one history file, in the current layout. */
    public static void writeEvents(Path file, List<UnifiedEvent> events) throws Exception {
        Files.createDirectories(file.getParent());
        try (ParquetWriter<GenericRecord> writer = ParquetHistory.writer(new LocalOutputFile(file), new Configuration())) {
            for (UnifiedEvent e : events) {
                writer.write(UnifiedEventAvro.toRecord(e));
            }
        }
    }

    /** Every delivery (a simulator's), through the mapper into {@code history}; returns the events written. */
    public static long writeDeliveries(Path history, Iterable<Delivery> deliveries, String fileName) throws Exception {
        List<RawEvent> raw = new ArrayList<>();
        for (Delivery d : deliveries) {
            raw.add(new RawEvent(d.payload(), d.source(), d.deliveredAt()));
        }
        return write(history, raw, fileName);
    }

    /**
     * Calls through the real ingest mapper, one file named {@code fileName} per day partition of {@code history};
     * returns the events written.
     */
    public static long write(Path history, Iterable<RawEvent> calls, String fileName) throws Exception {
        IngestMapper mapper = new IngestMapper(EventTaxonomy.defaults(), IngestMapper.loadMappings(null), 32 * 1024,
                Duration.ofHours(1), Duration.ofDays(3650));
        Map<LocalDate, List<UnifiedEvent>> byDay = new TreeMap<>();
        for (RawEvent call : calls) {
            for (UnifiedEvent e : mapper.map(call).events()) {
                byDay.computeIfAbsent(LocalDate.ofInstant(Instant.ofEpochMilli(e.timestamp()), ZoneOffset.UTC),
                        k -> new ArrayList<>()).add(e);
            }
        }
        long written = 0;
        for (var day : byDay.entrySet()) {
            writeEvents(history.resolve("dt=" + day.getKey()).resolve(fileName), day.getValue());
            written += day.getValue().size();
        }
        return written;
    }
}
