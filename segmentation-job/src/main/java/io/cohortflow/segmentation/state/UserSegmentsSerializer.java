package io.cohortflow.segmentation.state;

import io.cohortflow.core.engine.UserSegments;
import org.apache.flink.api.common.typeutils.SimpleTypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.apache.flink.core.memory.DataOutputView;

import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * Flink's serializer for a user's engine state ({@link UserSegments}): the engine's own compact binary form, which
 * starts with a format version, so a later format can still read an earlier one. The serializer itself has no
 * configuration, hence its snapshot is the simple kind; the feature configuration is not part of the state (the
 * engine binds what it reads to the running one).
 */
public final class UserSegmentsSerializer extends TypeSerializer<UserSegments> {
    private static final long serialVersionUID = 1L;

    @Override
    public boolean isImmutableType() {
        return false;
    }

    @Override
    public TypeSerializer<UserSegments> duplicate() {
        return this; // stateless
    }

    @Override
    public UserSegments createInstance() {
        return new UserSegments();
    }

    @Override
    public UserSegments copy(UserSegments from) {
        try {
            DataOutputSerializer out = new DataOutputSerializer(256);
            from.writeTo(out);
            UserSegments copy = UserSegments.readFrom(new DataInputDeserializer(out.getSharedBuffer(), 0, out.length()));
            copy.keepEvaluationOf(from);
            return copy;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public UserSegments copy(UserSegments from, UserSegments reuse) {
        return copy(from);
    }

    @Override
    public int getLength() {
        return -1;
    }

    @Override
    public void serialize(UserSegments record, DataOutputView target) throws IOException {
        record.writeTo(target);
    }

    @Override
    public UserSegments deserialize(DataInputView source) throws IOException {
        return UserSegments.readFrom(source);
    }

    @Override
    public UserSegments deserialize(UserSegments reuse, DataInputView source) throws IOException {
        return deserialize(source);
    }

    @Override
    public void copy(DataInputView source, DataOutputView target) throws IOException {
        serialize(deserialize(source), target);
    }

    @Override
    public boolean equals(Object obj) {
        return obj instanceof UserSegmentsSerializer;
    }

    @Override
    public int hashCode() {
        return UserSegmentsSerializer.class.hashCode();
    }

    @Override
    public TypeSerializerSnapshot<UserSegments> snapshotConfiguration() {
        return new Snapshot();
    }

    /** The serializer's snapshot: nothing to record but the class; the data carries its own format version. */
    public static final class Snapshot extends SimpleTypeSerializerSnapshot<UserSegments> {
        public Snapshot() {
            super(UserSegmentsSerializer::new);
        }
    }
}
