package io.cohortflow.jobs.types;

import io.cohortflow.core.event.EventType;
import io.cohortflow.core.event.UnifiedEvent;
import io.cohortflow.core.event.UnifiedEventAvro;
import io.cohortflow.core.event.UnifiedEventCodec;
import org.apache.flink.api.common.serialization.SerializerConfigImpl;
import org.apache.flink.api.common.typeutils.TypeSerializer;
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
 * The events come back from the binary format as they went in: every field, and each property's value of the same
 * Java type (a Long stays a Long, where JSON would give an Integer), nested values and text outside Latin-1 included.
 */
class UnifiedEventSerializerTest {
    private final UnifiedEventSerializer serializer = UnifiedEventSerializer.INSTANCE;

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

    /**
     * A value of a type no JSON reader gives (a date, a map keyed by numbers, a short, a bean) comes back as the JSON
     * wire of {@link JsonRecordTypeInfo} gave it back: as Jackson reads its JSON.
     */
    @Test
    void aValueOfAnotherTypeComesBackAsItsJson() throws Exception {
        Map<String, Object> odd = new LinkedHashMap<>();
        odd.put("when", new java.util.Date(1_767_571_200_123L));
        odd.put("by number", Map.of(1, "one"));
        odd.put("small", (short) 7);
        odd.put("list", List.of(new java.util.Date(0), "x"));
        odd.put("bean", new Object());
        UnifiedEvent event = new UnifiedEvent("m-4", EventType.TRACK, "page_view", "anon-4", null, "anon-4", 1L, null,
                1L, "web", null, odd, Map.of(), Map.of());
        TypeSerializer<UnifiedEvent> json = new JsonRecordTypeInfo<>(new UnifiedEventCodec())
                .createSerializer(new SerializerConfigImpl());

        assertThat(roundTrip(event)).isEqualTo(through(json, event));
        assertThat(roundTrip(event).properties()).containsEntry("when", 1_767_571_200_123L)
                .containsEntry("by number", Map.of("1", "one")).containsEntry("small", 7)
                .containsEntry("bean", Map.of());
    }

    /** Bytes with an event type or a value tag no event has are refused with the reason, not read as something. */
    @Test
    void bytesOfNoEventAreRefused() throws Exception {
        UnifiedEvent event = new UnifiedEvent("m", EventType.TRACK, "page_view", "a", null, "a", 1L, null, 1L, "web",
                null, Map.of("k", "v"), Map.of(), Map.of());
        DataOutputSerializer out = new DataOutputSerializer(64);
        serializer.serialize(event, out);
        byte[] bytes = out.getCopyOfBuffer();
        byte[] badType = bytes.clone();
        badType[2] = 99; // after the message id's length and its one byte
        byte[] badTag = bytes.clone();
        badTag[bytes.length - 5] = 42; // the property's value tag: its string ("v") and the two empty maps follow

        assertThatThrownBy(() -> serializer.deserialize(new DataInputDeserializer(badType)))
                .isInstanceOf(java.io.IOException.class).hasMessageContaining("unknown event type 99");
        assertThatThrownBy(() -> serializer.deserialize(new DataInputDeserializer(badTag)))
                .isInstanceOf(java.io.IOException.class).hasMessageContaining("unknown value tag 42");
    }

    private static UnifiedEvent through(TypeSerializer<UnifiedEvent> serializer, UnifiedEvent event) throws Exception {
        DataOutputSerializer out = new DataOutputSerializer(64);
        serializer.serialize(event, out);
        return serializer.deserialize(new DataInputDeserializer(out.getCopyOfBuffer()));
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
