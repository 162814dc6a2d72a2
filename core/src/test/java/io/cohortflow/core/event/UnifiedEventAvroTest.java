package io.cohortflow.core.event;

import io.cohortflow.core.testing.Events;
import io.cohortflow.core.testing.LegacyHistory;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class UnifiedEventAvroTest {

    private static UnifiedEvent order(Map<String, Object> properties) {
        return new UnifiedEvent("m1", EventType.TRACK, "order_completed", null, "u1", "u1", 1_000L, null, 2_000L, "web",
                null, properties, Map.of("plan", "pro"), Map.of("library", Map.of("name", "analytics.js")));
    }

    @Test
    void wellKnownPropertiesGetTypedColumnsAndTheRestIsJson() throws Exception {
        Map<String, Object> properties = new LinkedHashMap<>();
        properties.put("revenue", 120);             // a whole number: a double column all the same
        properties.put("items", 3.0);               // 3.0 units: a whole number
        properties.put("quantity", 1.5);            // not a whole number: stays in the JSON
        properties.put("order_id", 536365);         // an id sent as a number: its text
        properties.put("currency", "GBP");
        properties.put("category", List.of("a"));   // not text: stays in the JSON
        properties.put("products", List.of(Map.of("product_id", "85123A", "price", 2.55)));
        GenericRecord r = UnifiedEventAvro.toRecord(order(properties));
        assertThat(r.get("revenue")).isEqualTo(120.0);
        assertThat(r.get("items")).isEqualTo(3L);
        assertThat(r.get("quantity")).isNull();
        assertThat(r.get("order_id")).isEqualTo("536365");
        assertThat(r.get("currency")).isEqualTo("GBP");
        assertThat(r.get("price")).isNull();
        // Compared as JSON: the order of a Map.of's keys is not fixed.
        com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
        assertThat(json.readTree(r.get("properties").toString())).isEqualTo(json.readTree(
                "{\"quantity\":1.5,\"category\":[\"a\"],\"products\":[{\"product_id\":\"85123A\",\"price\":2.55}]}"));
        assertThat(r.get("context")).isEqualTo("{\"library\":{\"name\":\"analytics.js\"}}");

        UnifiedEvent back = UnifiedEventAvro.fromRecord(r);
        assertThat(back.numberProperty("revenue", -1)).isEqualTo(120.0);
        assertThat(back.numberProperty("items", -1)).isEqualTo(3.0);
        assertThat(back.numberProperty("quantity", -1)).isEqualTo(1.5);
        assertThat(back.stringProperty("order_id")).isEqualTo("536365");
        assertThat(back.properties().get("products")).as("nested values come back as values, not text")
                .isEqualTo(List.of(Map.of("product_id", "85123A", "price", 2.55)));
        assertThat(back.traits()).isEqualTo(Map.of("plan", "pro"));
        assertThat(back.context()).isEqualTo(Map.of("library", Map.of("name", "analytics.js")));
        UnifiedEvent forFeatures = UnifiedEventAvro.forFeatures(r);
        assertThat(forFeatures.properties()).isEqualTo(back.properties());
        assertThat(forFeatures.traits()).as("not decoded for the features").isEmpty();
        assertThat(forFeatures.context()).isEmpty();
        assertThat(UnifiedEventAvro.SCHEMA.getFields()).extracting(Schema.Field::name)
                .containsAll(UnifiedEventAvro.TYPED.keySet());
    }

    @Test
    void historyWrittenBeforeTheTypedColumnsStillReads() {
        UnifiedEvent e = UnifiedEventAvro.fromRecord(LegacyHistory.record(order(Map.of("revenue", 9.5, "order_id", "o1"))));
        assertThat(e.numberProperty("revenue", 0)).isEqualTo(9.5);
        assertThat(e.stringProperty("order_id")).isEqualTo("o1");
        assertThat(e.traits()).isEqualTo(Map.of("plan", "pro"));
        assertThat(e.context()).as("nested values were text in that layout").containsEntry("library", "{\"name\":\"analytics.js\"}");
    }

    @Test
    void theFeaturesReaderKeepsOnlyTheNamedPropertiesWithTheValuesTheWholeReadGives() {
        Map<String, Object> properties = new LinkedHashMap<>();
        properties.put("revenue", 120.5);                       // typed column, named
        properties.put("order_id", "o-9");                      // typed column, not named
        properties.put("items", 2.5);                           // not a whole number: in the JSON, named
        properties.put("name", "Storm Jacket");                 // JSON, named
        properties.put("amount", 12);                           // JSON, an Integer
        properties.put("big", new java.math.BigInteger("123456789012345678901234567890"));
        properties.put("nested", Map.of("a", List.of(1, 2.5, "x"))); // JSON, nested, named
        properties.put("path", "/shop");                        // JSON, not named
        properties.put("skipped", List.of(Map.of("deep", List.of(1, 2)))); // not named, nested: skipped whole
        properties.put("missing", null);                        // named, null
        java.util.Set<String> named = java.util.Set.of("revenue", "items", "name", "amount", "big", "nested", "missing",
                "sku");
        UnifiedEventAvro.FeatureRows rows = new UnifiedEventAvro.FeatureRows(named);

        for (GenericRecord r : List.of(UnifiedEventAvro.toRecord(order(properties)), LegacyHistory.record(order(properties)))) {
            UnifiedEvent expected = Events.withOnlyProperties(UnifiedEventAvro.forFeatures(r), named);
            UnifiedEvent read = rows.read(r);

            assertThat(read).as(r.getSchema().toString()).isEqualTo(expected);
            assertThat(read.properties()).doesNotContainKeys("order_id", "path", "skipped");
            read.properties().forEach((k, v) -> assertThat(v == null ? null : v.getClass()).as(k)
                    .isEqualTo(expected.properties().get(k) == null ? null : expected.properties().get(k).getClass()));
        }
        assertThat(rows.read(UnifiedEventAvro.toRecord(order(properties))).properties())
                .containsEntry("revenue", 120.5).containsEntry("items", 2.5).containsEntry("amount", 12)
                .containsEntry("nested", Map.of("a", List.of(1, 2.5, "x"))).containsEntry("missing", null);
    }

    /**
     * Without the other ids and times, a row is its resolved user's event, whatever its own ids: received when it
     * happened, with no anonymous id, sent time or previous id; everything else as read with them, in both layouts.
     */
    @Test
    void theFeaturesReaderWithoutIdsGivesTheResolvedUsersEvent() {
        UnifiedEvent alias = new UnifiedEvent("m2", EventType.ALIAS, null, "anon-2", "u2", "u2", 5_000L, 4_000L, 6_000L,
                "ios", "anon-1", Map.of("revenue", 3.5, "name", "x"), Map.of(), Map.of());
        UnifiedEvent device = new UnifiedEvent("m3", EventType.TRACK, "page_view", "anon-3", null, "anon-3", 7_000L,
                null, 7_500L, "web", null, Map.of(), Map.of(), Map.of());
        java.util.Set<String> named = java.util.Set.of("revenue");
        UnifiedEventAvro.FeatureRows withIds = new UnifiedEventAvro.FeatureRows(named, true);
        UnifiedEventAvro.FeatureRows withoutIds = new UnifiedEventAvro.FeatureRows(named, false);

        for (UnifiedEvent e : List.of(alias, device)) {
            for (GenericRecord r : List.of(UnifiedEventAvro.toRecord(e), LegacyHistory.record(e))) {
                UnifiedEvent full = withIds.read(r);
                assertThat(withoutIds.read(r)).as(r.getSchema().getName()).isEqualTo(new UnifiedEvent(e.messageId(),
                        e.type(), e.event(), null, e.resolvedId(), e.resolvedId(), e.timestamp(), null, e.timestamp(),
                        e.source(), null, full.properties(), Map.of(), Map.of()));
                assertThat(full.anonymousId()).isEqualTo(e.anonymousId());
                assertThat(full.receivedAt()).isEqualTo(e.receivedAt());
            }
        }
    }

    @Test
    void theFeaturesReaderRefusesAPropertiesColumnThatIsNotAJsonObject() {
        GenericRecord r = UnifiedEventAvro.toRecord(order(Map.of("name", "x")));
        r.put("properties", "[\"name\"]");
        UnifiedEventAvro.FeatureRows rows = new UnifiedEventAvro.FeatureRows(java.util.Set.of("name"));

        org.assertj.core.api.Assertions.assertThatThrownBy(() -> rows.read(r))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not a JSON object");
        r.put("properties", "{\"name\": ");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> rows.read(r))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not a JSON object");
        // Without the wanted key too: the text that skips the parse is a braced one.
        for (String text : List.of("{\"path\": ", "", "\"path\"")) {
            r.put("properties", text);
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> rows.read(r)).as(text)
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not a JSON object");
        }
    }

    /**
     * The reader skips parsing a properties JSON that cannot hold a wanted key; one that can, however it is written,
     * is still parsed.
     */
    @Test
    void theFeaturesReaderFindsAWantedKeyHoweverTheJsonWritesIt() {
        UnifiedEventAvro.FeatureRows rows = new UnifiedEventAvro.FeatureRows(java.util.Set.of("name", "feature"));
        GenericRecord r = UnifiedEventAvro.toRecord(order(Map.of("path", "/")));
        Map<String, String> written = Map.of(
                "{\"path\":\"/\",\"name\":\"Home\"}", "Home",
                "{ \"na\\u006de\" : \"Escaped\" }", "Escaped",
                "{\"title\":\"a \\\"quoted\\\" title\",\"name\":\"Quoted\"}", "Quoted",
                "{\n  \"name\"\n  :\n  \"Spaced\"\n}", "Spaced");
        written.forEach((json, name) -> {
            r.put("properties", json);
            assertThat(rows.read(r).properties()).as(json).containsEntry("name", name);
        });
        for (String json : List.of("{\"path\":\"/\",\"title\":\"Home\"}", "{\"title\":\"name\"}",
                "{\"names\":[\"a\"]}")) {
            r.put("properties", json);
            assertThat(rows.read(r).properties()).as(json).doesNotContainKeys("name", "feature", "path", "title");
        }
    }
}
