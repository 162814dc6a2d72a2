package io.cohortflow.collector;

import io.cohortflow.core.config.ConfFiles;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The collector's parts without a server: write keys, the calls of a request, the rate limit, Basic auth. */
class CollectorUnitsTest {
    private static final long RECEIVED = java.time.Instant.parse("2026-12-02T10:00:00.250Z").toEpochMilli();

    @Test
    void writeKeysAreKeptAsDigestsAndNameTheirSource(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("keys.yaml");
        Files.writeString(file, "keys:\n  - sha256: " + WriteKeys.digestHex("key-ios") + "\n    source: ios\n"
                + "  - sha256: " + WriteKeys.digestHex("key-web") + "\n    source: web\n");
        WriteKeys keys = WriteKeys.load(file.toString());
        assertThat(keys.source("key-web")).hasValue("web");
        assertThat(keys.source("key-ios")).hasValue("ios");
        assertThat(keys.source("key-web ")).isEmpty();
        assertThat(keys.source("")).isEmpty();
        assertThat(keys.source(null)).isEmpty();
        assertThat(Files.readString(file)).doesNotContain("key-web");
        assertThat(WriteKeys.load(ConfFiles.defaultLocation("collector/write-keys.yaml")).size())
                .as("the shipped file holds no key").isZero();
        Files.writeString(file, "keys:\n  - sha256: abc\n    source: web\n");
        assertThatThrownBy(() -> WriteKeys.load(file.toString())).hasMessageContaining("64-hex-digit");
    }

    @Test
    void aSingleCallGetsItsRoutesTypeAndLosesItsWriteKey() throws Exception {
        var calls = Calls.split("identify", Calls.parse(bytes("{\"writeKey\":\"secret\",\"userId\":42,\"traits\":{},"
                + "\"receivedAt\":\"2020-01-01T00:00:00Z\"}")), RECEIVED);
        assertThat(calls).singleElement().satisfies(c -> {
            assertThat(c.key()).isEqualTo("42");
            assertThat(text(c.payload())).contains("\"type\":\"identify\"").doesNotContain("secret")
                    .as("the receive time is the collector's").contains("\"receivedAt\":\"2026-12-02T10:00:00.250Z\"")
                    .doesNotContain("2020");
        });
        var typed = Calls.split("track", Calls.parse(bytes("{\"type\":\"page\",\"anonymousId\":\"a\",\"userId\":\"u\"}")), RECEIVED);
        assertThat(text(typed.get(0).payload())).as("its own type stays").contains("\"type\":\"page\"");
        assertThat(typed.get(0).key()).as("the device first").isEqualTo("a");
    }

    @Test
    void aBatchBecomesOneRecordPerCallWithTheEnvelopesSentAtAndContext() throws Exception {
        var calls = Calls.split("batch", Calls.parse(bytes("{\"writeKey\":\"k\",\"sentAt\":\"2026-12-02T10:00:00Z\","
                + "\"context\":{\"library\":{\"name\":\"x\"},\"ip\":\"9.9.9.9\"},\"batch\":["
                + "{\"type\":\"track\",\"event\":\"A\",\"userId\":\"u1\",\"context\":{\"ip\":\"1.1.1.1\"}},"
                + "{\"type\":\"track\",\"event\":\"B\",\"anonymousId\":\"a2\",\"sentAt\":\"2026-12-02T09:00:00Z\",\"writeKey\":\"k\"},"
                + "[1,2]]}")), RECEIVED);
        assertThat(calls).hasSize(3);
        assertThat(text(calls.get(0).payload())).contains("\"sentAt\":\"2026-12-02T10:00:00Z\"", "\"ip\":\"1.1.1.1\"",
                "\"library\"");
        assertThat(text(calls.get(1).payload())).contains("\"sentAt\":\"2026-12-02T09:00:00Z\"").doesNotContain("writeKey")
                .contains("\"receivedAt\":\"2026-12-02T10:00:00.250Z\"");
        assertThat(calls.get(2).key()).isNull();
        assertThat(text(calls.get(2).payload())).as("not a call: passed on for ingest to dead-letter").isEqualTo("[1,2]");
        assertThat(Calls.count("batch", Calls.parse(bytes("{\"batch\":[{},{},{}]}")))).isEqualTo(3);
        assertThatThrownBy(() -> Calls.split("batch", Calls.parse(bytes("{\"batch\":{}}")), RECEIVED))
                .isInstanceOf(Calls.Refused.class);
        assertThatThrownBy(() -> Calls.parse(bytes("\"text\""))).isInstanceOf(Calls.Refused.class);
        assertThat(Calls.route("Track")).isEqualTo("track");
        assertThat(Calls.route("purchase")).isNull();
        assertThat(java.util.stream.Stream.of("t", "i", "p", "g", "a", "b").map(Calls::route))
                .as("analytics.js's short routes").containsExactly("track", "identify", "page", "group", "alias", "batch");
        assertThat(Calls.route("x")).isNull();
    }

