package io.cohortflow.ingest;

import io.cohortflow.core.config.TopicsConfig;
import io.cohortflow.core.event.DeadLetter;
import io.cohortflow.core.event.DeadLetterCodec;
import io.cohortflow.core.event.UnifiedEvent;
import io.cohortflow.core.event.UnifiedEventCodec;
import io.cohortflow.ingest.backfill.Backfill;
import io.cohortflow.kafka.local.LocalKafkaBroker;
import io.cohortflow.simulator.Delivery;
import io.cohortflow.simulator.JsonlDeliverySink;
import io.cohortflow.simulator.Simulator;
import io.cohortflow.simulator.SimulatorConfig;
import io.cohortflow.testkit.KafkaTestSupport;
import io.cohortflow.testkit.MiniClusters;
import io.cohortflow.testkit.SharedKafka;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Backfills of old history, from CSV and from JSON lines, go through the real broker and the ingest job into the same
 * outputs as live traffic, with the same validation, and are not treated as late.
 */
@ExtendWith(SharedKafka.class)
class BackfillITCase {
    @RegisterExtension
    static final MiniClusterExtension FLINK = MiniClusters.extension();

    @Test
    void csvAndJsonLinesHistoryLandsInTheSameOutputs(LocalKafkaBroker broker, @TempDir Path dir) throws Exception {
        TopicsConfig topics = KafkaTestSupport.uniqueTopics(broker, "backfill");
        Path csv = dir.resolve("orders-export.csv");
        Files.writeString(csv, """
                type,event,messageId,userId,anonymousId,timestamp,properties.revenue,properties.note
                track,Order Completed,csv-1,u1,,2025-06-01T10:00:00Z,120.50,"gift, wrapped"
                track,Order Completed,csv-2,u2,,2025-06-01T11:00:00Z,80,
                identify,,csv-3,u3,dev-3,2025-06-01T12:00:00Z,,
                track,Order Completed,,u4,,2025-06-01T12:30:00Z,10,missing messageId
                track,Order Completed,csv-5,u5,,not a time,10,
                track,Order Completed,csv-1,u1,,2025-06-01T10:00:00Z,120.50,"gift, wrapped"
                """);
        Path jsonl = dir.resolve("jsonl");
        List<Delivery> simulated = new ArrayList<>();
        try (JsonlDeliverySink sink = new JsonlDeliverySink(jsonl)) {
            for (Delivery d : new Simulator(SimulatorConfig.of(3, 60, 1, Instant.parse("2025-06-01T00:00:00Z"))
                    .withSeedStory(false).withRates(0.0, 0.0, 0.02))) {
                sink.send(d);
                simulated.add(d);
            }
        }

        ByteArrayOutputStream progress = new ByteArrayOutputStream();
        String raw = topics.name(TopicsConfig.RAW);
        long sent = Backfill.run(csv, "web", "csv", broker.bootstrapServers(), raw, new PrintStream(progress)).records();
        List<Path> files;
        try (Stream<Path> list = Files.list(jsonl)) {
            files = list.sorted().toList();
        }
        for (Path file : files) {
            String source = file.getFileName().toString().replace(".jsonl", "");
            sent += Backfill.run(file, source, "jsonl", broker.bootstrapServers(), raw, new PrintStream(progress)).records();
        }
        assertThat(sent).isEqualTo(6 + simulated.size());

        Path history = dir.resolve("history");
        IngestITCase.runBounded(broker, topics, history);

        String bs = broker.bootstrapServers();
        List<UnifiedEvent> unified = KafkaTestSupport.readUserActions(bs, topics.name(TopicsConfig.UNIFIED));
        List<DeadLetter> dlq = KafkaTestSupport.readAllCommitted(bs, topics.name(TopicsConfig.DLQ), new DeadLetterCodec());
        List<UnifiedEvent> late = KafkaTestSupport.readAllCommitted(bs, topics.name(TopicsConfig.LATE), new UnifiedEventCodec());
        long simulatedMalformed = simulated.stream().filter(Delivery::isMalformed).count();

        assertThat(late).as("history is old, not late").isEmpty();
        assertThat(unified).hasSize((int) (3 + simulated.size() - simulatedMalformed));
        assertThat(unified).allSatisfy(e -> assertThat(e.context()).containsEntry("backfill", true));
        Map<String, Long> reasons = new TreeMap<>();
        dlq.forEach(d -> reasons.merge(d.reason(), 1L, Long::sum));
        assertThat(dlq).hasSize((int) (2 + simulatedMalformed));
        assertThat(reasons).containsKeys("MISSING_MESSAGE_ID", "INVALID_TIMESTAMP");

        UnifiedEvent order = unified.stream().filter(e -> e.messageId().equals("csv-1")).findFirst().orElseThrow();
        assertThat(order.event()).isEqualTo("order_completed");
        assertThat(order.properties()).containsEntry("revenue", 120.5).containsEntry("note", "gift, wrapped");
        assertThat(order.timestamp()).isEqualTo(Instant.parse("2025-06-01T10:00:00Z").toEpochMilli());
        assertThat(unified.stream().map(UnifiedEvent::source).distinct().toList())
                .as("every backfilled source file").containsAll(files.stream()
                        .map(f -> f.getFileName().toString().replace(".jsonl", "")).toList())
                .contains("hubspot", "salesforce");
        assertThat(history.resolve("dt=2025-06-01")).isDirectory();
        System.out.printf("backfill: %d records -> %d unified, %d dead-lettered %s, 1 duplicate%n", sent,
                unified.size(), dlq.size(), reasons);
    }
}
