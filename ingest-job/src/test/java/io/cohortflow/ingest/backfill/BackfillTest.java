package io.cohortflow.ingest.backfill;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class BackfillTest {

    @Test
    void csvColumnsAreTypedOnceForTheWholeFileIdsAsTextTimesAsInstants(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("orders.csv"), """
                type,userId,messageId,timestamp,properties.quantity,properties.price,properties.code,properties.mixed,properties.gift,properties.name,context.library.name
                track,17850.0,1,2010-12-01 08:26:00,6,2.55,007,12,true,"Socks, merino",export
                track,13047.0,2,2010-12-01T09:00:00+01:00,-2,3,12,abc,,Mug,export

                track,abc,3,yesterday,3,1e2,1,3,false,Cap,export
                """);
        CsvRows csv = CsvRows.plan(file, Backfill.Times.UTC);
        assertThat(csv.rows()).isEqualTo(3);
        List<String> calls = new ArrayList<>();
        csv.each(file, call -> calls.add(call.toString()), rows -> { });
        assertThat(calls).containsExactly(
                "{\"type\":\"track\",\"userId\":\"17850\",\"messageId\":\"1\",\"timestamp\":\"2010-12-01T08:26:00Z\","
                        + "\"properties\":{\"quantity\":6,\"price\":2.55,\"code\":\"007\",\"mixed\":\"12\",\"gift\":true,"
                        + "\"name\":\"Socks, merino\"},\"context\":{\"library\":{\"name\":\"export\"}}}",
                "{\"type\":\"track\",\"userId\":\"13047\",\"messageId\":\"2\",\"timestamp\":\"2010-12-01T08:00:00Z\","
                        + "\"properties\":{\"quantity\":-2,\"price\":3.0,\"code\":\"12\",\"mixed\":\"abc\",\"name\":\"Mug\"},"
                        + "\"context\":{\"library\":{\"name\":\"export\"}}}",
                "{\"type\":\"track\",\"userId\":\"abc\",\"messageId\":\"3\",\"timestamp\":\"yesterday\","
                        + "\"properties\":{\"quantity\":3,\"price\":100.0,\"code\":\"1\",\"mixed\":\"3\",\"gift\":false,"
                        + "\"name\":\"Cap\"},\"context\":{\"library\":{\"name\":\"export\"}}}");
        assertThat(csv.kinds()).containsEntry("properties.code", CsvRows.Kind.TEXT)
                .containsEntry("properties.quantity", CsvRows.Kind.LONG).containsEntry("properties.price", CsvRows.Kind.DOUBLE);
    }

    @Test
    void timesWithoutAZoneAreReadInTheZoneAndTheGivenFormat(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("t.csv"), "timestamp\n12/1/2010 8:26\n");
        CsvRows csv = CsvRows.plan(file, new Backfill.Times("M/d/yyyy H:mm", ZoneId.of("Europe/London")));
        assertThat(csv.time("12/1/2010 8:26")).as("GMT in winter").isEqualTo("2010-12-01T08:26:00Z");
        assertThat(csv.time("6/1/2011 8:26")).as("BST in summer").isEqualTo("2011-06-01T07:26:00Z");
        assertThat(csv.time("2011-06-01 08:26")).as("ISO without a zone, in the zone").isEqualTo("2011-06-01T07:26:00Z");
        assertThat(csv.time("2011-06-01T08:26:00Z")).isEqualTo("2011-06-01T08:26:00Z");
        assertThat(csv.time("soon")).as("passed on for ingest to dead-letter").isEqualTo("soon");
    }

    @Test
    void jsonLinesCountTheLinesThatAreNotBlankAndFormatFollowsTheFileName(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("web.jsonl"), "{\"a\":1}\r\n\n{\"a\":2}\n{broken\n");
        assertThat(Backfill.lines(file)).isEqualTo(3);
        assertThat(Backfill.formatOf(Path.of("/x/History.CSV"))).isEqualTo("csv");
        assertThat(Backfill.formatOf(Path.of("web.jsonl"))).isEqualTo("jsonl");
    }
}
