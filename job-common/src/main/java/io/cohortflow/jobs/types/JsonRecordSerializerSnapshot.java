package io.cohortflow.jobs.types;

import io.cohortflow.core.codec.JsonCodec;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.typeutils.TypeSerializerSchemaCompatibility;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;
import org.apache.flink.util.InstantiationUtil;

import java.io.IOException;

/** Remembers which codec wrote the state, by class name, so a restore re-creates the same serializer. */
public final class JsonRecordSerializerSnapshot<T> implements TypeSerializerSnapshot<T> {
    private static final int VERSION = 1;

    private JsonCodec<T> codec;

    /** For Flink's reflective restore. */
    public JsonRecordSerializerSnapshot() {
    }

    JsonRecordSerializerSnapshot(JsonCodec<T> codec) {
        this.codec = codec;
    }

    @Override
    public int getCurrentVersion() {
        return VERSION;
    }

    @Override
    public void writeSnapshot(DataOutputView out) throws IOException {
        out.writeUTF(codec.getClass().getName());
    }

    @Override
    @SuppressWarnings("unchecked")
    public void readSnapshot(int readVersion, DataInputView in, ClassLoader userCodeClassLoader) throws IOException {
        String className = in.readUTF();
        try {
            Class<?> codecClass = Class.forName(className, true, userCodeClassLoader);
            codec = (JsonCodec<T>) InstantiationUtil.instantiate(codecClass);
        } catch (ClassNotFoundException e) {
            throw new IOException("codec class of restored state not found: " + className, e);
        }
    }

    @Override
    public TypeSerializer<T> restoreSerializer() {
        return new JsonRecordSerializer<>(codec);
    }

    @Override
    public TypeSerializerSchemaCompatibility<T> resolveSchemaCompatibility(TypeSerializerSnapshot<T> oldSnapshot) {
        if (oldSnapshot instanceof JsonRecordSerializerSnapshot<T> old
                && old.codec.getClass() == codec.getClass()) {
            // Same codec: JSON tolerates added optional fields, so the bytes stay readable.
            return TypeSerializerSchemaCompatibility.compatibleAsIs();
        }
        return TypeSerializerSchemaCompatibility.incompatible();
    }
}
