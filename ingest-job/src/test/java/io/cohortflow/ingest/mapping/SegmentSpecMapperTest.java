package io.cohortflow.ingest.mapping;

import io.cohortflow.core.event.EventTaxonomy;
import io.cohortflow.core.event.EventType;
import io.cohortflow.core.event.RejectReason;
import io.cohortflow.core.event.UnifiedEvent;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

class SegmentSpecMapperTest {
    private static final long KAFKA_TS = Instant.parse("2026-03-02T12:00:00Z").toEpochMilli();
    private final SegmentSpecMapper mapper = new SegmentSpecMapper(EventTaxonomy.defaults(), 32 * 1024,
            Duration.ofHours(1), Duration.ofDays(3650));

    @Test
    void mapsATrackCallWithCanonicalNameAndSkewCorrectedTime() {
        // The device clock is 2 hours fast: timestamp and sentAt carry it, receivedAt does not.
        UnifiedEvent e = accepted("""
                {"type":"track","event":"Product Added","messageId":"m1","anonymousId":"anon_1",
                 "timestamp":"2026-03-02T12:00:00.000Z","sentAt":"2026-03-02T12:00:05.000Z",
                 "receivedAt":"2026-03-02T10:00:06.000Z","properties":{"price":149.0,"sku":"s"},
                 "context":{"library":{"name":"analytics.js"}}}""");
        assertThat(e.type()).isEqualTo(EventType.TRACK);
        assertThat(e.event()).isEqualTo("add_to_cart");
        assertThat(e.timestamp()).isEqualTo(Instant.parse("2026-03-02T10:00:01Z").toEpochMilli());
        assertThat(e.receivedAt()).isEqualTo(Instant.parse("2026-03-02T10:00:06Z").toEpochMilli());
        assertThat(e.resolvedId()).isEqualTo("anon_1");
        assertThat(e.source()).isEqualTo("web");
        assertThat(e.properties()).containsEntry("price", 149.0);
        assertThat(e.context()).containsKey("library");
    }

    @Test
    void pageAndScreenCallsArePageViewsAndKeepTheirName() {
        UnifiedEvent page = accepted("""
                {"type":"page","name":"Men's Running Shoes","messageId":"m2","anonymousId":"a","userId":"u1",
                 "timestamp":"2026-03-02T11:59:00Z","properties":{"path":"/c/mens"}}""");
        assertThat(page.event()).isEqualTo("page_view");
        assertThat(page.resolvedId()).as("a known user id wins").isEqualTo("u1");
        assertThat(page.properties()).containsEntry("name", "Men's Running Shoes").containsEntry("path", "/c/mens");
        assertThat(page.timestamp()).as("no sentAt: timestamp as sent").isEqualTo(KAFKA_TS - 60_000);

        UnifiedEvent screen = accepted("{\"type\":\"screen\",\"name\":\"Home\",\"messageId\":\"m3\",\"anonymousId\":\"a\"}");
        assertThat(screen.event()).isEqualTo("page_view");
        assertThat(screen.timestamp()).as("no time at all: receive time").isEqualTo(KAFKA_TS);
    }

    @Test
    void identifyAndAliasCarryNoEventNameButKeepTraitsAndPreviousId() {
        UnifiedEvent identify = accepted("""
                {"type":"identify","messageId":"m4","anonymousId":"anon_123xyz","userId":"user_jane",
                 "traits":{"email":"Jane.Doe@Example.com"}}""");
        assertThat(identify.event()).isNull();
        assertThat(identify.traits()).containsEntry("email", "Jane.Doe@Example.com");
        UnifiedEvent alias = accepted("{\"type\":\"alias\",\"messageId\":\"m5\",\"userId\":\"u2\",\"previousId\":\"u1\"}");
        assertThat(alias.previousId()).isEqualTo("u1");
    }

    @Test
    void unknownEventNamesAreKeptInSnakeCase() {
        assertThat(accepted("{\"type\":\"track\",\"event\":\"Wishlist Shared\",\"messageId\":\"m\",\"userId\":\"u\"}").event())
                .isEqualTo("wishlist_shared");
        assertThat(SegmentSpecMapper.snakeCase("videoPlaybackStarted")).isEqualTo("video_playback_started");
    }

