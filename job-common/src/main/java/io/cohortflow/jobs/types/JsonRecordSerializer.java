package io.cohortflow.jobs.types;

import io.cohortflow.core.codec.JsonCodec;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;

import java.io.IOException;
import java.util.Objects;

/**
 * Serializes an immutable core record as length-prefixed JSON, through the record's {@link JsonCodec}.
 *
 * <p>Why not Flink's POJO serializer: the records carry JSON-valued maps ({@code Map<String, Object>}), which
 * Flink could only hand to Kryo, and the jobs run with generic types disabled. JSON is also the records' wire
 * format on Kafka, so there is one encoding to evolve (new optional fields are tolerated on read).
 */
public final class JsonRecordSerializer<T> extends TypeSerializer<T> {
    private static final long serialVersionUID = 1L;

    private final JsonCodec<T> codec;

    public JsonRecordSerializer(JsonCodec<T> codec) {
        this.codec = Objects.requireNonNull(codec, "codec");
    }

    JsonCodec<T> codec() {
        return codec;
    }

    @Override
    public boolean isImmutableType() {
        return true;
    }

    @Override
    public TypeSerializer<T> duplicate() {
        return this; // stateless: the codec's mapper is thread-safe
    }

    @Override
    public T createInstance() {
        return null;
    }

    @Override
    public T copy(T from) {
        return from; // immutable records
    }

    @Override
    public T copy(T from, T reuse) {
        return from;
    }

    @Override
    public int getLength() {
        return -1;
    }

    @Override
    public void serialize(T record, DataOutputView target) throws IOException {
        byte[] bytes = codec.encode(record);
        target.writeInt(bytes.length);
        target.write(bytes);
    }

    @Override
    public T deserialize(DataInputView source) throws IOException {
        byte[] bytes = new byte[source.readInt()];
        source.readFully(bytes);
        return codec.decode(bytes);
    }

    @Override
    public T deserialize(T reuse, DataInputView source) throws IOException {
        return deserialize(source);
    }

    @Override
    public void copy(DataInputView source, DataOutputView target) throws IOException {
        int length = source.readInt();
        target.writeInt(length);
        target.write(source, length);
    }

    @Override
    public boolean equals(Object obj) {
        return obj instanceof JsonRecordSerializer<?> other && other.codec.getClass() == codec.getClass();
    }

    @Override
    public int hashCode() {
        return codec.getClass().hashCode();
    }

    @Override
    public TypeSerializerSnapshot<T> snapshotConfiguration() {
        return new JsonRecordSerializerSnapshot<>(codec);
    }
}
