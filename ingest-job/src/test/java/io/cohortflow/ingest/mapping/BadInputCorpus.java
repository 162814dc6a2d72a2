package io.cohortflow.ingest.mapping;

import io.cohortflow.core.event.RejectReason;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Distinct kinds of bad input ingest must dead-letter, each with the reason it must give. Shared by the mapper test
 * and the ingest integration test.
 */
public final class BadInputCorpus {
    /** One bad payload: a name for reports, the source header, the bytes and the expected reason. */
    public record Case(String name, String source, byte[] payload, RejectReason reason) {
        @Override
        public String toString() {
            return name;
        }
    }

    private static final String IDS = "\"messageId\":\"m-bad\",\"anonymousId\":\"anon_bad\"";
    private static final String NOW = "2026-03-02T12:00:00Z";

    private BadInputCorpus() {
    }

    public static List<Case> cases() {
        List<Case> c = new ArrayList<>();
        // Not JSON, or not a JSON object
        add(c, "truncated json", "{\"type\":\"track\",\"event\":\"Product Viewed\",", RejectReason.INVALID_JSON);
        add(c, "form-encoded text", "event=Product Viewed&user=someone", RejectReason.INVALID_JSON);
        add(c, "trailing garbage", "{\"type\":\"track\"} and more", RejectReason.INVALID_JSON);
        add(c, "single quotes", "{'type':'track'}", RejectReason.INVALID_JSON);
        add(c, "unquoted keys", "{type:\"track\"}", RejectReason.INVALID_JSON);
        add(c, "two objects", "{\"a\":1}{\"b\":2}", RejectReason.INVALID_JSON);
        add(c, "empty payload", "", RejectReason.NOT_AN_OBJECT);
        add(c, "whitespace only", "   \n ", RejectReason.NOT_AN_OBJECT);
        add(c, "json array", "[{\"type\":\"track\"}]", RejectReason.NOT_AN_OBJECT);
        add(c, "json string", "\"track\"", RejectReason.NOT_AN_OBJECT);
        add(c, "json number", "42", RejectReason.NOT_AN_OBJECT);
        add(c, "json null", "null", RejectReason.NOT_AN_OBJECT);
        // Bytes
        c.add(new Case("invalid utf-8 sequence", "web", withBytes("{\"type\":\"track\",\"event\":\"X\"," + IDS + "}", 12,
                (byte) 0xC3, (byte) 0x28), RejectReason.NOT_UTF8));
        c.add(new Case("latin-1 text", "web", ("{\"type\":\"track\",\"event\":\"Caf\u00e9\"," + IDS + "}")
                .getBytes(StandardCharsets.ISO_8859_1), RejectReason.NOT_UTF8));
        c.add(new Case("utf-16 with bom", "web", ("{\"type\":\"track\"}").getBytes(StandardCharsets.UTF_16),
                RejectReason.NOT_UTF8));
        c.add(new Case("random binary", "web", new byte[] {(byte) 0xff, (byte) 0xfe, 0x00, 0x41, (byte) 0x80},
                RejectReason.NOT_UTF8));
        add(c, "oversized", "{\"type\":\"track\",\"event\":\"X\"," + IDS + ",\"properties\":{\"blob\":\""
                + "x".repeat(33_000) + "\"}}", RejectReason.OVERSIZED);
        // Call type
        add(c, "no type", "{\"event\":\"X\"," + IDS + "}", RejectReason.MISSING_TYPE);
        add(c, "null type", "{\"type\":null,\"event\":\"X\"," + IDS + "}", RejectReason.MISSING_TYPE);
        add(c, "empty type", "{\"type\":\"\",\"event\":\"X\"," + IDS + "}", RejectReason.MISSING_TYPE);
        add(c, "object type", "{\"type\":{\"t\":1}," + IDS + "}", RejectReason.MISSING_TYPE);
        add(c, "unknown type", "{\"type\":\"purchase\"," + IDS + "}", RejectReason.UNKNOWN_TYPE);
        // Ids
        add(c, "no messageId", "{\"type\":\"track\",\"event\":\"X\",\"anonymousId\":\"a\"}", RejectReason.MISSING_MESSAGE_ID);
        add(c, "blank messageId", "{\"type\":\"track\",\"event\":\"X\",\"messageId\":\"  \",\"anonymousId\":\"a\"}",
                RejectReason.MISSING_MESSAGE_ID);
        add(c, "object messageId", "{\"type\":\"track\",\"event\":\"X\",\"messageId\":{},\"anonymousId\":\"a\"}",
                RejectReason.INVALID_ID);
        // An id of the wrong JSON type is refused, never dropped while the call goes on under the other id.
        add(c, "object userId", track("\"userId\":{\"id\":\"u1\"}"), RejectReason.INVALID_ID);
        add(c, "array anonymousId", "{\"type\":\"track\",\"event\":\"X\",\"messageId\":\"m\",\"userId\":\"u1\","
                + "\"anonymousId\":[\"a\",\"b\"]}", RejectReason.INVALID_ID);
        add(c, "boolean userId", track("\"userId\":true"), RejectReason.INVALID_ID);
        add(c, "fractional userId", track("\"userId\":17850.5"), RejectReason.INVALID_ID);
        add(c, "userId with a NUL", track("\"userId\":\"u1\\u0000admin\""), RejectReason.INVALID_ID);
        add(c, "anonymousId with a newline", "{\"type\":\"track\",\"event\":\"X\",\"messageId\":\"m\","
                + "\"anonymousId\":\"a\\nb\"}", RejectReason.INVALID_ID);
        add(c, "alias without previousId", "{\"type\":\"alias\",\"messageId\":\"m\",\"userId\":\"u1\"}",
                RejectReason.MISSING_PREVIOUS_ID);
        add(c, "alias with a placeholder previousId", "{\"type\":\"alias\",\"messageId\":\"m\",\"userId\":\"u1\","
                + "\"previousId\":\"undefined\"}", RejectReason.MISSING_PREVIOUS_ID);
        add(c, "group without groupId", "{\"type\":\"group\",\"messageId\":\"m\",\"userId\":\"u1\"}",
                RejectReason.MISSING_GROUP_ID);
        add(c, "a repeated userId key", "{\"type\":\"track\",\"event\":\"X\",\"messageId\":\"m\",\"userId\":\"u1\","
                + "\"userId\":\"admin\"}", RejectReason.DUPLICATE_KEY);
        add(c, "a repeated key in the properties", track("\"properties\":{\"revenue\":1,\"revenue\":1000}"),
                RejectReason.DUPLICATE_KEY);
        add(c, "a repeated key in an object in a list", track("\"properties\":{\"products\":[{\"id\":\"a\"},"
                + "{\"id\":\"b\",\"id\":\"c\"}]}"), RejectReason.DUPLICATE_KEY);
        add(c, "a repeated key escaped differently", "{\"type\":\"track\",\"event\":\"X\",\"messageId\":\"m\","
                + "\"userId\":\"u1\",\"user\\u0049d\":\"admin\"}", RejectReason.DUPLICATE_KEY);
        add(c, "a number beyond a double", track("\"properties\":{\"revenue\":1e400}"), RejectReason.NON_FINITE_NUMBER);
        add(c, "no ids", "{\"type\":\"track\",\"event\":\"X\",\"messageId\":\"m\"}", RejectReason.MISSING_ID);
        add(c, "empty ids", "{\"type\":\"track\",\"event\":\"X\",\"messageId\":\"m\",\"userId\":\"\",\"anonymousId\":null}",
                RejectReason.MISSING_ID);
        add(c, "placeholder userId", "{\"type\":\"identify\",\"messageId\":\"m\",\"userId\":\"undefined\"}",
                RejectReason.INVALID_ID);
        add(c, "placeholder anonymousId", "{\"type\":\"track\",\"event\":\"X\",\"messageId\":\"m\",\"anonymousId\":\"null\"}",
                RejectReason.INVALID_ID);
        add(c, "overlong anonymousId", "{\"type\":\"track\",\"event\":\"X\",\"messageId\":\"m\",\"anonymousId\":\""
                + "a".repeat(300) + "\"}", RejectReason.INVALID_ID);
        // Event name
        add(c, "track without event", "{\"type\":\"track\"," + IDS + "}", RejectReason.MISSING_EVENT_NAME);
        add(c, "track with empty event", "{\"type\":\"track\",\"event\":\"\"," + IDS + "}", RejectReason.MISSING_EVENT_NAME);
        add(c, "track with object event", "{\"type\":\"track\",\"event\":{\"n\":1}," + IDS + "}",
                RejectReason.MISSING_EVENT_NAME);
        // Times
        add(c, "unparsable timestamp", track("\"timestamp\":\"yesterday at noon\""), RejectReason.INVALID_TIMESTAMP);
        add(c, "impossible sentAt", track("\"sentAt\":\"2026-13-45T00:00:00Z\""), RejectReason.INVALID_TIMESTAMP);
        add(c, "garbage receivedAt", track("\"receivedAt\":\"soon\""), RejectReason.INVALID_TIMESTAMP);
        add(c, "far future timestamp", track("\"timestamp\":\"2099-01-01T00:00:00Z\",\"receivedAt\":\"" + NOW + "\""),
                RejectReason.TIMESTAMP_OUT_OF_RANGE);
        add(c, "epoch zero timestamp", track("\"timestamp\":\"1970-01-01T00:00:00Z\",\"receivedAt\":\"" + NOW + "\""),
                RejectReason.TIMESTAMP_OUT_OF_RANGE);
        add(c, "skew correction lands in the future", track("\"timestamp\":\"2026-03-02T12:00:00Z\","
                + "\"sentAt\":\"2026-03-01T00:00:00Z\",\"receivedAt\":\"" + NOW + "\""), RejectReason.TIMESTAMP_OUT_OF_RANGE);
        // Field types
        add(c, "properties not an object", track("\"properties\":\"size=42\""), RejectReason.INVALID_FIELD_TYPE);
        add(c, "traits an array", "{\"type\":\"identify\",\"traits\":[1,2]," + IDS + "}", RejectReason.INVALID_FIELD_TYPE);
        add(c, "context a number", track("\"context\":5"), RejectReason.INVALID_FIELD_TYPE);
        // A sender may not forge the product's identity link (it would hold the user's segments back).
        add(c, "forged identity link", track("\"context\":{\"cohortflow_link\":{\"from\":\"a\",\"to\":\"u1\","
                + "\"linkId\":\"x\"}}"), RejectReason.RESERVED_FIELD);
        // Batches
        add(c, "batch not an array", "{\"batch\":{\"type\":\"track\"}}", RejectReason.INVALID_BATCH);
        add(c, "empty batch", "{\"batch\":[]}", RejectReason.INVALID_BATCH);
        add(c, "batch of a number", "{\"batch\":[7]}", RejectReason.NOT_AN_OBJECT);
        add(c, "batch with a bad call", "{\"batch\":[{\"type\":\"track\",\"messageId\":\"m\",\"anonymousId\":\"a\"}]}",
                RejectReason.MISSING_EVENT_NAME);
        // Webhook sources
        c.add(new Case("stripe event no rule maps", "stripe", bytes("{\"id\":\"evt_1\",\"type\":\"payout.paid\","
                + "\"created\":1772452800,\"data\":{\"object\":{\"metadata\":{\"user_id\":\"u1\"}}}}"),
                RejectReason.UNMAPPED_PAYLOAD));
        c.add(new Case("stripe event without id", "stripe", bytes("{\"type\":\"charge.succeeded\",\"created\":1772452800,"
                + "\"data\":{\"object\":{\"amount\":4900,\"metadata\":{\"user_id\":\"u1\"}}}}"), RejectReason.MISSING_MESSAGE_ID));
        c.add(new Case("stripe charge without customer", "stripe", bytes("{\"id\":\"evt_2\",\"type\":\"charge.succeeded\","
                + "\"created\":1772452800,\"data\":{\"object\":{\"amount\":4900}}}"), RejectReason.MISSING_ID));
        c.add(new Case("stripe created not a time", "stripe", bytes("{\"id\":\"evt_3\",\"type\":\"charge.succeeded\","
                + "\"created\":\"soon\",\"data\":{\"object\":{\"metadata\":{\"user_id\":\"u1\"}}}}"), RejectReason.INVALID_TIMESTAMP));
        c.add(new Case("hubspot without events", "hubspot", bytes("{\"portalId\":1}"), RejectReason.INVALID_BATCH));
        c.add(new Case("zendesk unknown ticket event", "zendesk", bytes("{\"id\":\"z1\",\"type\":\"ticket.merged\","
                + "\"time\":\"" + NOW + "\",\"detail\":{\"requester\":{\"external_id\":\"u1\"}}}"), RejectReason.UNMAPPED_PAYLOAD));
        c.add(new Case("salesforce contact without id or email", "salesforce", bytes("{\"event\":{\"type\":\"updated\","
                + "\"replayId\":9,\"createdDate\":\"" + NOW + "\"},\"sobject\":{\"FirstName\":\"A\"}}"), RejectReason.MISSING_ID));
        return c;
    }

    private static String track(String extra) {
        return "{\"type\":\"track\",\"event\":\"Product Viewed\"," + IDS + "," + extra + "}";
    }

    private static void add(List<Case> cases, String name, String payload, RejectReason reason) {
        cases.add(new Case(name, "web", bytes(payload), reason));
    }

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] withBytes(String text, int at, byte... replacement) {
        byte[] bytes = bytes(text);
        System.arraycopy(replacement, 0, bytes, at, replacement.length);
        return bytes;
    }
}
