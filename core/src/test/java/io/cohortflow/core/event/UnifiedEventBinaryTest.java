package io.cohortflow.core.event;

import org.junit.jupiter.api.Test;

import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * events.unified's binary records: every field and each value's Java type come back, the codec reads both forms, and
 * bytes that are not one event's are refused with a reason, never read as something else.
 */
class UnifiedEventBinaryTest {
    private final UnifiedEventCodec json = new UnifiedEventCodec();
    private final UnifiedEventCodec binary = new UnifiedEventCodec.Binary();

    static UnifiedEvent rich() {
        Map<String, Object> properties = new LinkedHashMap<>();
        properties.put("revenue", 129.5);
        properties.put("items", 3L);
        properties.put("feature", "reports");
        properties.put("trial_days", 14);
        properties.put("ratio", 0.5f);
        properties.put("gift", true);
        properties.put("wrapped", false);
        properties.put("coupon", null);
        properties.put("big", new BigInteger("123456789012345678901234567890"));
        properties.put("exact", new BigDecimal("0.10"));
        properties.put("name", "Café Zürich ☕ — 東京 𝄞");
        properties.put("tags", new ArrayList<>(List.of("a", 1, 2.5)));
        properties.put("nested", new LinkedHashMap<>(Map.of("depth", new LinkedHashMap<>(Map.of("x", 1L)))));
        properties.put("empty", new LinkedHashMap<>());
        properties.put("long text", "x".repeat(70_000));
        return new UnifiedEvent("m-1", EventType.TRACK, "order_completed", "anon-1", "user-1", "user-1",
                1_767_571_200_123L, 1_767_571_200_000L, 1_767_571_201_000L, "web", null, properties,
                Map.of("email", "a@example.com"), Map.of("library", Map.of("name", "analytics.js")));
    }

    @Test
    void anEventComesBackWithItsValuesTypes() {
        UnifiedEvent event = rich();
        byte[] bytes = binary.encode(event);

        assertThat(bytes[0]).isEqualTo(UnifiedEventBinary.VERSION);
        assertThat(UnifiedEventBinary.isBinary(bytes)).isTrue();
        UnifiedEvent back = json.decode(bytes);
        assertThat(back).isEqualTo(event);
        assertThat(back.properties().get("items")).isInstanceOf(Long.class);
        assertThat(back.properties().get("trial_days")).isInstanceOf(Integer.class);
        assertThat(back.properties().get("ratio")).isInstanceOf(Float.class);
        assertThat(back.properties().keySet()).as("in their order").containsExactlyElementsOf(
                event.properties().keySet());
        UnifiedEvent identify = new UnifiedEvent("m-2", EventType.IDENTIFY, null, "anon-2", null, "anon-2", 5L, null,
                6L, "ios", "anon-0", Map.of(), Map.of("plan", "pro"), Map.of());
        assertThat(binary.decode(binary.encode(identify))).isEqualTo(identify);
    }

    /** A topic written as JSON before and in binary after reads whole: the codec tells them apart by the first byte. */
    @Test
    void theCodecReadsBothForms() {
        UnifiedEvent event = new UnifiedEvent("m-3", EventType.PAGE, "page_view", "anon-3", null, "anon-3", 7L, null,
                8L, "web", null, Map.of("path", "/pricing", "seconds", 12), Map.of(), Map.of("ip", "10.0.0.1"));
        byte[] asJson = json.encode(event);
        byte[] asBinary = binary.encode(event);

        assertThat(asJson[0]).isEqualTo((byte) '{');
        assertThat(UnifiedEventBinary.isBinary(asJson)).isFalse();
        assertThat(json.decode(asJson)).isEqualTo(event);
        assertThat(binary.decode(asJson)).isEqualTo(event);
        assertThat(json.decode(asBinary)).isEqualTo(event);
        assertThat(UnifiedEventBinary.isBinary(" {}".getBytes(StandardCharsets.UTF_8))).isFalse();
        assertThat(UnifiedEventBinary.isBinary("\t\n{}".getBytes(StandardCharsets.UTF_8))).isFalse();
        assertThat(asBinary.length).as("smaller than its JSON").isLessThan(asJson.length * 3 / 4);
        assertThat(binary.encodeToString(event)).as("text stays JSON, for logs").isEqualTo(json.encodeToString(event));
    }

