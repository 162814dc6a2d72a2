package io.cohortflow.training;

import io.cohortflow.core.event.EventType;
import io.cohortflow.core.event.UnifiedEvent;
import io.cohortflow.core.event.UnifiedEventAvro;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The events come back from the training's binary format as they went in: every field, and each property's value of
 * the same Java type (a Long stays a Long, where JSON would give an Integer), nested values and text outside Latin-1
 * included.
 */
class FeatureEventSerializerTest {
    private final FeatureEventSerializer serializer = FeatureEventSerializer.INSTANCE;

    @Test
    void anEventRoundTripsWithItsValuesTypes() throws Exception {
        Map<String, Object> properties = new LinkedHashMap<>();
        properties.put("revenue", 129.5);
        properties.put("items", 3L);
        properties.put("feature", "reports");
        properties.put("trial_days", 14);
        properties.put("gift", true);
        properties.put("wrapped", false);
        properties.put("coupon", null);
        properties.put("big", new BigInteger("123456789012345678901234567890"));
        properties.put("exact", new BigDecimal("0.10"));
        properties.put("name", "Café Zürich ☕ — 東京");
        properties.put("tags", new ArrayList<>(List.of("a", 1, 2.5)));
        properties.put("nested", new LinkedHashMap<>(Map.of("depth", new LinkedHashMap<>(Map.of("x", 1L)))));
        properties.put("empty", new LinkedHashMap<>());
        properties.put("long text", "x".repeat(70_000));
        UnifiedEvent event = new UnifiedEvent("m-1", EventType.TRACK, "order_completed", "anon-1", "user-1", "user-1",
                1_767_571_200_123L, 1_767_571_200_000L, 1_767_571_201_000L, "web", null, properties,
                Map.of("email", "a@example.com"), Map.of("library", Map.of("name", "analytics.js")));

        assertThat(roundTrip(event)).isEqualTo(event);
        assertThat(roundTrip(event).properties().get("items")).isInstanceOf(Long.class);
        assertThat(roundTrip(event).properties().get("trial_days")).isInstanceOf(Integer.class);
    }

    @Test
    void theReadersEventsRoundTrip() throws Exception {
        UnifiedEvent identify = new UnifiedEvent("m-2", EventType.IDENTIFY, null, "anon-2", null, "anon-2", 5L, null,
                6L, "ios", "anon-0", Map.of(), Map.of(), Map.of());
        UnifiedEvent view = UnifiedEventAvro.forFeatures(UnifiedEventAvro.toRecord(new UnifiedEvent("m-3",
                EventType.TRACK, "product_view", null, "user-3", "user-3", 7L, null, 8L, "web", null,
                Map.of("product_id", "p-1", "price", 19.99, "category", "shoes", "quantity", 2L), Map.of(), Map.of())));

        assertThat(roundTrip(identify)).isEqualTo(identify);
        assertThat(roundTrip(view)).isEqualTo(view);
    }

    @Test
    void aValueThatIsNoJsonValueIsRefused() {
        UnifiedEvent event = new UnifiedEvent("m-4", EventType.TRACK, "page_view", "anon-4", null, "anon-4", 1L, null,
                1L, "web", null, Map.of("when", new java.util.Date(0)), Map.of(), Map.of());

        assertThatThrownBy(() -> roundTrip(event)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("java.util.Date");
    }

    private UnifiedEvent roundTrip(UnifiedEvent event) throws Exception {
        DataOutputSerializer out = new DataOutputSerializer(64);
        serializer.serialize(event, out);
        serializer.serialize(event, out); // two in a row: each reads exactly its own bytes
        DataInputDeserializer in = new DataInputDeserializer(out.getCopyOfBuffer());
        UnifiedEvent first = serializer.deserialize(in);
        assertThat(serializer.deserialize(in)).isEqualTo(first);
        assertThat(in.available()).isZero();
        return first;
    }
}
