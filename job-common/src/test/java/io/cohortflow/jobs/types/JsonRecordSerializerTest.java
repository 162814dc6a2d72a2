package io.cohortflow.jobs.types;

import io.cohortflow.core.event.EventType;
import io.cohortflow.core.event.UnifiedEvent;
import io.cohortflow.core.event.UnifiedEventCodec;
import org.apache.flink.api.common.serialization.SerializerConfigImpl;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.typeutils.TypeSerializerSchemaCompatibility;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class JsonRecordSerializerTest {
    private final TypeSerializer<UnifiedEvent> serializer =
            new JsonRecordTypeInfo<>(new UnifiedEventCodec()).createSerializer(new SerializerConfigImpl());

    @Test
    void serializesCopiesAndSkipsRecords() throws Exception {
        UnifiedEvent a = event("m1");
        UnifiedEvent b = event("m2");
        DataOutputSerializer out = new DataOutputSerializer(256);
        serializer.serialize(a, out);
        serializer.serialize(b, out);

        DataInputDeserializer in = new DataInputDeserializer(out.getCopyOfBuffer());
        DataOutputSerializer copied = new DataOutputSerializer(256);
        serializer.copy(in, copied); // copies a's bytes without decoding
        assertThat(serializer.deserialize(in)).isEqualTo(b);
        assertThat(serializer.deserialize(new DataInputDeserializer(copied.getCopyOfBuffer()))).isEqualTo(a);
        assertThat(serializer.copy(a)).isSameAs(a);
        assertThat(serializer.isImmutableType()).isTrue();
    }

    @Test
    void snapshotRestoresTheSameSerializerAndIsCompatibleWithItself() throws Exception {
        TypeSerializerSnapshot<UnifiedEvent> snapshot = serializer.snapshotConfiguration();
        DataOutputSerializer out = new DataOutputSerializer(64);
        TypeSerializerSnapshot.writeVersionedSnapshot(out, snapshot);
        TypeSerializerSnapshot<UnifiedEvent> restored = TypeSerializerSnapshot.readVersionedSnapshot(
                new DataInputDeserializer(out.getCopyOfBuffer()), getClass().getClassLoader());

        assertThat(restored.restoreSerializer()).isEqualTo(serializer);
        TypeSerializerSchemaCompatibility<UnifiedEvent> compatibility =
                serializer.snapshotConfiguration().resolveSchemaCompatibility(restored);
        assertThat(compatibility.isCompatibleAsIs()).isTrue();
        TypeSerializerSnapshot<UnifiedEvent> other = castSnapshot(JsonRecordTypeInfo.DEAD_LETTER
                .createSerializer(new SerializerConfigImpl()).snapshotConfiguration());
        assertThat(serializer.snapshotConfiguration().resolveSchemaCompatibility(other).isIncompatible()).isTrue();
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private static TypeSerializerSnapshot<UnifiedEvent> castSnapshot(TypeSerializerSnapshot snapshot) {
        return snapshot;
    }

    private static UnifiedEvent event(String id) {
        return new UnifiedEvent(id, EventType.TRACK, "product_view", "anon", null, "anon", 1L, null, 2L, "web", null,
                Map.of("sku", "x", "price", 9.5), Map.of(), Map.of());
    }
}