    @Test
    void bytesOfNoEventAreRefusedWithTheReason() {
        byte[] good = binary.encode(new UnifiedEvent("m", EventType.TRACK, "page_view", "a", null, "a", 1L, null, 1L,
                "web", null, Map.of("k", "v"), Map.of(), Map.of()));
        byte[] later = good.clone();
        later[0] = 2;
        byte[] badType = good.clone();
        badType[3] = 99; // after the version, the message id's length and its one byte
        byte[] badTag = good.clone();
        badTag[good.length - 5] = 42; // the property's value tag: its string ("v") and the two empty maps follow
        byte[] trailing = java.util.Arrays.copyOf(good, good.length + 1);
        // A message id claiming 2^31 - 2 bytes: refused before a byte is allocated.
        byte[] huge = {UnifiedEventBinary.VERSION, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, 0x07};
        byte[] endless = {UnifiedEventBinary.VERSION, (byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80,
                (byte) 0x80, 0x01};
        byte[] negative = {UnifiedEventBinary.VERSION, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, 0x0F};

        assertThatThrownBy(() -> binary.decode(later)).isInstanceOf(UncheckedIOException.class)
                .hasMessageContaining("version 2 is not known here");
        assertThatThrownBy(() -> binary.decode(badType)).isInstanceOf(UncheckedIOException.class)
                .hasMessageContaining("unknown event type 99");
        assertThatThrownBy(() -> binary.decode(badTag)).isInstanceOf(UncheckedIOException.class)
                .hasMessageContaining("unknown value tag 42");
        assertThatThrownBy(() -> binary.decode(trailing)).isInstanceOf(UncheckedIOException.class)
                .hasMessageContaining("1 bytes after the event");
        assertThatThrownBy(() -> binary.decode(huge)).isInstanceOf(UncheckedIOException.class)
                .hasMessageContaining("end too soon");
        assertThatThrownBy(() -> binary.decode(endless)).isInstanceOf(UncheckedIOException.class)
                .hasMessageContaining("more than 5 bytes");
        assertThatThrownBy(() -> binary.decode(negative)).isInstanceOf(UncheckedIOException.class)
                .hasMessageContaining("past 2^31");
        assertThatThrownBy(() -> UnifiedEventBinary.decode(new byte[0])).isInstanceOf(UncheckedIOException.class)
                .hasMessageContaining("no bytes");
        // A big number's text claiming 2^31 - 2 bytes, as the value of the last property: refused the same way.
        byte[] big = binary.encode(new UnifiedEvent("m", EventType.TRACK, "page_view", "a", null, "a", 1L, null, 1L,
                "web", null, Map.of("b", BigInteger.ONE), Map.of(), Map.of()));
        assertThat(java.util.Arrays.copyOfRange(big, big.length - 5, big.length)).containsExactly(7, 2, '1', 0, 0);
        byte[] hugeBig = java.util.Arrays.copyOf(big, big.length - 4 + 5 + 3);
        System.arraycopy(new byte[] {(byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, 0x07, '1', 0, 0}, 0, hugeBig,
                big.length - 4, 8);
        assertThatThrownBy(() -> binary.decode(hugeBig)).isInstanceOf(UncheckedIOException.class)
                .hasMessageContaining("end too soon");
        for (int length = 1; length < good.length; length++) {
            byte[] cut = java.util.Arrays.copyOf(good, length);
            assertThatThrownBy(() -> binary.decode(cut)).as("cut to %d bytes", length)
                    .isInstanceOf(UncheckedIOException.class);
        }
    }

    /** An event the record's fields cannot make (no user at all) is refused, as its JSON would be. */
    @Test
    void aRecordOfAnImpossibleEventIsRefused() {
        byte[] good = binary.encode(new UnifiedEvent("m", EventType.TRACK, "page_view", "a", null, "a", 1L, null, 1L,
                "web", null, Map.of(), Map.of(), Map.of()));
        byte[] noUser = good.clone();
        noUser[14] = 0; // the anonymous id's length: version, "m" (2), type, "page_view" (10), then it
        assertThat(noUser[15]).isEqualTo((byte) 'a');
        byte[] shifted = new byte[good.length - 1];
        System.arraycopy(noUser, 0, shifted, 0, 15);
        System.arraycopy(noUser, 16, shifted, 15, good.length - 16);

        assertThatThrownBy(() -> binary.decode(shifted)).isInstanceOf(UncheckedIOException.class)
                .hasMessageContaining("needs an anonymousId or a userId");
    }

    /** Lists nested deeper than JSON readers accept are refused, not read until the stack runs out. */
    @Test
    void valuesNestedBeyondTheLimitAreRefused() {
        Object deep = "bottom";
        for (int i = 0; i < 1000; i++) {
            deep = List.of(deep);
        }
        UnifiedEvent ok = new UnifiedEvent("m", EventType.TRACK, "page_view", "a", null, "a", 1L, null, 1L, "web", null,
                Map.of("deep", deep), Map.of(), Map.of());
        assertThat(binary.decode(binary.encode(ok))).isEqualTo(ok);
        UnifiedEvent tooDeep = new UnifiedEvent("m", EventType.TRACK, "page_view", "a", null, "a", 1L, null, 1L, "web",
                null, Map.of("deep", List.of(deep)), Map.of(), Map.of());
        byte[] bytes = binary.encode(tooDeep);
        assertThatThrownBy(() -> binary.decode(bytes)).isInstanceOf(UncheckedIOException.class)
                .hasMessageContaining("nested more than 1000 deep");
    }

    /** Any byte of a record changed gives an event or the refusal, never another exception. */
    @Test
    void aChangedByteGivesAnEventOrTheRefusal() {
        byte[] good = binary.encode(new UnifiedEvent("m-9", EventType.TRACK, "add_to_cart", "d-1", "u-1", "u-1",
                1_767_571_200_123L, 1_767_571_200_000L, 1_767_571_201_000L, "web", null,
                Map.of("price", 19.99, "qty", 2L, "tags", List.of("x", true)), Map.of("plan", "pro"), Map.of()));
        Random random = new Random(7);
        int refused = 0;
        for (int i = 0; i < 20_000; i++) {
            byte[] bytes = good.clone();
            bytes[1 + random.nextInt(bytes.length - 1)] = (byte) random.nextInt(256);
            try {
                assertThat(binary.decode(bytes)).isNotNull();
            } catch (UncheckedIOException e) {
                refused++;
            }
        }
        assertThat(refused).as("most changes are refused").isGreaterThan(1_000);
    }

    /**
     * A decoder keeping some entries of the maps gives the whole event with only those entries, each value whole, in
     * their order, from either form; the entries stepped over are still checked: a record cut short or a changed byte
     * in them is refused as when every entry is read.
     */
    @Test
    void aDecoderKeepingSomeEntriesStepsOverTheRestAndStillRefusesBadBytes() {
        EventFields kept = new EventFields(java.util.Set.of("revenue", "nested", "name", "absent"),
                java.util.Set.of("email"), java.util.Set.of());
        UnifiedEventCodec keeping = UnifiedEventCodec.keeping(kept);
        UnifiedEvent event = rich();
        Map<String, Object> properties = new LinkedHashMap<>();
        properties.put("revenue", 129.5);
        properties.put("name", "Café Zürich ☕ — 東京 𝄞");
        properties.put("nested", Map.of("depth", Map.of("x", 1L)));
        UnifiedEvent expected = new UnifiedEvent("m-1", EventType.TRACK, "order_completed", "anon-1", "user-1",
                "user-1", 1_767_571_200_123L, 1_767_571_200_000L, 1_767_571_201_000L, "web", null, properties,
                Map.of("email", "a@example.com"), Map.of());
        UnifiedEvent fromBinary = keeping.decode(binary.encode(event));
        assertThat(fromBinary).isEqualTo(expected).isEqualTo(kept.of(event));
        assertThat(fromBinary.properties().keySet()).containsExactly("revenue", "name", "nested");
        assertThat(keeping.decode(json.encode(event))).as("JSON: its own types (small numbers as Integer)")
                .isEqualTo(kept.of(json.decode(json.encode(event))));
        assertThat(keeping.decode(json.encode(event)).properties().keySet()).containsExactly("revenue", "name",
                "nested");
        assertThat(keeping.encode(event)).as("it writes whole events, as JSON").isEqualTo(json.encode(event));

        byte[] bytes = binary.encode(event);
        for (int cut = 1; cut < bytes.length; cut += 97) {
            byte[] shorter = java.util.Arrays.copyOf(bytes, cut);
            assertThatThrownBy(() -> keeping.decode(shorter)).as("cut at %d", cut)
                    .isInstanceOf(UncheckedIOException.class);
        }
        Random random = new Random(7);
        byte[] good = binary.encode(new UnifiedEvent("m-9", EventType.TRACK, "add_to_cart", "d-1", "u-1", "u-1",
                1_767_571_200_123L, 1_767_571_200_000L, 1_767_571_201_000L, "web", null,
                Map.of("price", 19.99, "qty", 2L, "tags", List.of("x", true, 1, 2.5f, Map.of("k", "v"))),
                Map.of("plan", "pro"), Map.of("ip", "10.0.0.1")));
        int refused = 0;
        int textOnly = 0;
        for (int i = 0; i < 20_000; i++) {
            byte[] changed = good.clone();
            changed[1 + random.nextInt(changed.length - 1)] = (byte) random.nextInt(256);
            UncheckedIOException whole = null;
            try {
                binary.decode(changed);
            } catch (UncheckedIOException e) {
                whole = e;
            }
            try {
                UnifiedEvent read = keeping.decode(changed);
                if (whole == null) {
                    assertThat(read).isEqualTo(kept.of(binary.decode(changed)));
                } else { // only the text of a value stepped over is not parsed: a number's, a JSON value's
                    assertThat(org.assertj.core.util.Throwables.getRootCause(whole))
                            .as("read when kept but refused whole, change %d", i)
                            .isInstanceOfAny(NumberFormatException.class,
                                    com.fasterxml.jackson.core.JsonProcessingException.class);
                    textOnly++;
                }
            } catch (UncheckedIOException e) {
                refused++;
                assertThat(whole).as("refused when kept but read whole, change %d", i).isNotNull();
            }
        }
        assertThat(textOnly).as("values whose text does not parse, stepped over").isLessThan(refused / 10);
        assertThat(refused).as("most changes are refused").isGreaterThan(1_000);
    }

    /**
     * A size past 2^31 (a negative int) of a list or a map is refused in an entry stepped over as in one read, and of a
     * whole map.
     */
    @Test
    void aNegativeSizeIsRefusedWhereverItIs() {
        UnifiedEventCodec keeping = UnifiedEventCodec.keeping(new EventFields(java.util.Set.of("kept"),
                java.util.Set.of(), java.util.Set.of()));
        for (Object value : List.of(List.of(7), Map.of("k", 7))) {
            byte[] good = binary.encode(new UnifiedEvent("m-5", EventType.TRACK, "page_view", "d-1", null, "d-1", 5L,
                    null, 6L, "web", null, Map.of("skipped", value), Map.of(), Map.of()));
            byte tag = (byte) (value instanceof List ? 9 : 10); // LIST, MAP, each of size 1
            int at = indexOf(good, new byte[] {tag, 1});
            assertThat(good[at - 1]).as("the value's tag right after its key").isEqualTo((byte) 'd'); // "skipped"
            byte[] negative = new byte[good.length + 4];
            System.arraycopy(good, 0, negative, 0, at + 1);
            System.arraycopy(new byte[] {(byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, 0x0F}, 0, negative,
                    at + 1, 5); // the varint of -1
            System.arraycopy(good, at + 2, negative, at + 6, good.length - at - 2);
            assertThatThrownBy(() -> binary.decode(negative)).as("read whole").isInstanceOf(UncheckedIOException.class);
            assertThatThrownBy(() -> keeping.decode(negative)).as("stepped over")
                    .isInstanceOf(UncheckedIOException.class);
        }
        byte[] noMaps = binary.encode(new UnifiedEvent("m-6", EventType.TRACK, "page_view", "d-1", null, "d-1", 5L,
                null, 6L, "web", null, Map.of(), Map.of(), Map.of()));
        byte[] negativeMap = java.util.Arrays.copyOf(noMaps, noMaps.length + 4); // the last map's size, 0, now -1
        System.arraycopy(new byte[] {(byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, 0x0F}, 0, negativeMap,
                noMaps.length - 1, 5);
        assertThatThrownBy(() -> keeping.decode(negativeMap)).isInstanceOf(UncheckedIOException.class)
                .hasMessageContaining("past 2^31");
    }

    private static int indexOf(byte[] bytes, byte[] part) {
        for (int i = 0; i + part.length <= bytes.length; i++) {
            if (java.util.Arrays.equals(bytes, i, i + part.length, part, 0, part.length)) {
                return i;
            }
        }
        throw new AssertionError("not found");
    }
}
