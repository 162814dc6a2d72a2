package io.cohortflow.core.segment;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/** The documented JSON Schemas of the output topics name exactly the fields the records write. */
class OutputSchemasTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void segmentChangeSchemaMatchesTheRecord() throws IOException {
        SegmentChange change = SegmentChange.of("u1", "s1", "S", ChangeType.ENTER, 1L, 0, 2L, Cause.rule("s1", "v"),
                Map.of("recency", 1.0), "bundle@v1");
        JsonNode schema = schema("segment-change.schema.json");
        JsonNode written = JSON.readTree(new SegmentChangeCodec().encode(change));
        assertThat(fields(written)).isEqualTo(fields(schema.get("properties")));
        assertThat(fields(written.get("cause"))).isEqualTo(fields(schema.get("properties").get("cause").get("properties")));
        schema.get("required").forEach(r -> assertThat(written.has(r.asText())).as(r.asText()).isTrue());
        List<String> kinds = new java.util.ArrayList<>();
        schema.at("/properties/cause/properties/kind/enum").forEach(k -> kinds.add(k.asText()));
        assertThat(kinds).as("the cause kinds changes carry").contains(change.cause().kind(), change.cause().late().kind(),
                "model", "identity");
    }

    @Test
    void segmentProfileSchemaMatchesTheRecord() throws IOException {
        SegmentProfile profile = new SegmentProfile("u1", 1L, List.of("s1"), Map.of("recency", 1.0), Map.of(), null,
                "none", null, Map.of("email_sha256", "ab"),
                Map.of("recency_days", 1.0, "cart_open", true, "count_1h", Map.of("product_view", 3L),
                        "categories_24h", List.of("jackets")));
        JsonNode schema = schema("segment-profile.schema.json");
        JsonNode written = JSON.readTree(new SegmentProfileCodec().encode(profile));
        assertThat(fields(written)).isEqualTo(fields(schema.get("properties")));
    }

    private static JsonNode schema(String name) throws IOException {
        try (InputStream in = OutputSchemasTest.class.getClassLoader().getResourceAsStream("conf/schemas/" + name)) {
            assertThat(in).as(name + " on the classpath").isNotNull();
            return JSON.readTree(in);
        }
    }

    private static Set<String> fields(JsonNode node) {
        Set<String> names = new HashSet<>();
        node.fieldNames().forEachRemaining(names::add);
        return names;
    }
}
