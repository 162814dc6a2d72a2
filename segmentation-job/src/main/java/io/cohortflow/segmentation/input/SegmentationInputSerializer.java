package io.cohortflow.segmentation.input;

import io.cohortflow.jobs.types.ImmutableRecordSerializer;
import io.cohortflow.jobs.types.UnifiedEventSerializer;
import org.apache.flink.api.common.typeutils.SimpleTypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;

import java.io.IOException;

/**
 * The job's inputs on their way to the per-user function (the keyBy's shuffle): an event or a late event as
 * {@link UnifiedEventSerializer}'s binary after a tag byte; a decision, a handoff or an erasure (a few per link or
 * request) as {@link SegmentationInputCodec}'s JSON. Every event used to cross the shuffle as JSON: written by Jackson
 * after the source had just parsed it, and parsed again on the other side.
 *
 * <p>Nothing of this form is kept in state or on a topic: it is the wire between two operators of one job. (An
 * unaligned checkpoint would hold records in flight in it: upgrade from a savepoint, which is aligned.)
 */
public final class SegmentationInputSerializer extends ImmutableRecordSerializer<SegmentationInput> {
    private static final long serialVersionUID = 1L;
    public static final SegmentationInputSerializer INSTANCE = new SegmentationInputSerializer();

    private static final byte EVENT = 0;
    private static final byte LATE = 1;
    private static final byte OTHER_AS_JSON = 2;
    private static final SegmentationInputCodec JSON = new SegmentationInputCodec();

    private SegmentationInputSerializer() {
    }

    @Override
    public void serialize(SegmentationInput input, DataOutputView out) throws IOException {
        if (input.event() != null) {
            out.writeByte(EVENT);
            UnifiedEventSerializer.INSTANCE.serialize(input.event(), out);
        } else if (input.late() != null) {
            out.writeByte(LATE);
            UnifiedEventSerializer.INSTANCE.serialize(input.late(), out);
        } else {
            byte[] json = JSON.encode(input);
            out.writeByte(OTHER_AS_JSON);
            out.writeInt(json.length);
            out.write(json);
        }
    }

    @Override
    public SegmentationInput deserialize(DataInputView in) throws IOException {
        byte tag = in.readByte();
        return switch (tag) {
            case EVENT -> SegmentationInput.of(UnifiedEventSerializer.INSTANCE.deserialize(in));
            case LATE -> SegmentationInput.late(UnifiedEventSerializer.INSTANCE.deserialize(in));
            case OTHER_AS_JSON -> {
                byte[] json = new byte[in.readInt()];
                in.readFully(json);
                yield JSON.decode(json);
            }
            default -> throw new IOException("unknown input tag " + tag + ": the bytes are not a segmentation input's");
        };
    }

    @Override
    public TypeSerializerSnapshot<SegmentationInput> snapshotConfiguration() {
        return new Snapshot();
    }

    /** For Flink's reflective restore; there is nothing to configure. */
    public static final class Snapshot extends SimpleTypeSerializerSnapshot<SegmentationInput> {
        public Snapshot() {
            super(() -> INSTANCE);
        }
    }
}
