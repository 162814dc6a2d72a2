package io.cohortflow.activation;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.cohortflow.core.segment.ChangeType;
import io.cohortflow.core.segment.SegmentChange;
import io.cohortflow.core.segment.SegmentProfile;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The bodies destinations get, one per batch.
 *
 * <ul>
 *   <li>{@code segment}: a Segment batch ({@code {"batch": [...]}}) with, per change, an identify setting the
 *       audience's trait to true (ENTER) or false (EXIT), and a track "Audience Entered" or "Audience Exited" whose
 *       properties carry {@code audience_key}, the same boolean, and the profile's products (the cart's items, then
 *       the last viewed), as Engage sends audiences to its destinations. {@code context.personas} names the
 *       computation. Hashed contact details go in the identify's traits. Each message's {@code messageId} is the
 *       change id with a suffix, so a destination that dedupes by messageId (Segment does) drops redelivered ones.</li>
 *   <li>{@code webhook}: {@code {"changes": [...]}}, each the change and a {@code profile} object with the parts the
 *       destination selected.</li>
 * </ul>
 */
public final class Payloads {
    private static final ObjectMapper JSON = JsonMapper.builder().build();

    private Payloads() {
    }

    public static byte[] body(Destination destination, List<Activation> batch) {
        Map<String, Object> body = new LinkedHashMap<>();
        if (destination.format() == Destination.Format.SEGMENT) {
            List<Object> messages = new ArrayList<>();
            for (Activation activation : batch) {
                messages.add(identify(activation));
                messages.add(track(activation));
            }
            body.put("batch", messages);
        } else {
            body.put("changes", batch.stream().map(a -> webhook(destination, a)).toList());
        }
        try {
            return JSON.writeValueAsBytes(body);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot encode a delivery to " + destination.id(), e);
        }
    }

    private static Map<String, Object> identify(Activation activation) {
        SegmentChange change = activation.change();
        Map<String, Object> traits = new LinkedHashMap<>();
        traits.put(change.segmentId(), change.type() == ChangeType.ENTER);
        Map<String, Object> profileTraits = traits(activation.profile());
        for (String contact : List.of("email_sha256", "phone_sha256")) {
            if (profileTraits.get(contact) != null) {
                traits.put(contact, profileTraits.get(contact));
            }
        }
        Map<String, Object> message = message("identify", change, "-identify");
        message.put("traits", traits);
        return message;
    }

    private static Map<String, Object> track(Activation activation) {
        SegmentChange change = activation.change();
        boolean entered = change.type() == ChangeType.ENTER;
        Map<String, Object> properties = new LinkedHashMap<>();
        properties.put("audience_key", change.segmentId());
        properties.put("audience_name", change.segmentName());
        properties.put(change.segmentId(), entered);
        properties.put("cause", change.cause().kind() + " " + change.cause().id()
                + (change.cause().version() == null ? "" : " " + change.cause().version()));
        Map<String, Object> traits = traits(activation.profile());
        List<Object> products = new ArrayList<>();
        for (String part : List.of("cart_items", "viewed_products")) {
            if (traits.get(part) instanceof List<?> items) {
                for (Object item : items) {
                    if (item instanceof Map<?, ?> product && products.stream()
                            .noneMatch(p -> ((Map<?, ?>) p).get("product_id").equals(product.get("product_id")))) {
                        products.add(product);
                    }
                }
            }
        }
        if (!products.isEmpty()) {
            properties.put("products", products);
        }
        Map<String, Object> message = message("track", change, "-track");
        message.put("event", entered ? "Audience Entered" : "Audience Exited");
        message.put("properties", properties);
        return message;
    }

    private static Map<String, Object> message(String type, SegmentChange change, String suffix) {
        Map<String, Object> message = new LinkedHashMap<>();
        message.put("type", type);
        message.put("userId", change.userId());
        message.put("messageId", change.changeId() + suffix);
        message.put("timestamp", Instant.ofEpochMilli(change.eventTime()).toString());
        message.put("context", Map.of("personas", Map.of("computation_class", "audience",
                "computation_key", change.segmentId())));
        return message;
    }

    private static Map<String, Object> webhook(Destination destination, Activation activation) {
        SegmentChange change = activation.change();
        Map<String, Object> item = new LinkedHashMap<>();
        item.put("changeId", change.changeId());
        item.put("userId", change.userId());
        item.put("segmentId", change.segmentId());
        item.put("segmentName", change.segmentName());
        item.put("type", change.type().name());
        item.put("eventTime", Instant.ofEpochMilli(change.eventTime()).toString());
        item.put("cause", change.cause());
        item.put("model", change.model());
        SegmentProfile profile = activation.profile();
        if (!destination.profileFields().isEmpty()) {
            Map<String, Object> selected = new LinkedHashMap<>();
            if (profile != null) {
                for (String field : destination.profileFields()) {
                    selected.put(field, switch (field) {
                        case "traits" -> profile.traits();
                        case "scores" -> profile.scores();
                        case "features" -> profile.features();
                        case "segments" -> profile.segments();
                        default -> profile.persona();
                    });
                }
                selected.put("asOf", Instant.ofEpochMilli(profile.asOf()).toString());
            }
            item.put("profile", selected);
        }
        return item;
    }

    private static Map<String, Object> traits(SegmentProfile profile) {
        return profile == null ? Map.of() : profile.traits();
    }
}
