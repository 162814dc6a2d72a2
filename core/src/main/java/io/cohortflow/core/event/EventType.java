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

    private static final EventType[] ALL = values();

    private final String wireName = name().toLowerCase(Locale.ROOT);

    /** The lower-case name used on the wire ("track", "identify", ...). */
    @JsonValue
    public String wireName() {
        return wireName;
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
        // Every event is decoded through here: the wire's own spelling first, without a copy of the text.
        for (EventType type : ALL) {
            if (type.wireName.equals(value)) {
                return Optional.of(type);
            }
        }
        String trimmed = value.trim();
        for (EventType type : ALL) {
            if (type.wireName.equalsIgnoreCase(trimmed)) {
                return Optional.of(type);
            }
        }
        return Optional.empty();
    }
}
