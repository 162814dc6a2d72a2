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
 * included. The shuffle's slimmer bytes keep what the rows read.
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

    /**
     * The encoded events the shuffle carries decode to the events, through a decoder that has read many others
     * before: more short strings than its table holds, so slots are taken over, and strings that share a slot or a
     * length. A string read twice is the same object; one past the kept length is not kept.
     */
    @Test
    void encodedEventsDecodeAsTheyWereThroughADecoderThatKeepsItsStrings() throws Exception {
        FeatureEventSerializer.Encoder encoder = new FeatureEventSerializer.Encoder();
        FeatureEventSerializer.Decoder decoder = new FeatureEventSerializer.Decoder();
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
        String longText = "x".repeat(FeatureEventSerializer.Strings.MAX_LENGTH + 1);
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

        UnifiedEvent decoded = new FeatureEventSerializer.Decoder()
                .decode(new FeatureEventSerializer.Encoder().encode(whole), "user-5");

        assertThat(decoded).isEqualTo(new UnifiedEvent("m-5", EventType.ALIAS, "signed_up", null, "user-5", "user-5",
                100L, null, 100L, "web", null, Map.of("plan", "pro", "seats", 3L), Map.of(), Map.of()));
    }

    /**
     * Each message (source and message id) counts once for its user, whatever order the rows come in: a row read
     * twice is dropped, one id sent by two sources is two messages.
     */
    @Test
    void aUsersMessagesCountOnceEach() throws Exception {
        FeatureEventSerializer.Encoder encoder = new FeatureEventSerializer.Encoder();
        List<byte[]> rows = new ArrayList<>();
        String[][] sent = {{"m-1", "web"}, {"m-1", "ios"}, {"m-1", "ios"}, {"m-2", "web"}, {"m-1", "web"},
                {"m-2", "web"}, {"m-1", "zendesk"}, {"m-3", "ios"}};
        for (int i = 0; i < sent.length; i++) {
            rows.add(encoder.encode(new UnifiedEvent(sent[i][0], EventType.TRACK, "page_view", null, "u", "u", i, null,
                    i, sent[i][1], null, Map.of(), Map.of(), Map.of())));
        }

        List<UnifiedEvent> once = ExamplesFunction.decodedOnce(rows, new FeatureEventSerializer.Decoder(), "u");

        assertThat(once).extracting(e -> e.messageId() + "/" + e.source() + "@" + e.timestamp())
                .containsExactly("m-1/web@0", "m-1/ios@1", "m-2/web@3", "m-1/zendesk@6", "m-3/ios@7");
    }

    @Test
    void bytesThatAreNotOneEventAreRefused() throws Exception {
        FeatureEventSerializer.Decoder decoder = new FeatureEventSerializer.Decoder();
        UnifiedEvent event = new UnifiedEvent("m", EventType.TRACK, "page_view", null, "u", "u", 1L, null, 1L, "web",
                null, Map.of(), Map.of(), Map.of());
        byte[] bytes = new FeatureEventSerializer.Encoder().encode(event);
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
