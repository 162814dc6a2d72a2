package io.cohortflow.ingest.mapping;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** A parsed object as Java values: what Jackson's conversion gave, to the class of every value. */
class PayloadParserTest {
    private static final TypeReference<Map<String, Object>> MAP = new TypeReference<>() { };

    @Test
    void anObjectIsWhatJacksonsConversionGives() throws Exception {
        SplittableRandom random = new SplittableRandom(5);
        for (int i = 0; i < 3_000; i++) {
            String json = object(random, 0);
            JsonNode node = PayloadParser.JSON.readTree(json);
            Map<String, Object> converted = PayloadParser.JSON.convertValue(node, MAP);
            Map<String, Object> walked = PayloadParser.toMap(node);
            assertThat(walked).as(json).isEqualTo(converted);
            assertSameClasses(walked, converted, json);
        }
    }

    @Test
    void theEdgesOfEachKindOfNumber() throws Exception {
        String json = "{\"int\": 2147483647, \"long\": 2147483648, \"negative\": -9223372036854775808, "
                + "\"big\": 9223372036854775808, \"bigger\": -123456789012345678901234567890, \"double\": 0.1, "
                + "\"exponent\": 1e3, \"tiny\": 4.9e-324, \"negativeZero\": -0.0, \"huge\": 1.7976931348623157e308, "
                + "\"text\": \"é \\u0000 \\ud83d\\ude00\", \"nested\": [[], {}, [null, true, false]], \"none\": null}";
        JsonNode node = PayloadParser.JSON.readTree(json);
        Map<String, Object> walked = PayloadParser.toMap(node);
        Map<String, Object> converted = PayloadParser.JSON.convertValue(node, MAP);
        assertThat(walked).isEqualTo(converted);
        assertSameClasses(walked, converted, json);
        assertThat(walked.get("long")).isInstanceOf(Long.class);
        assertThat(walked.get("big")).isInstanceOf(java.math.BigInteger.class);
        assertThat(walked.get("int")).isInstanceOf(Integer.class);
    }

    @Test
    void aNodeThatIsNoObjectIsRefusedAsJacksonRefusesIt() throws Exception {
        JsonNode array = PayloadParser.JSON.readTree("[1, 2]");
        assertThatThrownBy(() -> PayloadParser.toMap(array)).isInstanceOf(IllegalArgumentException.class);
    }

    private static void assertSameClasses(Object walked, Object converted, String json) {
        if (converted == null) {
            assertThat(walked).as(json).isNull();
            return;
        }
        assertThat(walked).as(json).isExactlyInstanceOf(converted.getClass());
        if (converted instanceof Map<?, ?> map) {
            for (Map.Entry<?, ?> entry : map.entrySet()) {
                assertSameClasses(((Map<?, ?>) walked).get(entry.getKey()), entry.getValue(), json);
            }
        } else if (converted instanceof List<?> list) {
            for (int i = 0; i < list.size(); i++) {
                assertSameClasses(((List<?>) walked).get(i), list.get(i), json);
            }
        }
    }

    private static String object(SplittableRandom random, int depth) {
        StringBuilder json = new StringBuilder("{");
        int fields = random.nextInt(depth == 0 ? 8 : 4);
        for (int i = 0; i < fields; i++) {
            json.append(i == 0 ? "" : ",").append('"').append("k").append(i).append('"').append(':')
                    .append(value(random, depth + 1));
        }
        return json.append('}').toString();
    }

    private static String value(SplittableRandom random, int depth) {
        int kind = random.nextInt(depth > 3 ? 9 : 11);
        return switch (kind) {
            case 0 -> String.valueOf(random.nextInt());
            case 1 -> String.valueOf(random.nextLong());
            case 2 -> String.valueOf(random.nextDouble() * Math.pow(10, random.nextInt(-10, 10)));
            case 3 -> random.nextBoolean() ? "true" : "false";
            case 4 -> "null";
            case 5 -> "\"" + "s".repeat(random.nextInt(5)) + "\"";
            case 6 -> "1" + "0".repeat(random.nextInt(15, 30)); // past a long
            case 7 -> random.nextInt(3) + "." + random.nextInt(1000) + "e" + random.nextInt(-5, 5);
            case 8 -> "-0";
            case 9 -> object(random, depth);
            default -> {
                StringBuilder list = new StringBuilder("[");
                int n = random.nextInt(4);
                for (int i = 0; i < n; i++) {
                    list.append(i == 0 ? "" : ",").append(value(random, depth + 1));
                }
                yield list.append(']').toString();
            }
        };
    }
}
