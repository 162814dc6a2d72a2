package io.cohortflow.jobs.types;

import io.cohortflow.core.codec.JsonCodec;
import io.cohortflow.core.event.DeadLetterCodec;
import io.cohortflow.core.event.DeadLetter;
import io.cohortflow.core.segment.SegmentChange;
import io.cohortflow.core.segment.SegmentChangeCodec;
import org.apache.flink.api.common.serialization.SerializerConfig;
import org.apache.flink.api.common.typeutils.TypeSerializer;

import java.util.Objects;

/** Type information for a core record carried as JSON; see {@link JsonRecordSerializer}. */
public final class JsonRecordTypeInfo<T> extends OpaqueTypeInfo<T> {
    private static final long serialVersionUID = 1L;

    public static final JsonRecordTypeInfo<DeadLetter> DEAD_LETTER = new JsonRecordTypeInfo<>(new DeadLetterCodec());
    public static final JsonRecordTypeInfo<SegmentChange> SEGMENT_CHANGE = new JsonRecordTypeInfo<>(new SegmentChangeCodec());

    private final JsonCodec<T> codec;

    public JsonRecordTypeInfo(JsonCodec<T> codec) {
        super(Objects.requireNonNull(codec, "codec").type());
        this.codec = codec;
    }

    @Override
    public TypeSerializer<T> createSerializer(SerializerConfig config) {
        return new JsonRecordSerializer<>(codec);
    }

    @Override
    public String toString() {
        return "Json<" + codec.type().getSimpleName() + ">";
    }

    /** Equal when the codecs are of one class (a record type can have more than one JSON form). */
    @Override
    public boolean equals(Object obj) {
        return obj instanceof JsonRecordTypeInfo<?> other && other.codec.getClass() == codec.getClass();
    }

    @Override
    public int hashCode() {
        return codec.getClass().hashCode();
    }
}
