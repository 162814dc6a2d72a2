package io.cohortflow.core.codec;

import io.cohortflow.core.event.EventType;
import io.cohortflow.core.event.UnifiedEvent;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.entry;

class FrozenMapTest {
    @Test
    void aCopyIsTheMapAsItWasInItsOrderAndCannotChange() {
        Map<String, Object> source = new LinkedHashMap<>();
        source.put("b", 1);
        source.put("a", null);
        source.put("c", Map.of("x", 2));
        Map<String, Object> copy = FrozenMap.copyOf(source);
        source.put("d", 4);
        source.remove("b");

        assertThat(copy).containsExactly(entry("b", 1), entry("a", null), entry("c", Map.of("x", 2)));
        assertThat(copy).isEqualTo(withNull());
        assertThat(new HashMap<>(withNull())).isEqualTo(copy);
        assertThat(copy.hashCode()).isEqualTo(withNull().hashCode());
        assertThat(copy.getOrDefault("missing", "none")).isEqualTo("none");
        assertThat(copy.get("a")).isNull();
        assertThat(copy.containsKey("a")).isTrue();
        assertThatThrownBy(() -> copy.put("e", 5)).isInstanceOf(UnsupportedOperationException.class);
        assertThatThrownBy(() -> copy.remove("b")).isInstanceOf(UnsupportedOperationException.class);
        assertThatThrownBy(copy::clear).isInstanceOf(UnsupportedOperationException.class);
        assertThatThrownBy(() -> copy.entrySet().iterator().next().setValue(9))
                .isInstanceOf(UnsupportedOperationException.class);
        assertThatThrownBy(() -> copy.keySet().remove("b")).isInstanceOf(UnsupportedOperationException.class);
        assertThatThrownBy(() -> copy.merge("b", 1, (x, y) -> x)).isInstanceOf(UnsupportedOperationException.class);
    }

    @Test
    void aFrozenMapIsTakenAsItIs() {
        Map<String, Object> built = new LinkedHashMap<>(Map.of("k", "v"));
        Map<String, Object> owned = FrozenMap.owning(built);
        assertThat(FrozenMap.copyOf(owned)).isSameAs(owned);
        assertThat(FrozenMap.owning(owned)).isSameAs(owned);
        Map<String, Object> copied = FrozenMap.copyOf(built);
        assertThat(copied).isNotSameAs(owned).isEqualTo(owned);

        // An event keyed anew keeps its maps: nothing is copied from one record to the next.
        UnifiedEvent event = new UnifiedEvent("m", EventType.TRACK, "order_completed", "a", null, "a", 1L, null, 1L,
                "web", null, built, Map.of("email", "x@example.com"), Map.of("ip", "10.0.0.1"));
        UnifiedEvent rekeyed = event.withResolvedId("u");
        assertThat(rekeyed.properties()).isSameAs(event.properties());
        assertThat(rekeyed.traits()).isSameAs(event.traits());
        assertThat(rekeyed.context()).isSameAs(event.context());
        assertThat(event.properties()).as("the event took a copy of a map that was not frozen").isNotSameAs(built);
    }

    @Test
    void itSerializesAsJava() throws Exception {
        Map<String, Object> copy = FrozenMap.copyOf(withNull());
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(copy);
        }
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
            @SuppressWarnings("unchecked")
            Map<String, Object> back = (Map<String, Object>) in.readObject();
            assertThat(back).isEqualTo(copy).isInstanceOf(FrozenMap.class);
            assertThat(back.keySet()).containsExactly("b", "a", "c");
        }
    }

    private static Map<String, Object> withNull() {
        Map<String, Object> map = new LinkedHashMap<>();
        map.put("b", 1);
        map.put("a", null);
        map.put("c", Map.of("x", 2));
        return map;
    }
}