    static Stream<Arguments> badInput() {
        String ok = "\"messageId\":\"m\",\"anonymousId\":\"a\"";
        return Stream.of(
                Arguments.of("{\"type\":\"track\",", RejectReason.INVALID_JSON),
                Arguments.of("event=Product Viewed", RejectReason.INVALID_JSON),
                Arguments.of("{\"type\":\"track\"} trailing", RejectReason.INVALID_JSON),
                Arguments.of("", RejectReason.NOT_AN_OBJECT),
                Arguments.of("[{\"type\":\"track\"}]", RejectReason.NOT_AN_OBJECT),
                Arguments.of("\"just a string\"", RejectReason.NOT_AN_OBJECT),
                Arguments.of("{" + ok + "}", RejectReason.MISSING_TYPE),
                Arguments.of("{\"type\":\"purchase\"," + ok + "}", RejectReason.UNKNOWN_TYPE),
                Arguments.of("{\"type\":{\"x\":1}," + ok + "}", RejectReason.MISSING_TYPE),
                Arguments.of("{\"type\":\"track\",\"event\":\"E\",\"anonymousId\":\"a\"}", RejectReason.MISSING_MESSAGE_ID),
                Arguments.of("{\"type\":\"track\",\"event\":\"E\",\"messageId\":\"  \",\"anonymousId\":\"a\"}", RejectReason.MISSING_MESSAGE_ID),
                Arguments.of("{\"type\":\"track\",\"event\":\"E\",\"messageId\":\"m\"}", RejectReason.MISSING_ID),
                Arguments.of("{\"type\":\"track\",\"event\":\"E\",\"messageId\":\"m\",\"userId\":\"\",\"anonymousId\":null}", RejectReason.MISSING_ID),
                Arguments.of("{\"type\":\"track\"," + ok + "}", RejectReason.MISSING_EVENT_NAME),
                Arguments.of("{\"type\":\"track\",\"event\":\"\"," + ok + "}", RejectReason.MISSING_EVENT_NAME),
                Arguments.of("{\"type\":\"track\",\"event\":\"E\",\"timestamp\":\"yesterday\"," + ok + "}", RejectReason.INVALID_TIMESTAMP),
                Arguments.of("{\"type\":\"track\",\"event\":\"E\",\"sentAt\":\"2026-13-01T00:00:00Z\"," + ok + "}", RejectReason.INVALID_TIMESTAMP),
                Arguments.of("{\"type\":\"track\",\"event\":\"E\",\"timestamp\":\"2099-01-01T00:00:00Z\"," + ok + "}", RejectReason.TIMESTAMP_OUT_OF_RANGE),
                Arguments.of("{\"type\":\"track\",\"event\":\"E\",\"timestamp\":\"1970-01-01T00:00:00Z\"," + ok + "}", RejectReason.TIMESTAMP_OUT_OF_RANGE),
                Arguments.of("{\"type\":\"track\",\"event\":\"E\",\"properties\":\"size=42\"," + ok + "}", RejectReason.INVALID_FIELD_TYPE),
                Arguments.of("{\"type\":\"identify\",\"traits\":[1,2]," + ok + "}", RejectReason.INVALID_FIELD_TYPE),
                Arguments.of("{\"type\":\"track\",\"event\":\"E\",\"context\":5," + ok + "}", RejectReason.INVALID_FIELD_TYPE),
                Arguments.of("{\"type\":\"track\",\"event\":\"E\"," + ok + ",\"properties\":{\"blob\":\"" + "x".repeat(33_000) + "\"}}",
                        RejectReason.OVERSIZED));
    }

    @ParameterizedTest
    @MethodSource("badInput")
    void rejectsBadInputWithItsReason(String payload, RejectReason reason) {
        assertThat(mapper.map(raw(payload.getBytes(StandardCharsets.UTF_8))))
                .isInstanceOfSatisfying(MappingResult.Rejected.class, r -> {
                    assertThat(r.reason()).isEqualTo(reason);
                    assertThat(r.detail()).isNotBlank();
                });
    }

    @Test
    void rejectsBytesThatAreNotUtf8() {
        byte[] bytes = "{\"type\":\"track\",\"event\":\"E\",\"messageId\":\"m\",\"anonymousId\":\"a\"}"
                .getBytes(StandardCharsets.UTF_8);
        bytes[10] = (byte) 0xC3;
        bytes[11] = (byte) 0x28;
        assertThat(mapper.map(raw(bytes))).isInstanceOfSatisfying(MappingResult.Rejected.class,
                r -> assertThat(r.reason()).isEqualTo(RejectReason.NOT_UTF8));
    }

    private UnifiedEvent accepted(String json) {
        MappingResult result = mapper.map(raw(json.getBytes(StandardCharsets.UTF_8)));
        assertThat(result).isInstanceOf(MappingResult.Accepted.class);
        return ((MappingResult.Accepted) result).events().get(0);
    }

    private static RawEvent raw(byte[] bytes) {
        return new RawEvent(bytes, "web", KAFKA_TS);
    }
}
