package io.cohortflow.ingest.backfill;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class BackfillTest {

    @Test
    void csvRowsNestDottedNamesAndTypeNumbersAndBooleans() {
        Map<String, String> row = new LinkedHashMap<>();
        row.put("type", "track");
        row.put("properties.price", "19.50");
        row.put("properties.quantity", "2");
        row.put("properties.gift", "true");
        row.put("properties.name", "Socks, merino");
        row.put("properties.sku", "007");
        row.put("userId", "");
        row.put("context.library.name", "export");
        assertThat(Backfill.nest(row).toString()).isEqualTo("{\"type\":\"track\",\"properties\":{\"price\":19.5,"
                + "\"quantity\":2,\"gift\":true,\"name\":\"Socks, merino\",\"sku\":\"007\"},"
                + "\"context\":{\"library\":{\"name\":\"export\"}}}");
    }

    @Test
    void formatFollowsTheFileName() {
        assertThat(Backfill.formatOf(Path.of("/x/History.CSV"))).isEqualTo("csv");
        assertThat(Backfill.formatOf(Path.of("web.jsonl"))).isEqualTo("jsonl");
    }
}
