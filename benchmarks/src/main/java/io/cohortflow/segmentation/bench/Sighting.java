package io.cohortflow.segmentation.bench;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import io.cohortflow.core.event.UnifiedEvent;
import io.cohortflow.core.event.UnifiedEventBinary;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/**
 * The three top-level fields {@link LatencyBenchmark}'s watchers need of a record on an output topic (whose event it
 * is and, for a change, its segment), read by Jackson's streaming parser: the watchers decoded every whole unified
 * event and change into objects, in the JVM the jobs they measure run in. A unified event in its binary form, which
 * ingest writes, is decoded whole ({@link #ofUnified}).
 *
 * @param user    the text of the user field, or null
 * @param time    the number of the time field, or 0
 * @param segment the text of the segment field, or null (also when none is asked for)
 */
record Sighting(String user, long time, String segment) {
    private static final JsonFactory JSON = new JsonFactory();

    /** A record of events.unified: its resolved id and event time, of either form ({@link UnifiedEventBinary}). */
    static Sighting ofUnified(byte[] record) {
        if (!UnifiedEventBinary.isBinary(record)) {
            return of(record, "resolvedId", "timestamp", null);
        }
        UnifiedEvent event = UnifiedEventBinary.decode(record);
        return new Sighting(event.resolvedId(), event.timestamp(), null);
    }

    static Sighting of(byte[] json, String userField, String timeField, String segmentField) {
        String user = null;
        long time = 0;
        String segment = null;
        try (JsonParser parser = JSON.createParser(json)) {
            if (parser.nextToken() != JsonToken.START_OBJECT) {
                return new Sighting(null, 0, null);
            }
            while (parser.nextToken() == JsonToken.FIELD_NAME) {
                String name = parser.currentName();
                JsonToken value = parser.nextToken();
                if (name.equals(userField) && value == JsonToken.VALUE_STRING) {
                    user = parser.getText();
                } else if (name.equals(timeField) && value == JsonToken.VALUE_NUMBER_INT) {
                    time = parser.getLongValue();
                } else if (name.equals(segmentField) && value == JsonToken.VALUE_STRING) {
                    segment = parser.getText();
                } else {
                    parser.skipChildren();
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("not a JSON object: " + new String(json, StandardCharsets.UTF_8), e);
        }
        return new Sighting(user, time, segment);
    }
}
