package io.cohortflow.ingest.mapping;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
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

    /**
     * A payload of plain ASCII is read from its bytes, any other from its strictly decoded text: both ways give the
     * same tree, or the same reason and detail, as the text would (random objects, every bad payload of the corpus,
     * duplicate keys, and text whose bytes Jackson alone would take for UTF-16 or UTF-32).
     */
    @Test
    void plainAsciiIsReadFromItsBytesAsFromItsText() throws Exception {
        PayloadParser parser = new PayloadParser(32 * 1024, 4 * 1024 * 1024);
        List<byte[]> payloads = new java.util.ArrayList<>();
        SplittableRandom random = new SplittableRandom(11);
        for (int i = 0; i < 2_000; i++) {
            payloads.add(object(random, 0).getBytes(StandardCharsets.UTF_8));
        }
        BadInputCorpus.cases().forEach(c -> payloads.add(c.payload()));
        for (String text : List.of("{\"a\":1,\"a\":2}", "{\"a\":{\"b\":1,\"b\":1}}", "{\"a\":\"\u00e9\"}",
                "{\"a\":\"\\u00e9\"}", "{\"a\":1e400}", " {\"a\":1} ", "{\"a\":\"x\u0001\"}", "{\"a\":1}\u0000")) {
            payloads.add(text.getBytes(StandardCharsets.UTF_8));
        }
        // No byte over 127, but 0s: Jackson would read these bytes as UTF-16 or UTF-32 and accept them.
        String call = "{\"type\":\"track\"}";
        for (var charset : List.of(StandardCharsets.UTF_16LE, StandardCharsets.UTF_16BE, Charset.forName("UTF-32BE"),
                Charset.forName("UTF-32LE"))) {
            byte[] bytes = call.getBytes(charset);
            assertThat(PayloadParser.plainAscii(bytes)).as(charset.name()).isFalse();
            assertThat(parser.parse(bytes).rejected()).as(charset.name()).isNotNull();
            payloads.add(bytes);
        }
        int ascii = 0;
        for (byte[] bytes : payloads) {
            ascii += PayloadParser.plainAscii(bytes) ? 1 : 0;
            String text = new String(bytes, StandardCharsets.UTF_8);
            assertThat(outcome(() -> PayloadParser.read(bytes))).as(text).isEqualTo(outcome(() -> PayloadParser.JSON
                    .readTree(StandardCharsets.UTF_8.newDecoder().decode(java.nio.ByteBuffer.wrap(bytes)).toString())));
        }
        assertThat(ascii).isGreaterThan(2_000); // the fast way was taken, and checked
    }

    private interface Read {
        JsonNode read() throws Exception;
    }

    /** The tree read, or what refused it: the class and Jackson's message without its place in the input. */
    private static Object outcome(Read read) {
        try {
            return read.read();
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            return "JSON " + e.getOriginalMessage();
        } catch (Exception e) {
            return e.getClass().getName();
        }
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
