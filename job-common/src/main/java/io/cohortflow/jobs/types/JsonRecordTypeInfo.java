package io.cohortflow.jobs.types;

import io.cohortflow.core.codec.JsonCodec;
import io.cohortflow.core.event.DeadLetterCodec;
import io.cohortflow.core.event.DeadLetter;
import io.cohortflow.core.segment.SegmentChange;
import io.cohortflow.core.segment.SegmentChangeCodec;
import org.apache.flink.api.common.serialization.SerializerConfig;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeutils.TypeSerializer;

import java.util.Objects;

/** Type information for a core record carried as JSON; see {@link JsonRecordSerializer}. */
public final class JsonRecordTypeInfo<T> extends TypeInformation<T> {
    private static final long serialVersionUID = 1L;

    public static final JsonRecordTypeInfo<DeadLetter> DEAD_LETTER = new JsonRecordTypeInfo<>(new DeadLetterCodec());
    public static final JsonRecordTypeInfo<SegmentChange> SEGMENT_CHANGE = new JsonRecordTypeInfo<>(new SegmentChangeCodec());

    private final JsonCodec<T> codec;

    public JsonRecordTypeInfo(JsonCodec<T> codec) {
        this.codec = Objects.requireNonNull(codec, "codec");
    }

    @Override
    public boolean isBasicType() {
        return false;
    }

    @Override
    public boolean isTupleType() {
        return false;
    }

    @Override
    public int getArity() {
        return 1;
    }

    @Override
    public int getTotalFields() {
        return 1;
    }

    @Override
    public Class<T> getTypeClass() {
        return codec.type();
    }

    @Override
    public boolean isKeyType() {
        return false;
    }

    @Override
    public TypeSerializer<T> createSerializer(SerializerConfig config) {
        return new JsonRecordSerializer<>(codec);
    }

    @Override
    public String toString() {
        return "Json<" + codec.type().getSimpleName() + ">";
    }

    @Override
    public boolean equals(Object obj) {
        return obj instanceof JsonRecordTypeInfo<?> other && other.codec.getClass() == codec.getClass();
    }

    @Override
    public int hashCode() {
        return codec.getClass().hashCode();
    }

    @Override
    public boolean canEqual(Object obj) {
        return obj instanceof JsonRecordTypeInfo;
    }
}
