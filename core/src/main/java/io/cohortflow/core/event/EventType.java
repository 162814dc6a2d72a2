package io.cohortflow.core.event;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;

import java.util.Locale;
import java.util.Optional;

/** The Segment-spec call types. */
public enum EventType {
    TRACK,
    IDENTIFY,
    PAGE,
    SCREEN,
    GROUP,
    ALIAS;

    /** The lower-case name used on the wire ("track", "identify", ...). */
    @JsonValue
    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Parses a wire name for JSON decoding; rejects unknown names. */
    @JsonCreator
    public static EventType parse(String value) {
        return fromWire(value).orElseThrow(() -> new IllegalArgumentException("unknown event type: " + value));
    }

    /** Parses a wire name, case-insensitively; empty when it is not a known call type. */
    public static Optional<EventType> fromWire(String value) {
        if (value == null) {
            return Optional.empty();
        }
        for (EventType type : values()) {
            if (type.wireName().equalsIgnoreCase(value.trim())) {
                return Optional.of(type);
            }
        }
        return Optional.empty();
    }
}
