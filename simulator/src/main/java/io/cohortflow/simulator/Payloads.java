package io.cohortflow.simulator;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.UUID;

/** Serialises calls as Segment-spec JSON, and breaks some of them on purpose. */
final class Payloads {
    /**
     * Map keys sorted: properties are often immutable maps, whose iteration order is salted per JVM, and the
     * simulator promises the same bytes for a seed in any JVM.
     */
    private static final ObjectMapper MAPPER = com.fasterxml.jackson.databind.json.JsonMapper.builder()
            .enable(com.fasterxml.jackson.databind.SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS).build();

    /** The kinds of malformed payload the simulator sends; ingest must dead-letter each with a reason. */
    static final List<String> MALFORMED_KINDS = List.of("truncated_json", "not_json", "non_utf8", "missing_ids",
            "missing_message_id", "unknown_type", "track_without_event", "unparsable_timestamp", "future_timestamp",
            "oversized", "json_array", "properties_not_object");

    private Payloads() {
    }

    /** SDK sources send Segment-spec calls; the others send their own webhook shapes. */
    static boolean isSdkSource(String source) {
        return source.equals("web") || source.equals("ios") || source.equals("android");
    }

    /** The payload as its source sends it. */
    static ObjectNode json(SimEvent e, String messageId, long deliveredAt) {
        return isSdkSource(e.source()) ? segmentJson(e, messageId, deliveredAt) : webhookJson(e, messageId);
    }

    /**
     * Webhook payloads in the shape of Stripe, Zendesk, HubSpot and Salesforce deliveries, as conf/sources/*.yaml
     * expect them. Webhooks carry no receive time: the collector's {@code received-at} header does.
     */
    static ObjectNode webhookJson(SimEvent e, String messageId) {
        ObjectNode node = MAPPER.createObjectNode();
        String iso = Instant.ofEpochMilli(e.trueTime()).toString();
        Object email = e.traits().get("email");
        switch (e.source() + ":" + e.name()) {
            case "stripe:Charge Succeeded", "stripe:Subscription Renewed" -> {
                boolean charge = e.name().equals("Charge Succeeded");
                node.put("id", "evt_" + messageId.replace("-", "").substring(0, 24));
                node.put("object", "event");
                node.put("type", charge ? "charge.succeeded" : "invoice.paid");
                node.put("created", e.trueTime() / 1000);
                ObjectNode object = node.putObject("data").putObject("object");
                object.put("id", (charge ? "ch_" : "in_") + messageId.substring(0, 8));
                long cents = Math.round(((Number) e.properties().get("amount")).doubleValue() * 100);
                object.put(charge ? "amount" : "amount_paid", cents);
                object.put("currency", "usd");
                if (!charge) {
                    object.putObject("lines").putArray("data").addObject().putObject("plan")
                            .put("nickname", String.valueOf(e.properties().get("plan")));
                }
                object.putObject("metadata").put("user_id", e.userId());
            }
            case "zendesk:Ticket Created" -> {
                node.put("id", "zd-" + messageId);
                node.put("type", "ticket.created");
                node.put("time", iso);
                ObjectNode detail = node.putObject("detail");
                detail.set("id", MAPPER.valueToTree(e.properties().get("ticket_id")));
                detail.put("priority", String.valueOf(e.properties().get("priority")));
                detail.put("subject", String.valueOf(e.properties().get("subject")));
                ObjectNode requester = detail.putObject("requester");
                requester.put("external_id", e.userId());
                if (email != null) {
                    requester.put("email", email.toString());
                }
            }
            case "hubspot:Email Opened", "hubspot:Email Link Clicked" -> {
                node.put("portalId", 4242);
                ObjectNode event = node.putArray("events").addObject();
                event.put("eventId", messageId);
                event.put("eventType", e.name().equals("Email Opened") ? "email.open" : "email.click");
                event.put("occurredAt", e.trueTime());
                event.putObject("contact").put("userId", e.userId());
                event.put("campaign", String.valueOf(e.properties().get("campaign")));
                if (e.properties().containsKey("link")) {
                    event.put("url", String.valueOf(e.properties().get("link")));
                }
            }
            case "salesforce:Contact Created" -> {
                ObjectNode event = node.putObject("event");
                event.put("type", "created");
                event.put("replayId", messageId);
                event.put("createdDate", iso);
                ObjectNode sobject = node.putObject("sobject");
                sobject.put("External_Id__c", e.userId());
                if (email != null) {
                    sobject.put("Email", email.toString());
                }
                sobject.put("FirstName", String.valueOf(e.traits().get("name")));
                sobject.put("Lifecycle_Stage__c", "trial");
            }
            default -> throw new IllegalArgumentException("no webhook shape for " + e.source() + ":" + e.name());
        }
        return node;
    }

