package io.cohortflow.ingest;

import io.cohortflow.core.config.TopicsConfig;
import io.cohortflow.core.event.DeadLetter;
import io.cohortflow.core.event.DeadLetterCodec;
import io.cohortflow.core.event.UnifiedEvent;
import io.cohortflow.core.event.UnifiedEventAvro;
import io.cohortflow.core.event.UnifiedEventBinary;
import io.cohortflow.core.event.UnifiedEventCodec;
import io.cohortflow.core.identity.IdentityLink;
import io.cohortflow.core.identity.IdentityMerge;
import io.cohortflow.core.identity.IdentityMergeCodec;
import io.cohortflow.ingest.mapping.BadInputCorpus;
import io.cohortflow.kafka.local.LocalKafkaBroker;
import io.cohortflow.simulator.Delivery;
import io.cohortflow.simulator.KafkaDeliverySink;
import io.cohortflow.simulator.Simulator;
import io.cohortflow.simulator.SimulatorConfig;
import io.cohortflow.testkit.ExpectedRejections;
import io.cohortflow.testkit.KafkaTestSupport;
import io.cohortflow.testkit.MiniClusters;
import io.cohortflow.testkit.SharedKafka;
import org.apache.avro.generic.GenericRecord;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.parquet.avro.AvroParquetReader;
import org.apache.parquet.hadoop.ParquetReader;
import org.apache.parquet.io.LocalInputFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.groups.Tuple.tuple;

/**
 * The ingest job on a MiniCluster (parallelism 2) against the real broker: simulated traffic from every source with
 * duplicates, late and out-of-order deliveries, the bad-input corpus, the seed story, a kiosk over the identity cap,
 * an alias and a cross-device login. Asserts events.unified (read_committed), the dead-letter reasons, the merge
 * records, that the counts reconcile, and the Parquet history read back with parquet-avro and with DuckDB.
 */
@ExtendWith(SharedKafka.class)
class IngestITCase {
    @RegisterExtension
    static final MiniClusterExtension FLINK = MiniClusters.extension();

