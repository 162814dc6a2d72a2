package io.cohortflow.core.segment;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.io.SerializedString;
import io.cohortflow.core.codec.JsonCodec;

import java.io.IOException;

/**
 * The JSON form of {@link SegmentChange} on segments.changes.
 *
 * <p>Encoding writes the fields through Jackson's generator itself, in the record's order ({@link JsonWriting}), as
 * the profile's codec does: the segmentation job writes a change for every membership that moves, and the object
 * mapper's bean serializer was 13% of its keyed task in JFR at P2's pace (a change per event). The bytes are the
 * mapper's: {@code SegmentChangeTest} holds the two to the same output over the changes the engine publishes.
 */
public final class SegmentChangeCodec extends JsonCodec<SegmentChange> {
    private static final long serialVersionUID = 1L;
    private static final SerializedString CHANGE_ID = new SerializedString("changeId");
    private static final SerializedString USER_ID = new SerializedString("userId");
    private static final SerializedString SEGMENT_ID = new SerializedString("segmentId");
    private static final SerializedString SEGMENT_NAME = new SerializedString("segmentName");
    private static final SerializedString TYPE = new SerializedString("type");
    private static final SerializedString EVENT_TIME = new SerializedString("eventTime");
    private static final SerializedString PROCESSING_TIME = new SerializedString("processingTime");
    private static final SerializedString CAUSE = new SerializedString("cause");
    private static final SerializedString KIND = new SerializedString("kind");
    private static final SerializedString ID = new SerializedString("id");
    private static final SerializedString VERSION = new SerializedString("version");
    private static final SerializedString FEATURES = new SerializedString("features");
    private static final SerializedString MODEL = new SerializedString("model");

    public SegmentChangeCodec() {
        super(SegmentChange.class);
    }

    @Override
    public byte[] encode(SegmentChange change) {
        try {
            return JsonWriting.bytes(MAPPER, out -> {
                string(out, CHANGE_ID, change.changeId());
                string(out, USER_ID, change.userId());
                string(out, SEGMENT_ID, change.segmentId());
                string(out, SEGMENT_NAME, change.segmentName());
                string(out, TYPE, change.type().name());
                out.writeFieldName(EVENT_TIME);
                out.writeNumber(change.eventTime());
                out.writeFieldName(PROCESSING_TIME);
                out.writeNumber(change.processingTime());
                out.writeFieldName(CAUSE);
                out.writeStartObject();
                string(out, KIND, change.cause().kind());
                string(out, ID, change.cause().id());
                string(out, VERSION, change.cause().version());
                out.writeEndObject();
                JsonWriting.field(MAPPER, out, FEATURES, change.features());
                string(out, MODEL, change.model());
            });
        } catch (JsonWriting.NotMine e) {
            return super.encode(change);
        } catch (IOException e) {
            throw new IllegalStateException("cannot encode SegmentChange", e);
        }
    }

    /** A string field (null written as null, as the generator writes it). */
    private static void string(JsonGenerator out, SerializedString name, String value) throws IOException {
        out.writeFieldName(name);
        if (value == null) {
            out.writeNull();
        } else {
            out.writeString(value);
        }
    }
}
