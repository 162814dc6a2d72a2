package io.cohortflow.core.event;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.cohortflow.core.codec.JsonCodec;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class UnifiedEventCodecTest {
    private final UnifiedEventCodec codec = new UnifiedEventCodec();
    /** The object mapper's decoding, which the codec's streaming reader replaces. */
    private static final JsonCodec<UnifiedEvent> MAPPERS = new JsonCodec<>(UnifiedEvent.class) { };
    private static final ObjectMapper TREES = new ObjectMapper();

    /**
     * Random events, with every kind of JSON value in their maps (unicode and escapes, whole numbers of every size,
     * fractions at the edges, nesting, nulls, empty objects and arrays), are read back as the mapper reads them, to
     * the Java type of every value (an Integer is not a Long), by the streaming reader itself (not handed to the
     * mapper). Their JSON with the fields shuffled and fields of a newer writer added reads as the mapper reads it too.
     */
    @Test
    void readsTheMappersValues() throws Exception {
        Random random = new Random(11);
        for (int i = 0; i < 2_000; i++) {
            UnifiedEvent event = randomEvent(random);
            byte[] bytes = codec.encode(event);
            assertSameAsMappers(bytes);
            assertThat(codec.decode(bytes)).isEqualTo(event);
            assertThat(codec.readWithoutMapper(bytes)).as("read without the mapper").isEqualTo(event);

            ObjectNode tree = (ObjectNode) TREES.readTree(bytes);
            List<String> names = new ArrayList<>();
            tree.fieldNames().forEachRemaining(names::add);
            java.util.Collections.shuffle(names, random);
            ObjectNode shuffled = TREES.createObjectNode();
            for (String name : names) {
                if (random.nextInt(4) == 0) {
                    shuffled.set("newer_" + name, TREES.valueToTree(randomValue(random, 2)));
                }
                shuffled.set(name, tree.get(name));
            }
            byte[] newer = TREES.writeValueAsBytes(shuffled);
            assertSameAsMappers(newer);
            assertThat(codec.readWithoutMapper(newer)).as("read without the mapper").isEqualTo(event);
        }
    }

    /**
     * What the streaming reader does not take as the mapper would (a repeated field, numbers as text or fractions,
     * nulls for numbers, values of another JSON type, not an event at all) gets the mapper's value or the mapper's error.
     */
    @Test
    void inputTheReaderLeavesToTheMapperGetsTheMappersValueOrError() {
        String base = "\"messageId\":\"m\",\"type\":\"track\",\"event\":\"e\",\"userId\":\"u\",\"resolvedId\":\"u\","
                + "\"source\":\"web\"";
        List<String> inputs = List.of(
                "{" + base + ",\"timestamp\":5,\"receivedAt\":6}",
                "{" + base + "}",
                "{" + base + ",\"timestamp\":5,\"timestamp\":7}",
                "{" + base + ",\"anonymousId\":\"a\",\"timestamp\":5,\"sentAt\":4,\"receivedAt\":6,\"previousId\":null,"
                        + "\"properties\":{},\"traits\":{},\"context\":{},\"timestamp\":7,\"properties\":{\"a\":1}}",
                "{" + base + ",\"messageId\":\"m2\"}",
                "{" + base + ",\"timestamp\":\"5\"}",
                "{" + base + ",\"timestamp\":5.7}",
                "{" + base + ",\"timestamp\":null}",
                "{" + base + ",\"timestamp\":99999999999999999999}",
                "{" + base + ",\"sentAt\":\"12\"}",
                "{" + base + ",\"sentAt\":true}",
                "{" + base + ",\"event\":12}",
                "{" + base + ",\"event\":{\"a\":1}}",
                "{" + base + ",\"properties\":null,\"traits\":{},\"context\":{\"a\":[]}}",
                "{" + base + ",\"properties\":[1]}",
                "{" + base + ",\"properties\":\"x\"}",
                "{" + base + ",\"properties\":{\"a\":1,\"a\":2,\"b\":{\"c\":1,\"c\":[2]}}}",
                "{" + base + ",\"properties\":{\"big\":123456789012345678901234567890,\"long\":2147483648,"
                        + "\"int\":-2147483648,\"huge\":1e400,\"negzero\":-0.0,\"small\":1E-7,\"tenth\":0.1,"
                        + "\"long fraction\":123456789012345678901234567890.5,\"exp\":2e3}}",
                "{" + base.replace("\"track\"", "\" TRACK \"") + "}",
                "{" + base.replace("\"track\"", "\"bogus\"") + "}",
                "{" + base.replace("\"track\"", "null") + "}",
                "{" + base.replace(",\"resolvedId\":\"u\"", "") + "}",
                "{" + base.replace("\"userId\":\"u\",", "") + "}",
                "{" + base + "} trailing",
                "{" + base + ",\"timestamp\":5",
                "{" + base + ",\"extra\":[{\"deep\":[1,{\"x\":null}]}]}",
                "[]",
                "\"text\"",
                "",
                "{\"messageId\":\"m\",\"type\":\"track\",\"userId\":\"u\",\"resolvedId\":\"u\",\"source\":\"w\",\"é\\u00e9\":1}");
        for (String input : inputs) {
            assertSameAsMappers(input.getBytes(StandardCharsets.UTF_8));
        }
    }

    /** The codec's value for {@code bytes} is the mapper's, to each value's type, or its error is the mapper's. */
    private void assertSameAsMappers(byte[] bytes) {
        UnifiedEvent expected;
        try {
            expected = MAPPERS.decode(bytes);
        } catch (RuntimeException mappers) {
            assertThatThrownBy(() -> codec.decode(bytes)).as(new String(bytes, StandardCharsets.UTF_8))
                    .isInstanceOf(mappers.getClass()).hasMessage(mappers.getMessage());
            return;
        }
        UnifiedEvent decoded = codec.decode(bytes);
        assertThat(decoded).as(new String(bytes, StandardCharsets.UTF_8)).isEqualTo(expected);
        assertThat(typed(decoded.properties())).isEqualTo(typed(expected.properties()));
        assertThat(typed(decoded.traits())).isEqualTo(typed(expected.traits()));
        assertThat(typed(decoded.context())).isEqualTo(typed(expected.context()));
    }

    /** A value with the Java type of every part written out, so equal means equal to the types too. */
    private static String typed(Object value) {
        if (value instanceof Map<?, ?> map) {
            StringBuilder out = new StringBuilder("{");
            map.forEach((k, v) -> out.append(k).append('=').append(typed(v)).append(','));
            return out.append('}').toString();
        }
        if (value instanceof List<?> list) {
            StringBuilder out = new StringBuilder("[");
            list.forEach(v -> out.append(typed(v)).append(','));
            return out.append(']').toString();
        }
        return value == null ? "null" : value.getClass().getSimpleName() + ":" + value;
    }

    private static UnifiedEvent randomEvent(Random random) {
        EventType type = EventType.values()[random.nextInt(EventType.values().length)];
        String anonymousId = random.nextInt(3) == 0 ? null : "anon_" + randomText(random);
        String userId = anonymousId == null || random.nextBoolean() ? "u" + randomText(random) : null;
        return new UnifiedEvent(randomText(random), type, random.nextInt(5) == 0 ? null : randomText(random),
                anonymousId, userId, userId == null ? anonymousId : userId, random.nextLong(),
                random.nextBoolean() ? null : random.nextLong(), random.nextLong() >>> 20, randomText(random),
                random.nextInt(4) == 0 ? randomText(random) : null, randomObject(random, 3),
                random.nextBoolean() ? null : randomObject(random, 2), randomObject(random, 3));
    }

    private static Map<String, Object> randomObject(Random random, int depth) {
        Map<String, Object> object = new LinkedHashMap<>();
        int size = random.nextInt(6);
        for (int i = 0; i < size; i++) {
            object.put(randomText(random), randomValue(random, depth - 1));
        }
        return object;
    }

    private static Object randomValue(Random random, int depth) {
        int kind = random.nextInt(depth > 0 ? 14 : 11);
        return switch (kind) {
            case 0 -> null;
            case 1, 2 -> randomText(random);
            case 3 -> random.nextInt();
            case 4 -> random.nextLong();
            case 5 -> new java.math.BigInteger(80, random).negate();
            case 6 -> random.nextDouble() * Math.pow(10, random.nextInt(40) - 20);
            case 7 -> new double[] {-0.0, 0.0, 1e300, Double.MIN_VALUE, 0.1, 100.0, -2.5}[random.nextInt(7)];
            case 8 -> random.nextBoolean();
            case 9 -> random.nextInt(100);
            case 10 -> "";
            case 11 -> randomObject(random, depth);
            case 12 -> new ArrayList<>(java.util.Arrays.asList(randomValue(random, depth - 1),
                    randomValue(random, depth - 1)));
            default -> new ArrayList<>();
        };
    }

    private static String randomText(Random random) {
        String alphabet = "abcXYZ09 _-\"\\/\t\n\u0000\u001féü€😀\u2028";
        StringBuilder text = new StringBuilder();
        int length = 1 + random.nextInt(12);
        while (text.length() < length) {
            int at = random.nextInt(alphabet.length());
            if (Character.isHighSurrogate(alphabet.charAt(at))) {
                text.append(alphabet, at, at + 2);
            } else if (!Character.isLowSurrogate(alphabet.charAt(at))) {
                text.append(alphabet.charAt(at));
            }
        }
        return text.toString();
    }

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