    private static final Instant START = Instant.parse("2026-03-02T00:00:00Z");
    @Test
    void aMixedStreamBecomesUnifiedEventsDeadLettersMergesAndHistory(LocalKafkaBroker broker, @TempDir Path history)
            throws Exception {
        TopicsConfig topics = KafkaTestSupport.uniqueTopics(broker, "ingest");
        List<Delivery> deliveries = new ArrayList<>();
        new Simulator(SimulatorConfig.of(7, 250, 2, START).withRates(0.02, 0.02, 0.02)).forEach(deliveries::add);
        long t = deliveries.get(deliveries.size() - 1).deliveredAt() + 60_000; // after the simulated traffic
        List<String> expectedReasons = new ArrayList<>(ExpectedRejections.of(deliveries));
        for (BadInputCorpus.Case bad : BadInputCorpus.cases()) {
            deliveries.add(new Delivery(null, bad.source(), bad.payload(), t, "malformed:corpus"));
            expectedReasons.add(bad.reason().name());
        }
        // A kiosk: five devices log in as one user; the cap (3) refuses the last two.
        for (int i = 1; i <= 5; i++) {
            deliveries.add(call(t, "kiosk_" + i, "{\"type\":\"identify\",\"messageId\":\"kiosk-" + i + "\",\"anonymousId\":\"kiosk_"
                    + i + "\",\"userId\":\"kiosk_user\",\"timestamp\":\"" + Instant.ofEpochMilli(t + i) + "\"}"));
        }
        // A cross-device login, then an anonymous event from that device (same key: same partition, in order).
        deliveries.add(call(t, "dev_x", "{\"type\":\"identify\",\"messageId\":\"x-1\",\"anonymousId\":\"dev_x\",\"userId\":\"u_cross\","
                + "\"timestamp\":\"" + Instant.ofEpochMilli(t + 10) + "\"}"));
        deliveries.add(call(t, "dev_x", "{\"type\":\"track\",\"event\":\"Product Viewed\",\"messageId\":\"x-2\",\"anonymousId\":\"dev_x\","
                + "\"timestamp\":\"" + Instant.ofEpochMilli(t + 20) + "\"}"));
        // An alias, then traffic of the aliased id.
        deliveries.add(call(t, "anon_alias", "{\"type\":\"alias\",\"messageId\":\"al-1\",\"previousId\":\"anon_alias\",\"userId\":\"u_alias\","
                + "\"timestamp\":\"" + Instant.ofEpochMilli(t + 30) + "\"}"));
        deliveries.add(call(t, "anon_alias", "{\"type\":\"page\",\"name\":\"Home\",\"messageId\":\"al-2\",\"anonymousId\":\"anon_alias\","
                + "\"timestamp\":\"" + Instant.ofEpochMilli(t + 40) + "\"}"));
        // An exact redelivery.
        deliveries.add(deliveries.get(deliveries.size() - 1));

        try (KafkaDeliverySink sink = new KafkaDeliverySink(broker.bootstrapServers(), topics.name(TopicsConfig.RAW))) {
            deliveries.forEach(sink::send);
            sink.flush();
        }
        long duplicatesSent = deliveries.stream().filter(d -> d.kind().equals("duplicate")).count() + 1;

        runBounded(broker, topics, history);

        String bs = broker.bootstrapServers();
        List<UnifiedEvent> all = KafkaTestSupport.readAllCommitted(bs, topics.name(TopicsConfig.UNIFIED), new UnifiedEventCodec());
        List<UnifiedEvent> unified = all.stream().filter(e -> !IdentityLink.isMarker(e)).toList();
        List<DeadLetter> dlq = KafkaTestSupport.readAllCommitted(bs, topics.name(TopicsConfig.DLQ), new DeadLetterCodec());
        List<UnifiedEvent> late = KafkaTestSupport.readAllCommitted(bs, topics.name(TopicsConfig.LATE), new UnifiedEventCodec());
        List<IdentityMerge> merges = KafkaTestSupport.readAllCommitted(bs, topics.name(TopicsConfig.MERGES), new IdentityMergeCodec());
        // events.unified in its binary form (README, Topics and formats).
        assertThat(KafkaTestSupport.readAllCommitted(bs, topics.name(TopicsConfig.UNIFIED)))
                .hasSize(all.size()).allSatisfy(r -> assertThat(r.value()[0]).isEqualTo(UnifiedEventBinary.VERSION));

        // Counts reconcile: every call in is unified, dead-lettered, a duplicate or late.
        System.out.printf("ingest: %d calls in -> %d unified, %d dead-lettered, %d duplicates, %d late, %d merge records%n",
                deliveries.size(), unified.size(), dlq.size(), duplicatesSent, late.size(), merges.size());
        assertThat(unified.size() + dlq.size() + duplicatesSent + late.size()).isEqualTo(deliveries.size());
        assertThat(unified.stream().map(e -> e.source() + "/" + e.messageId()).distinct().count())
                .as("no duplicates on events.unified").isEqualTo(unified.size());

        // Every bad input is dead-lettered with its own reason and its original bytes.
        assertThat(dlq).extracting(DeadLetter::reason).containsExactlyInAnyOrderElementsOf(expectedReasons);
        assertThat(new HashSet<>(expectedReasons)).hasSizeGreaterThanOrEqualTo(15);
        assertThat(dlq).allSatisfy(d -> assertThat(d.detail()).isNotBlank());

        // All sources arrive on one schema with canonical names.
        Map<String, Set<String>> eventsBySource = new TreeMap<>();
        unified.forEach(e -> eventsBySource.computeIfAbsent(e.source(), k -> new HashSet<>()).add(String.valueOf(e.event())));
        assertThat(eventsBySource.get("stripe")).contains("payment_succeeded", "subscription_renewed");
        assertThat(eventsBySource.get("zendesk")).contains("support_ticket_created");
        assertThat(eventsBySource.get("hubspot")).contains("email_opened");
        assertThat(eventsBySource.get("ios")).contains("product_view", "page_view");
        assertThat(eventsBySource.get("web")).contains("product_search", "add_to_cart", "order_completed");

        // Identity: the seed story, the cap, alias and cross-device.
        Map<String, String> resolvedByMessage = new HashMap<>();
        unified.forEach(e -> resolvedByMessage.put(e.messageId(), e.resolvedId()));
        assertThat(resolvedByMessage).containsEntry("x-2", "u_cross").containsEntry("al-2", "u_alias");
        assertThat(unified.stream().filter(e -> "anon_123xyz".equals(e.anonymousId())))
                .extracting(UnifiedEvent::event, UnifiedEvent::resolvedId)
                .contains(tuple("add_to_cart", "anon_123xyz"), tuple(null, "user_jane"), tuple("page_view", "user_jane"));
        assertThat(merges).extracting(IdentityMerge::fromId, IdentityMerge::toId, IdentityMerge::status, IdentityMerge::trigger)
                .contains(tuple("anon_123xyz", "user_jane", IdentityMerge.Status.MERGED, "identify"),
                        tuple("dev_x", "u_cross", IdentityMerge.Status.MERGED, "identify"),
                        tuple("anon_alias", "u_alias", IdentityMerge.Status.MERGED, "alias"));
        assertThat(merges.stream().filter(m -> m.toId().equals("kiosk_user")))
                .extracting(IdentityMerge::status)
                .containsExactlyInAnyOrder(IdentityMerge.Status.MERGED, IdentityMerge.Status.MERGED,
                        IdentityMerge.Status.MERGED, IdentityMerge.Status.REJECTED_CAP, IdentityMerge.Status.REJECTED_CAP);
        // Each link is in events.unified twice, in order: a marker as the device's last record, and the linking event
        // annotated for the user. The decisions on identity.merges name the same links.
        List<IdentityLink> markers = all.stream().filter(IdentityLink::isMarker)
                .map(e -> IdentityLink.of(e).orElseThrow()).toList();
        List<IdentityLink> linking = unified.stream().flatMap(e -> IdentityLink.of(e).stream()).toList();
        assertThat(markers).extracting(IdentityLink::linkId).doesNotHaveDuplicates()
                .containsExactlyInAnyOrderElementsOf(linking.stream().map(IdentityLink::linkId).toList())
                .containsExactlyInAnyOrderElementsOf(merges.stream().map(IdentityMerge::messageId).toList());
        assertThat(all).filteredOn(IdentityLink::isMarker).allSatisfy(marker ->
                assertThat(marker.resolvedId()).isEqualTo(IdentityLink.of(marker).orElseThrow().from()));
        Map<String, Long> devicesPerUser = new HashMap<>();
        merges.stream().filter(m -> m.status() == IdentityMerge.Status.MERGED)
                .forEach(m -> devicesPerUser.merge(m.toId(), 1L, Long::sum));
        assertThat(devicesPerUser.values().stream().filter(n -> n >= 2).count())
                .as("simulated people stitched across devices").isGreaterThan(10);

        // The history holds every unified and late event, readable by parquet-avro and by DuckDB.
        List<Path> files;
        try (Stream<Path> walk = Files.walk(history)) {
            files = walk.filter(p -> p.toString().endsWith(".parquet")).toList();
        }
        assertThat(files).isNotEmpty().allSatisfy(f -> assertThat(f.getParent().getFileName().toString()).matches("dt=\\d{4}-\\d{2}-\\d{2}"));
        List<UnifiedEvent> fromParquet = new ArrayList<>();
        for (Path file : files) {
            try (ParquetReader<GenericRecord> reader = AvroParquetReader.<GenericRecord>builder(new LocalInputFile(file)).build()) {
                for (GenericRecord r = reader.read(); r != null; r = reader.read()) {
                    fromParquet.add(UnifiedEventAvro.fromRecord(r));
                }
            }
        }
        assertThat(fromParquet).hasSize(unified.size() + late.size());
        assertThat(fromParquet).as("user actions as sent: no link markers or annotations")
                .allSatisfy(e -> assertThat(e.context()).doesNotContainKey(IdentityLink.CONTEXT_KEY));
        assertThat(fromParquet.stream().map(UnifiedEvent::messageId).collect(java.util.stream.Collectors.toSet()))
                .containsAll(unified.stream().map(UnifiedEvent::messageId).toList());
        UnifiedEvent someOrder = unified.stream().filter(e -> "order_completed".equals(e.event())).findFirst().orElseThrow();
        UnifiedEvent orderFromParquet = fromParquet.stream().filter(e -> e.messageId().equals(someOrder.messageId())).findFirst().orElseThrow();
        assertThat(orderFromParquet.numberProperty("revenue", -1)).isEqualTo(someOrder.numberProperty("revenue", -2));
        assertThat(orderFromParquet.timestamp()).isEqualTo(someOrder.timestamp());

        long productViews = unified.stream().filter(e -> "product_view".equals(e.event())).count()
                + late.stream().filter(e -> "product_view".equals(e.event())).count();
        try (Connection duck = DriverManager.getConnection("jdbc:duckdb:");
             Statement sql = duck.createStatement()) {
            String table = "read_parquet('" + history + "/*/*.parquet', hive_partitioning = true)";
            try (ResultSet rs = sql.executeQuery("SELECT count(*), count(DISTINCT dt), "
                    + "count(*) FILTER (WHERE event = 'product_view') FROM " + table)) {
                rs.next();
                assertThat(rs.getLong(1)).isEqualTo(unified.size() + late.size());
                assertThat(rs.getLong(2)).isBetween(2L, 3L);
                assertThat(rs.getLong(3)).isEqualTo(productViews);
            }
            try (ResultSet rs = sql.executeQuery("SELECT revenue, currency, json_extract_string(context, '$.library.name') FROM "
                    + table + " WHERE messageId = '" + someOrder.messageId() + "'")) {
                rs.next();
                assertThat(rs.getDouble(1)).as("a typed column").isEqualTo(someOrder.numberProperty("revenue", 0));
                assertThat(rs.getString(2)).isEqualTo(someOrder.stringProperty("currency"));
                assertThat(rs.getString(3)).as("the rest as JSON")
                        .isEqualTo(((Map<?, ?>) someOrder.context().get("library")).get("name"));
            }
        }
    }

