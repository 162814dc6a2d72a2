package io.cohortflow.ingest.backfill;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.cohortflow.core.event.EventTaxonomy;
import io.cohortflow.core.event.RejectReason;
import io.cohortflow.core.event.UnifiedEvent;
import io.cohortflow.ingest.mapping.IngestMapper;
import io.cohortflow.ingest.mapping.MappingOutcome;
import io.cohortflow.ingest.mapping.RawEvent;
import io.cohortflow.ingest.mapping.SourceMapping;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/**
 * The shipped import recipe for order exports (conf/sources/online-retail.yaml), end to end short of Kafka: the file
 * read as Backfill reads it, each record mapped as ingest maps it.
 */
class OnlineRetailRecipeTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long NOW = Instant.parse("2026-12-02T12:00:00Z").toEpochMilli();

    @Test
    void invoiceLinesBecomeOrdersCancellationsRefundsAndRowsWithoutACustomerAreRefusedWithAReason(@TempDir Path dir)
            throws Exception {
        // Both date styles the dataset is published in; ids as a spreadsheet writes them; a line with a bad quantity.
        Path file = Files.writeString(dir.resolve("orders.csv"), """
                InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country
                536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,2010-12-01 08:26:00,2.55,17850.0,United Kingdom
                536365,71053,WHITE METAL LANTERN,6,2010-12-01 08:26:00,3.39,17850.0,United Kingdom
                536366,22633,"HAND WARMER, UNION JACK",6,6/1/2011 8:28,1.85,17850.0,United Kingdom
                C536379,D,Discount,-1,12/1/2010 9:41,27.5,14527.0,United Kingdom
                536414,22139,,56,12/1/2010 11:52,0,,United Kingdom
                A563185,B,Adjust bad debt,1,8/12/2011 14:50,11062.06,,United Kingdom
                A563186,B,Adjust bad debt,1,8/12/2011 14:51,5.0,12346.0,United Kingdom
                536367,84879,ASSORTED COLOUR BIRD ORNAMENT,lots,12/1/2010 8:34,1.69,13047.0,United Kingdom
                """);
        SourceMapping.FileLayout layout = Backfill.layoutOf("online-retail", null);
        assertThat(layout).as("the shipped recipe declares its file").isNotNull();
        CsvRows csv = CsvRows.plan(file, Backfill.Times.UTC, layout);
        assertThat(csv.rows()).isEqualTo(8);
        assertThat(csv.records()).as("one record per invoice").isEqualTo(7);
        assertThat(csv.warnings()).singleElement().asString()
                .contains("Quantity", "declared long", "1 cells", "row 8: 'lots'");

        IngestMapper mapper = new IngestMapper(EventTaxonomy.defaults(), IngestMapper.loadMappings(null), 32 * 1024,
                Duration.ofHours(1), Duration.ofDays(30));
        List<UnifiedEvent> events = new ArrayList<>();
        List<MappingOutcome.Rejected> rejected = new ArrayList<>();
        csv.each(file, record -> {
            try {
                // As Backfill sends it: replayed history, exempt from the 30-day past tolerance.
                MappingOutcome outcome = mapper.map(new RawEvent(JSON.writeValueAsBytes(record), "online-retail", NOW, true));
                events.addAll(outcome.events());
                rejected.addAll(outcome.rejected());
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                throw new IllegalStateException(e);
            }
        }, rows -> { });

        assertThat(events).extracting(UnifiedEvent::messageId).containsExactly("536365", "536366", "C536379", "536367");
        UnifiedEvent order = events.get(0);
        assertThat(order.event()).isEqualTo("order_completed");
        assertThat(order.userId()).as("17850.0 is the customer 17850").isEqualTo("17850");
        assertThat(order.timestamp()).as("London in winter is UTC")
                .isEqualTo(Instant.parse("2010-12-01T08:26:00Z").toEpochMilli());
        assertThat((Double) order.properties().get("revenue")).isCloseTo(6 * 2.55 + 6 * 3.39, within(1e-9));
        assertThat(order.properties()).containsEntry("items", 12.0).containsEntry("currency", "GBP")
                .containsEntry("order_id", "536365").containsEntry("country", "United Kingdom");
        assertThat((List<?>) order.properties().get("products")).hasSize(2).first()
                .isEqualTo(Map.of("product_id", "85123A", "name", "WHITE HANGING HEART T-LIGHT HOLDER", "quantity", 6,
                        "price", 2.55));
        assertThat(events.get(1).timestamp()).as("12/1/2010 style, London in summer is UTC+1")
                .isEqualTo(Instant.parse("2011-06-01T07:28:00Z").toEpochMilli());
        UnifiedEvent refund = events.get(2);
        assertThat(refund.event()).as("a cancellation is a refund, not an order").isEqualTo("order_refunded");
        assertThat(refund.properties()).containsEntry("revenue", 27.5).containsEntry("items", 1.0);
        assertThat(events.get(3).properties()).as("a quantity that is not a number gives no total, not a wrong one")
                .doesNotContainKeys("revenue", "items");
        assertThat(events).allSatisfy(e -> assertThat(e.context()).containsEntry("backfill", true)
                .containsEntry("integration", "online-retail"));

        assertThat(rejected).extracting(MappingOutcome.Rejected::reason)
                .containsExactly(RejectReason.REFUSED, RejectReason.REFUSED, RejectReason.REFUSED);
        assertThat(rejected.get(0).detail()).contains("no CustomerID");
        assertThat(rejected.get(2).detail()).contains("neither an order", "adjustment");
    }

    @Test
    void anInvoiceWhoseLinesAreNotTogetherIsRefusedBeforeAnythingIsSent(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("orders.csv"), """
                InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country
                536365,85123A,HOLDER,6,2010-12-01 08:26:00,2.55,17850,United Kingdom
                536366,71053,LANTERN,6,2010-12-01 08:28:00,3.39,17850,United Kingdom
                536365,22633,WARMER,6,2010-12-01 08:26:00,1.85,17850,United Kingdom
                """);
        assertThatThrownBy(() -> CsvRows.plan(file, Backfill.Times.UTC, Backfill.layoutOf("online-retail", null)))
                .hasMessageContaining("InvoiceNo 536365 are not together (rows 1 and 3)")
                .hasMessageContaining("sort the file by InvoiceNo");
    }

    @Test
    void rowsWithoutAnInvoiceAreRecordsOfTheirOwnAndRefusedOneByOne(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("orders.csv"), """
                InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country
                ,85123A,HOLDER,6,2010-12-01 08:26:00,2.55,17850,United Kingdom
                536366,71053,LANTERN,6,2010-12-01 08:28:00,3.39,17850,United Kingdom
                ,22633,WARMER,6,2010-12-01 08:26:00,1.85,17850,United Kingdom
                ,22634,WARMER,6,2010-12-01 08:26:00,1.85,17850,United Kingdom
                """);
        CsvRows csv = CsvRows.plan(file, Backfill.Times.UTC, Backfill.layoutOf("online-retail", null));
        assertThat(csv.records()).isEqualTo(4);
        IngestMapper mapper = new IngestMapper(EventTaxonomy.defaults(), IngestMapper.loadMappings(null), 32 * 1024,
                Duration.ofHours(1), Duration.ofDays(30));
        List<MappingOutcome> outcomes = new ArrayList<>();
        csv.each(file, record -> outcomes.add(mapper.map(new RawEvent(record.toString()
                .getBytes(java.nio.charset.StandardCharsets.UTF_8), "online-retail", NOW, true))), n -> { });
        assertThat(outcomes).hasSize(4);
        assertThat(outcomes.get(1).events()).singleElement().satisfies(e -> assertThat(e.messageId()).isEqualTo("536366"));
        for (int i : new int[] {0, 2, 3}) {
            assertThat(outcomes.get(i).rejected()).singleElement()
                    .satisfies(r -> assertThat(r.reason()).isEqualTo(RejectReason.REFUSED));
        }
    }

    @Test
    void aGroupedRecordIsHeldToTheBatchCapNotTheOneCallCap(@TempDir Path dir) throws Exception {
        StringBuilder csv = new StringBuilder("InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n");
        for (int i = 0; i < 600; i++) { // a wholesaler's invoice: far over 32 KB as one record
            csv.append("581483,S").append(i).append(",PAPER CRAFT LITTLE BIRDIE WITH A LONG NAME,2,2011-12-09 09:15:00,2.08,16446,United Kingdom\n");
        }
        Path file = Files.writeString(dir.resolve("big.csv"), csv);
        CsvRows rows = CsvRows.plan(file, Backfill.Times.UTC, Backfill.layoutOf("online-retail", null));
        IngestMapper mapper = new IngestMapper(EventTaxonomy.defaults(), IngestMapper.loadMappings(null), 32 * 1024,
                Duration.ofHours(1), Duration.ofDays(30));
        List<UnifiedEvent> events = new ArrayList<>();
        rows.each(file, record -> {
            byte[] bytes = record.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8);
            assertThat(bytes.length).isGreaterThan(32 * 1024);
            MappingOutcome outcome = mapper.map(new RawEvent(bytes, "online-retail", NOW, true));
            assertThat(outcome.rejected()).isEmpty();
            events.addAll(outcome.events());
        }, n -> { });
        assertThat(events).singleElement().satisfies(e -> {
            assertThat((Double) e.properties().get("revenue")).isCloseTo(600 * 2 * 2.08, within(1e-6));
            assertThat(e.properties()).containsEntry("items", 1200.0);
            assertThat((List<?>) e.properties().get("products")).as("the products listed are bounded").hasSize(100);
        });
    }
}
