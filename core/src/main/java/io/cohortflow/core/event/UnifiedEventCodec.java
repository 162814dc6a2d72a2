package io.cohortflow.core.event;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import io.cohortflow.core.codec.JsonCodec;
import io.cohortflow.core.codec.JsonValues;

import java.io.IOException;
import java.util.Map;

/**
 * The JSON form of {@link UnifiedEvent} on events.unified. Field names follow the Segment spec (camelCase).
 *
 * <p>Events are read through Jackson's parser directly, field by field, not through the object mapper's record
 * deserializer: the segmentation job reads every event, and the mapper's reading took a third of the per-event pass
 * of {@code HotPathBenchmark.enginePass} (JFR; the record built through its creator's buffer, a deserializer looked
 * up for every map value). {@code HotPathBenchmark.decodeEvent} against {@code decodeEventByMapper} measures the two.
 * The values read are the mapper's: {@code UnifiedEventCodecTest} holds them to it, to each value's Java type, over
 * random events. What this reader does not take as the mapper would (a field repeated, a number written as text, a
 * type of token a field does not have) is read by the mapper, which gives its value or its error. Writing stays the
 * mapper's: a writer of its own measured no faster (a median of 1.01× the mapper's speed over 20 alternated rounds).
 */
public final class UnifiedEventCodec extends JsonCodec<UnifiedEvent> {
    private static final long serialVersionUID = 1L;

    public UnifiedEventCodec() {
        super(UnifiedEvent.class);
    }

    @Override
    public UnifiedEvent decode(byte[] bytes) {
        return decodeStreaming(bytes, UnifiedEventCodec::read);
    }

    /** The streaming reader's event, or null where it hands the bytes to the mapper (for tests). */
    UnifiedEvent readWithoutMapper(byte[] bytes) {
        return readStreaming(bytes, UnifiedEventCodec::read);
    }

    // The fields in the record's order, as bits of the set of those read.
    private static final int MESSAGE_ID = 1;
    private static final int TYPE = 1 << 1;
    private static final int EVENT = 1 << 2;
    private static final int ANONYMOUS_ID = 1 << 3;
    private static final int USER_ID = 1 << 4;
    private static final int RESOLVED_ID = 1 << 5;
    private static final int TIMESTAMP = 1 << 6;
    private static final int SENT_AT = 1 << 7;
    private static final int RECEIVED_AT = 1 << 8;
    private static final int SOURCE = 1 << 9;
    private static final int PREVIOUS_ID = 1 << 10;
    private static final int PROPERTIES = 1 << 11;
    private static final int TRAITS = 1 << 12;
    private static final int CONTEXT = 1 << 13;

    /** The event, or null (or a throw) for the mapper to read it: see the class comment. */
    private static UnifiedEvent read(JsonParser in) throws IOException {
        if (in.nextToken() != JsonToken.START_OBJECT) {
            return null;
        }
        String messageId = null;
        EventType type = null;
        String event = null;
        String anonymousId = null;
        String userId = null;
        String resolvedId = null;
        long timestamp = 0; // a missing number is 0 to the mapper too
        Long sentAt = null;
        long receivedAt = 0;
        String source = null;
        String previousId = null;
        Map<String, Object> properties = null;
        Map<String, Object> traits = null;
        Map<String, Object> context = null;
        int seen = 0;
        String name;
        while ((name = in.nextFieldName()) != null) {
            in.nextToken();
            int field;
            switch (name) {
                case "messageId" -> {
                    field = MESSAGE_ID;
                    messageId = text(in);
                }
                case "type" -> {
                    field = TYPE;
                    String wire = text(in);
                    type = wire == null ? null : EventType.fromWire(wire).orElseThrow(JsonValues.NotMine::new);
                }
                case "event" -> {
                    field = EVENT;
                    event = text(in);
                }
                case "anonymousId" -> {
                    field = ANONYMOUS_ID;
                    anonymousId = text(in);
                }
                case "userId" -> {
                    field = USER_ID;
                    userId = text(in);
                }
                case "resolvedId" -> {
                    field = RESOLVED_ID;
                    resolvedId = text(in);
                }
                case "timestamp" -> {
                    field = TIMESTAMP;
                    timestamp = whole(in);
                }
                case "sentAt" -> {
                    field = SENT_AT;
                    sentAt = in.currentToken() == JsonToken.VALUE_NULL ? null : whole(in);
                }
                case "receivedAt" -> {
                    field = RECEIVED_AT;
                    receivedAt = whole(in);
                }
                case "source" -> {
                    field = SOURCE;
                    source = text(in);
                }
                case "previousId" -> {
                    field = PREVIOUS_ID;
                    previousId = text(in);
                }
                case "properties" -> {
                    field = PROPERTIES;
                    properties = object(in);
                }
                case "traits" -> {
                    field = TRAITS;
                    traits = object(in);
                }
                case "context" -> {
                    field = CONTEXT;
                    context = object(in);
                }
                default -> {
                    field = 0; // a field of a newer writer: skipped, as the mapper skips it
                    in.skipChildren();
                }
            }
            if ((seen & field) != 0) {
                return null; // repeated: the mapper's rule for which one counts
            }
            seen |= field;
        }
        if (in.currentToken() != JsonToken.END_OBJECT) {
            return null;
        }
        return new UnifiedEvent(messageId, type, event, anonymousId, userId, resolvedId, timestamp, sentAt,
                receivedAt, source, previousId, properties, traits, context);
    }

    private static String text(JsonParser in) throws IOException {
        return switch (in.currentToken()) {
            case VALUE_STRING -> in.getText();
            case VALUE_NULL -> null;
            default -> throw new JsonValues.NotMine(); // the mapper coerces a number or a boolean to text
        };
    }

    private static long whole(JsonParser in) throws IOException {
        if (in.currentToken() != JsonToken.VALUE_NUMBER_INT || in.getNumberType() == JsonParser.NumberType.BIG_INTEGER) {
            throw new JsonValues.NotMine(); // text, a fraction, null or out of range: the mapper's rules
        }
        return in.getLongValue();
    }

    private static Map<String, Object> object(JsonParser in) throws IOException {
        return switch (in.currentToken()) {
            case START_OBJECT -> JsonValues.readObject(in);
            case VALUE_NULL -> null;
            default -> throw new JsonValues.NotMine();
        };
    }
}
