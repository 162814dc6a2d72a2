package io.cohortflow.testkit;

import io.cohortflow.simulator.Delivery;

import java.util.List;
import java.util.Map;

/** The dead-letter reason ingest must give for each kind of broken payload the simulator sends. */
public final class ExpectedRejections {
    private static final String PREFIX = "malformed:";
    private static final Map<String, String> REASON_BY_KIND = Map.ofEntries(
            Map.entry("truncated_json", "INVALID_JSON"), Map.entry("not_json", "INVALID_JSON"),
            Map.entry("non_utf8", "NOT_UTF8"), Map.entry("missing_ids", "MISSING_ID"),
            Map.entry("missing_message_id", "MISSING_MESSAGE_ID"), Map.entry("unknown_type", "UNKNOWN_TYPE"),
            Map.entry("track_without_event", "MISSING_EVENT_NAME"), Map.entry("unparsable_timestamp", "INVALID_TIMESTAMP"),
            Map.entry("future_timestamp", "TIMESTAMP_OUT_OF_RANGE"), Map.entry("oversized", "OVERSIZED"),
            Map.entry("json_array", "NOT_AN_OBJECT"), Map.entry("properties_not_object", "INVALID_FIELD_TYPE"));

    private ExpectedRejections() {
    }

    /** The expected reason of every simulated malformed delivery in {@code deliveries}, in order. */
    public static List<String> of(List<Delivery> deliveries) {
        return deliveries.stream().filter(Delivery::isMalformed).map(ExpectedRejections::reasonFor).toList();
    }

    static String reasonFor(Delivery delivery) {
        String kind = delivery.kind().substring(PREFIX.length());
        String reason = REASON_BY_KIND.get(kind);
        if (reason == null) {
            throw new IllegalArgumentException("no expected reason for simulated kind " + kind);
        }
        return reason;
    }
}