    private static Delivery call(long receivedAt, String key, String json) {
        return new Delivery(key, "web", json.getBytes(StandardCharsets.UTF_8), receivedAt + 1_000, "event");
    }

    /** The ingest job over what is on the raw topic now, to completion, writing the history under {@code history}. */
    static void runBounded(LocalKafkaBroker broker, TopicsConfig topics, Path history) throws Exception {
        IngestOptions options = IngestOptions.parse(args(broker, topics, history));
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(MiniClusters.jobConfig());
        env.setParallelism(MiniClusters.PARALLELISM);
        IngestJob.configure(env, options);
        IngestJob.fromOptions(options, true).build(env);
        env.execute("ingest (bounded)");
    }

    static String[] args(LocalKafkaBroker broker, TopicsConfig topics, Path history) {
        List<String> args = new ArrayList<>(List.of("--bootstrap-servers", broker.bootstrapServers(),
                "--transaction-timeout", "60s", "--group-id", groupOf(topics),
                "--history-path", history.toUri().toString(), "--max-anonymous-ids", "3"));
        args.addAll(KafkaTestSupport.topicArgs(topics));
        return args.toArray(String[]::new);
    }

    /** The consumer group of the ingest job that {@link #args} configures. */
    static String groupOf(TopicsConfig topics) {
        return "it-" + topics.name(TopicsConfig.RAW);
    }
}