    @Test
    void aCallsRecordIsItsOwnMembersAsSentWhateverTheirSpacingEscapesAndNesting() throws Exception {
        var json = new com.fasterxml.jackson.databind.ObjectMapper();
        String call = " { \"type\" : \"track\" ,\n \"event\":\"Caf\\u00e9 \\\"Bought\\\" ü\", \"writeKey\":\"wk\","
                + " \"properties\" : { \"items\" : [ {\"sku\":\"a\", \"n\":-1.5e3}, [] , {} ], \"nested\":{\"receivedAt\":1}},"
                + " \"receivedAt\":\"1999-01-01T00:00:00Z\", \"context\": null, \"anonymousId\" : 17850.0, \"n\": 42 } ";
        var single = Calls.split("track", Calls.parse(bytes(call)), RECEIVED);
        var expected = (com.fasterxml.jackson.databind.node.ObjectNode) json.readTree(call);
        expected.remove("writeKey");
        expected.put("receivedAt", "2026-12-02T10:00:00.250Z");
        assertThat(json.readTree(single.get(0).payload())).as("the same call, re-spaced").isEqualTo(expected);
        assertThat(single.get(0).key()).as("a number as written").isEqualTo("17850.0");

        var batch = Calls.split("batch", Calls.parse(bytes("{\"context\":{\"ip\":\"9.9.9.9\",\"library\":{\"name\":\"x\"}},"
                + "\"batch\":[" + call + ", {}, {\"userId\":\" \",\"context\":{\"ip\":\"1.1.1.1\"}}, \"text\", 7]}")), RECEIVED);
        assertThat(batch).hasSize(5);
        assertThat(json.readTree(batch.get(0).payload())).as("its own null context stays").isEqualTo(expected);
        assertThat(json.readTree(batch.get(1).payload())).isEqualTo(json.readTree("{\"receivedAt\":\"2026-12-02T10:00:00.250Z\","
                + "\"context\":{\"ip\":\"9.9.9.9\",\"library\":{\"name\":\"x\"}}}"));
        assertThat(batch.get(1).key()).isNull();
        assertThat(json.readTree(batch.get(2).payload())).as("contexts merged, its own keys winning").isEqualTo(json.readTree(
                "{\"userId\":\" \",\"receivedAt\":\"2026-12-02T10:00:00.250Z\",\"context\":{\"ip\":\"1.1.1.1\",\"library\":{\"name\":\"x\"}}}"));
        assertThat(batch.get(2).key()).as("a blank id is no key").isNull();
        assertThat(text(batch.get(3).payload())).isEqualTo("\"text\"");
        assertThat(text(batch.get(4).payload())).isEqualTo("7");
        assertThat(Calls.writeKey(Calls.parse(bytes(call)))).isEqualTo("wk");

        for (String bad : new String[] {"", "{", "{\"a\":}", "{\"a\":1}}", "{\"a\":1} x", "[{}]", "{\"batch\":[{\"a\":tru]}",
                "{\"a\":\"\u0001\"}"}) {
            assertThatThrownBy(() -> Calls.parse(bytes(bad))).as(bad).isInstanceOf(Calls.Refused.class);
        }
        for (java.nio.charset.Charset utf16 : new java.nio.charset.Charset[] {java.nio.charset.StandardCharsets.UTF_16BE,
                java.nio.charset.StandardCharsets.UTF_16LE}) {
            assertThatThrownBy(() -> Calls.parse("{\"type\":\"track\"}".getBytes(utf16))).as(utf16.name())
                    .isInstanceOf(Calls.Refused.class).hasMessageContaining("UTF-8");
        }
    }

    @Test
    void theRateLimitRefillsOverTimeAndABigBatchRunsIntoDebt() {
        RateLimiter limiter = new RateLimiter(10);
        long t = 0;
        assertThat(limiter.acquire("k", 10, t)).isZero();
        assertThat(limiter.acquire("k", 1, t)).as("the bucket is empty").isEqualTo(1);
        t += 500_000_000L; // half a second: 5 tokens back
        assertThat(limiter.acquire("k", 5, t)).isZero();
        assertThat(limiter.acquire("other", 10, t)).as("per key").isZero();
        t += 1_000_000_000L;
        assertThat(limiter.acquire("k", 100, t)).as("a full bucket lets a big batch through").isZero();
        assertThat(limiter.acquire("k", 1, t + 1_000_000_000L)).as("in debt for a while").isPositive();
        assertThat(new RateLimiter(0).acquire("k", 1_000_000, 0)).as("no limit").isZero();
    }

    @Test
    void basicAuthCarriesTheWriteKeyAsItsUser() {
        String header = "Basic " + Base64.getEncoder().encodeToString("wk_1:".getBytes(StandardCharsets.UTF_8));
        assertThat(Collector.basicUser(header)).isEqualTo("wk_1");
        assertThat(Collector.basicUser("basic " + Base64.getEncoder().encodeToString("wk_2".getBytes(StandardCharsets.UTF_8))))
                .isEqualTo("wk_2");
        assertThat(Collector.basicUser("Bearer abc")).isNull();
        assertThat(Collector.basicUser("Basic !!!")).isNull();
        assertThat(Collector.basicUser(null)).isNull();
        assertThat(CollectorOptions.duration("500ms").toMillis()).isEqualTo(500);
        assertThat(CollectorOptions.duration("2min").toSeconds()).isEqualTo(120);
        assertThatThrownBy(() -> CollectorOptions.duration("soon")).hasMessageContaining("not a duration");
    }

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    private static String text(byte[] bytes) {
        return new String(bytes, StandardCharsets.UTF_8);
    }
}
