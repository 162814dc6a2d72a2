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
 * The training's shuffle carries what the rows read, and gives it back through a decoder that keeps its strings; the
 * key tells users apart.
 */
class EventBytesTest {
    /**
     * The encoded events the shuffle carries decode to the events, through a decoder that has read many others
     * before: more short strings than its table holds, so slots are taken over, and strings that share a slot or a
     * length. A string read twice is the same object; one past the kept length is not kept.
     */
    @Test
    void encodedEventsDecodeAsTheyWereThroughADecoderThatKeepsItsStrings() throws Exception {
        EventBytes.Encoder encoder = new EventBytes.Encoder();
        EventBytes.Decoder decoder = new EventBytes.Decoder();
        java.util.SplittableRandom random = new java.util.SplittableRandom(7);
        List<UnifiedEvent> events = new ArrayList<>();
        for (int i = 0; i < 20_000; i++) {
            String user = "u" + random.nextInt(3_000); // "Aa" and "BB" share a hash: so do many of these
            Map<String, Object> properties = new LinkedHashMap<>();
            properties.put("product_id", "sku-" + random.nextInt(10_000));
            properties.put(random.nextBoolean() ? "Aa" : "BB", random.nextBoolean() ? "Aa" : "BB");
            properties.put("category", "c".repeat(random.nextInt(1, 40)));
            properties.put("price", random.nextDouble());
            events.add(new UnifiedEvent("m-" + i, EventType.TRACK, random.nextBoolean() ? "add_to_cart" : "page_view",
                    null, user, user, i, null, i, random.nextBoolean() ? "web" : "ios", null, properties, Map.of(),
                    Map.of()));
        }
        for (UnifiedEvent event : events) {
            assertThat(decoder.decode(encoder.encode(event), event.resolvedId())).isEqualTo(event);
        }

        UnifiedEvent last = events.get(events.size() - 1);
        UnifiedEvent once = decoder.decode(encoder.encode(last), last.resolvedId());
        UnifiedEvent twice = decoder.decode(encoder.encode(last), last.resolvedId());
        assertThat(twice.event()).isSameAs(once.event());
        assertThat(twice.source()).isSameAs(once.source());
        assertThat(twice.properties().keySet()).containsExactlyElementsOf(once.properties().keySet());
        assertThat(twice.properties().get("product_id")).isSameAs(once.properties().get("product_id"));
        assertThat(twice.messageId()).isEqualTo(once.messageId());
        String longText = "x".repeat(EventBytes.Strings.MAX_LENGTH + 1);
        UnifiedEvent withLongText = new UnifiedEvent("m", EventType.TRACK, longText, null, "u", "u", 1L, null, 1L,
                "web", null, Map.of(), Map.of(), Map.of());
        assertThat(decoder.decode(encoder.encode(withLongText), "u").event()).isEqualTo(longText)
                .isNotSameAs(decoder.decode(encoder.encode(withLongText), "u").event());
    }

    /**
     * The shuffle's bytes carry what a user's rows read. The event comes back with the key's user and without the rest:
     * no anonymous id, sent time, previous id, traits or context, and received when it happened.
     */
    @Test
    void theShufflesBytesKeepWhatTheRowsReadAndTheKeyGivesTheUser() throws Exception {
        UnifiedEvent whole = new UnifiedEvent("m-5", EventType.ALIAS, "signed_up", "anon-5", "user-5", "user-5", 100L,
                90L, 120L, "web", "anon-4", Map.of("plan", "pro", "seats", 3L), Map.of("email", "a@example.com"),
                Map.of("ip", "10.0.0.1"));

        UnifiedEvent decoded = new EventBytes.Decoder()
                .decode(new EventBytes.Encoder().encode(whole), "user-5");

        assertThat(decoded).isEqualTo(new UnifiedEvent("m-5", EventType.ALIAS, "signed_up", null, "user-5", "user-5",
                100L, null, 100L, "web", null, Map.of("plan", "pro", "seats", 3L), Map.of(), Map.of()));
    }

    /**
     * Each message (source and message id) counts once for its user, whatever order the rows come in: a row read
     * twice is dropped, one id sent by two sources is two messages.
     */
    @Test
    void aUsersMessagesCountOnceEach() throws Exception {
        EventBytes.Encoder encoder = new EventBytes.Encoder();
        List<byte[]> rows = new ArrayList<>();
        String[][] sent = {{"m-1", "web"}, {"m-1", "ios"}, {"m-1", "ios"}, {"m-2", "web"}, {"m-1", "web"},
                {"m-2", "web"}, {"m-1", "zendesk"}, {"m-3", "ios"}};
        for (int i = 0; i < sent.length; i++) {
            rows.add(encoder.encode(new UnifiedEvent(sent[i][0], EventType.TRACK, "page_view", null, "u", "u", i, null,
                    i, sent[i][1], null, Map.of(), Map.of(), Map.of())));
        }

        List<UnifiedEvent> once = ExamplesFunction.decodedOnce(rows, new EventBytes.Decoder(), "u");

        assertThat(once).extracting(e -> e.messageId() + "/" + e.source() + "@" + e.timestamp())
                .containsExactly("m-1/web@0", "m-1/ios@1", "m-2/web@3", "m-1/zendesk@6", "m-3/ios@7");
    }

    @Test
    void bytesThatAreNotOneEventAreRefused() throws Exception {
        EventBytes.Decoder decoder = new EventBytes.Decoder();
        UnifiedEvent event = new UnifiedEvent("m", EventType.TRACK, "page_view", null, "u", "u", 1L, null, 1L, "web",
                null, Map.of(), Map.of(), Map.of());
        byte[] bytes = new EventBytes.Encoder().encode(event);
        byte[] longer = java.util.Arrays.copyOf(bytes, bytes.length + 1);

        assertThatThrownBy(() -> decoder.decode(longer, "u")).isInstanceOf(java.io.IOException.class)
                .hasMessageContaining("1 bytes left");
        assertThat(decoder.decode(bytes, "u")).isEqualTo(event);
    }

    /** Users whose id hashes collide ("Aa" and "BB") still have keys of their own: the id follows the hash. */
    @Test
    void usersWhoseHashesCollideKeepTheirOwnKeys() {
        var aa = ExamplesFunction.key(org.apache.flink.api.java.tuple.Tuple2.of("Aa", new byte[0]));
        var bb = ExamplesFunction.key(org.apache.flink.api.java.tuple.Tuple2.of("BB", new byte[0]));

        assertThat(aa.f0).isEqualTo(bb.f0);
        assertThat(aa).isNotEqualTo(bb);
        assertThat(ExamplesFunction.key(org.apache.flink.api.java.tuple.Tuple2.of("Aa", new byte[] {1})))
                .isEqualTo(aa);
    }
}
