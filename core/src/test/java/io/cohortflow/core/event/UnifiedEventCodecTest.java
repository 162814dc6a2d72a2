package io.cohortflow.core.event;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class UnifiedEventCodecTest {
    private final UnifiedEventCodec codec = new UnifiedEventCodec();

    @Test
    void roundTripsEveryFieldIncludingNestedAndNullJsonValues() {
        Map<String, Object> props = new LinkedHashMap<>();
        props.put("price", 149.0);
        props.put("quantity", 2);
        props.put("tags", List.of("trail", "gtx"));
        props.put("dims", Map.of("w", 1.5));
        props.put("coupon", null);
        UnifiedEvent event = new UnifiedEvent("m1", EventType.TRACK, "add_to_cart", "anon_1", "u1", "u1", 1_000L,
                990L, 1_010L, "web", null, props, Map.of("email", "a@b.c"), Map.of("locale", "en-US"));

        UnifiedEvent decoded = codec.decode(codec.encode(event));

        assertThat(decoded).isEqualTo(event);
        assertThat(decoded.properties()).containsEntry("coupon", null).containsEntry("quantity", 2);
        assertThat(codec.encodeToString(event)).contains("\"type\":\"track\"");
    }

    @Test
    void mapsAreImmutableCopies() {
        Map<String, Object> props = new LinkedHashMap<>(Map.of("a", 1));
        UnifiedEvent event = new UnifiedEvent("m1", EventType.PAGE, "page_view", "anon_1", null, "anon_1", 1L, null, 1L,
                "web", null, props, null, null);
        props.put("b", 2);
        assertThat(event.properties()).containsOnlyKeys("a");
        assertThat(event.traits()).isEmpty();
        assertThatThrownBy(() -> event.properties().put("c", 3)).isInstanceOf(UnsupportedOperationException.class);
    }

    @Test
    void refusesAnEventWithoutAnyId() {
        assertThatThrownBy(() -> new UnifiedEvent("m1", EventType.TRACK, "x", null, null, "r", 1L, null, 1L, "web", null,
                Map.of(), Map.of(), Map.of())).hasMessageContaining("anonymousId or a userId");
    }

    @Test
    void toleratesUnknownFieldsSoNewerWritersDoNotBreakOlderReaders() {
        String json = "{\"messageId\":\"m\",\"type\":\"identify\",\"userId\":\"u\",\"resolvedId\":\"u\",\"timestamp\":5,"
                + "\"receivedAt\":5,\"source\":\"web\",\"addedLater\":true}";
        assertThat(codec.decode(json.getBytes(StandardCharsets.UTF_8)).type()).isEqualTo(EventType.IDENTIFY);
    }

    @Test
    void numberAndStringPropertyAccessors() {
        UnifiedEvent event = new UnifiedEvent("m1", EventType.TRACK, "order_completed", null, "u", "u", 1L, null, 1L,
                "web", null, Map.of("revenue", 42.5, "order_id", "o-1", "items", new ArrayList<>(List.of(1))), null, null);
        assertThat(event.numberProperty("revenue", 0)).isEqualTo(42.5);
        assertThat(event.numberProperty("order_id", -1)).isEqualTo(-1);
        assertThat(event.stringProperty("order_id")).isEqualTo("o-1");
        assertThat(event.stringProperty("items")).isNull();
    }
}