    static ObjectNode segmentJson(SimEvent e, String messageId, long deliveredAt) {
        ObjectNode node = MAPPER.createObjectNode();
        node.put("type", e.type());
        switch (e.type()) {
            case "track" -> node.put("event", e.name());
            case "page", "screen" -> node.put("name", e.name());
            default -> { }
        }
        node.put("messageId", messageId);
        if (e.anonymousId() != null) {
            node.put("anonymousId", e.anonymousId());
        }
        if (e.userId() != null) {
            node.put("userId", e.userId());
        }
        if (e.previousId() != null) {
            node.put("previousId", e.previousId());
        }
        // Device clocks may be off: timestamp and sentAt carry the skew, receivedAt (the collector's clock) does not.
        node.put("timestamp", Instant.ofEpochMilli(e.trueTime() + e.clockSkewMs()).toString());
        if (e.anonymousId() != null) {
            node.put("sentAt", Instant.ofEpochMilli(deliveredAt - 40 + e.clockSkewMs()).toString());
        }
        node.put("receivedAt", Instant.ofEpochMilli(deliveredAt).toString());
        if (!e.properties().isEmpty()) {
            node.set("properties", MAPPER.valueToTree(e.properties()));
        }
        if (!e.traits().isEmpty()) {
            node.set("traits", MAPPER.valueToTree(e.traits()));
        }
        node.set("context", MAPPER.valueToTree(context(e)));
        return node;
    }

    private static Map<String, Object> context(SimEvent e) {
        return switch (e.source()) {
            case "web" -> Map.of("library", Map.of("name", "analytics.js", "version", "5.2.0"),
                    "userAgent", "Mozilla/5.0 (X11; Linux x86_64) Chrome/126.0", "locale", "en-US");
            case "ios" -> Map.of("library", Map.of("name", "analytics-ios", "version", "4.1.8"),
                    "os", Map.of("name", "iOS", "version", "18.1"), "device", Map.of("type", "ios"));
            case "android" -> Map.of("library", Map.of("name", "analytics-android", "version", "4.11.3"),
                    "os", Map.of("name", "Android", "version", "15"), "device", Map.of("type", "android"));
            default -> Map.of("library", Map.of("name", e.source() + "-webhook-relay", "version", "1.0.0"));
        };
    }

    static byte[] bytes(ObjectNode node) {
        try {
            return MAPPER.writeValueAsBytes(node);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    static String messageId(SplittableRandom rng) {
        return new UUID(rng.nextLong(), rng.nextLong()).toString();
    }

    /** A broken variant of a valid payload. */
    static byte[] malformed(String kind, ObjectNode valid, SplittableRandom rng) {
        ObjectNode node = valid.deepCopy();
        return switch (kind) {
            case "truncated_json" -> {
                byte[] whole = bytes(node);
                yield java.util.Arrays.copyOf(whole, whole.length / 2);
            }
            case "not_json" -> "event=Product Viewed&user=someone".getBytes(StandardCharsets.UTF_8);
            case "non_utf8" -> {
                byte[] whole = bytes(node);
                whole[whole.length / 3] = (byte) 0xC3;
                whole[whole.length / 3 + 1] = (byte) 0x28; // an invalid UTF-8 continuation
                yield whole;
            }
            case "missing_ids" -> {
                node.remove(List.of("anonymousId", "userId"));
                yield bytes(node);
            }
            case "missing_message_id" -> {
                node.remove("messageId");
                yield bytes(node);
            }
            case "unknown_type" -> {
                node.put("type", "purchase");
                yield bytes(node);
            }
            case "track_without_event" -> {
                node.put("type", "track");
                node.remove(List.of("event", "name"));
                yield bytes(node);
            }
            case "unparsable_timestamp" -> {
                node.put("timestamp", "yesterday at noon");
                yield bytes(node);
            }
            case "future_timestamp" -> {
                node.put("timestamp", "2099-01-01T00:00:00Z");
                node.remove("sentAt");
                node.remove("receivedAt");
                yield bytes(node);
            }
            case "oversized" -> {
                node.with("properties").put("blob", "x".repeat(40_000));
                yield bytes(node);
            }
            case "json_array" -> ("[" + new String(bytes(node), StandardCharsets.UTF_8) + "]")
                    .getBytes(StandardCharsets.UTF_8);
            case "properties_not_object" -> {
                node.put("properties", "size=42");
                yield bytes(node);
            }
            default -> throw new IllegalArgumentException("unknown malformed kind " + kind);
        };
    }
}
