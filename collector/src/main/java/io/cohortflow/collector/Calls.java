package io.cohortflow.collector;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * What one request to the Tracking API carries, as the records events.raw gets: one per call, so that each call can
 * fail alone downstream (ingest judges every call and dead-letters a bad one with its reason).
 *
 * <ul>
 *   <li>{@code /v1/track}, {@code identify}, {@code page}, {@code screen}, {@code group}, {@code alias}: the body
 *       is one call; its {@code type} is the route's when it has none.</li>
 *   <li>{@code /v1/batch} and {@code /v1/import}: {@code {"batch": [call, ...], "sentAt", "context"}}. Each call
 *       gets the envelope's {@code sentAt} and {@code context} where it has none of its own (its own context keys
 *       win), so it reads the same alone.</li>
 *   <li>analytics.js's short routes: {@code /v1/t}, {@code i}, {@code p}, {@code s}, {@code g}, {@code a} and
 *       {@code b} (its batching dispatcher).</li>
 * </ul>
 * Each call's {@code receivedAt} is the collector's receive time. The write key never goes downstream. A record's
 * key is the call's anonymousId, else its userId: one device's calls share a partition and keep their order, as
 * ingest expects.
 */
final class Calls {
    static final Set<String> SINGLE = Set.of("track", "identify", "page", "screen", "group", "alias");
    static final Set<String> BATCH = Set.of("batch", "import");
    private static final ObjectMapper JSON = new ObjectMapper();

    /** One record for events.raw. */
    record Call(String key, byte[] payload) {
    }

    /** A request the collector refuses as a whole, with the reason for its 400. */
    static final class Refused extends Exception {
        Refused(String message) {
            super(message, null, false, false);
        }
    }

    private Calls() {
    }

    /** The body as JSON: an object, else refused. */
    static ObjectNode parse(byte[] body) throws Refused {
        JsonNode node;
        try {
            node = JSON.readTree(body);
        } catch (JsonProcessingException e) {
            throw new Refused("the body is not JSON: " + e.getOriginalMessage());
        } catch (java.io.IOException e) {
            throw new Refused("the body could not be read: " + e.getMessage());
        }
        if (!(node instanceof ObjectNode object)) {
            throw new Refused("the body must be a JSON object");
        }
        return object;
    }

    /** The body's own write key ({@code writeKey}), if it carries one. */
    static String writeKey(ObjectNode body) {
        JsonNode key = body.get("writeKey");
        return key != null && key.isTextual() ? key.asText() : null;
    }

    /** How many calls the body carries (for the rate limit). */
    static int count(String route, ObjectNode body) {
        return BATCH.contains(route) && body.get("batch") instanceof com.fasterxml.jackson.databind.node.ArrayNode batch
                ? batch.size() : 1;
    }

    /**
     * The records of a request to {@code route} received at {@code receivedAt} (epoch ms), which each call gets as its
     * {@code receivedAt}, whatever it said itself: the receive time is the collector's to set, as Segment's API sets
     * it, since ingest corrects device clocks with it.
     */
    static List<Call> split(String route, ObjectNode body, long receivedAt) throws Refused {
        String received = java.time.Instant.ofEpochMilli(receivedAt).toString();
        body.remove("writeKey");
        if (SINGLE.contains(route)) {
            if (!body.hasNonNull("type")) {
                body.put("type", route);
            }
            body.put("receivedAt", received);
            return List.of(call(body));
        }
        JsonNode batch = body.get("batch");
        if (batch == null || !batch.isArray()) {
            throw new Refused("a batch needs a \"batch\" array of calls");
        }
        JsonNode sentAt = body.get("sentAt");
        JsonNode context = body.get("context");
        List<Call> calls = new ArrayList<>(batch.size());
        for (JsonNode item : batch) {
            if (item instanceof ObjectNode call) {
                call.remove("writeKey");
                call.put("receivedAt", received);
                if (sentAt != null && !call.has("sentAt")) {
                    call.set("sentAt", sentAt);
                }
                if (context instanceof ObjectNode shared) {
                    if (call.get("context") instanceof ObjectNode own) {
                        ObjectNode merged = shared.deepCopy();
                        merged.setAll(own);
                        call.set("context", merged);
                    } else if (!call.has("context")) {
                        call.set("context", shared.deepCopy());
                    }
                }
                calls.add(call(call));
            } else {
                calls.add(new Call(null, bytes(item))); // not a call: ingest dead-letters it on its own
            }
        }
        return calls;
    }

    private static Call call(ObjectNode call) {
        return new Call(key(call), bytes(call));
    }

    private static String key(ObjectNode call) {
        for (String field : new String[] {"anonymousId", "userId"}) {
            JsonNode id = call.get(field);
            if (id != null && (id.isTextual() || id.isNumber()) && !id.asText().isBlank()) {
                return id.asText();
            }
        }
        return null;
    }

    private static byte[] bytes(JsonNode node) {
        try {
            return JSON.writeValueAsBytes(node);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * analytics.js (Analytics 2.0) posts to the first letter of the call's type ({@code /v1/t}, {@code /v1/p},
     * {@code /v1/i}, {@code /v1/g}, {@code /v1/a}) and, when it batches, to {@code /v1/b}; both spellings are the
     * same route here.
     */
    private static final java.util.Map<String, String> SHORT = java.util.Map.of("t", "track", "i", "identify",
            "p", "page", "s", "screen", "g", "group", "a", "alias", "b", "batch");

    /** The route's name, without a trailing slash, lower-case; null when it is not one of the API's. */
    static String route(String pathParam) {
        if (pathParam == null) {
            return null;
        }
        String route = pathParam.toLowerCase(java.util.Locale.ROOT);
        route = SHORT.getOrDefault(route, route);
        return SINGLE.contains(route) || BATCH.contains(route) ? route : null;
    }
}
