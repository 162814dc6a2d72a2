package io.cohortflow.jobs.types;

import org.apache.flink.api.common.typeutils.TypeSerializerSchemaCompatibility;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

class StringBlockSerializerTest {
    private final StringBlockSerializer serializer = StringBlockSerializer.INSTANCE;

    @Test
    void everyStringComesBackAsItWasUnpairedSurrogatesIncluded() throws Exception {
        List<String> strings = new ArrayList<>(List.of("", "web\u0000msg-1", "café", "ÿ", "Ā", "日本語", "🎉 party",
                "\ud800", "a\udc00b", "\udc00\ud800"));
        Random random = new Random(7);
        for (int i = 0; i < 2_000; i++) {
            char[] chars = new char[random.nextInt(60)];
            int range = new int[]{0x80, 0x100, 0x800, 0x10000}[i % 4];
            for (int j = 0; j < chars.length; j++) {
                chars[j] = (char) random.nextInt(range);
            }
            strings.add(new String(chars));
        }
        DataOutputSerializer out = new DataOutputSerializer(64);
        for (String s : strings) {
            serializer.serialize(s, out);
        }
        DataInputDeserializer in = new DataInputDeserializer(out.getCopyOfBuffer());
        for (String s : strings) {
            assertThat(serializer.deserialize(in)).isEqualTo(s);
        }
        assertThat(in.available()).isZero();
    }

    @Test
    void aLatin1StringIsItsLengthAndItsBytes() throws Exception {
        DataOutputSerializer out = new DataOutputSerializer(16);
        serializer.serialize("web\u0000m-1é", out);
        assertThat(out.length()).isEqualTo(4 + 8);
        serializer.serialize("日", out);
        assertThat(out.length()).isEqualTo(12 + 4 + 2);
    }

    @Test
    void copiesBetweenViewsAndRestoresFromItsSnapshot() throws Exception {
        DataOutputSerializer out = new DataOutputSerializer(16);
        serializer.serialize("日本 and web", out);
        DataOutputSerializer copy = new DataOutputSerializer(16);
        serializer.copy(new DataInputDeserializer(out.getCopyOfBuffer()), copy);
        assertThat(copy.getCopyOfBuffer()).isEqualTo(out.getCopyOfBuffer());
        assertThat(serializer.snapshotConfiguration().restoreSerializer()).isSameAs(serializer);
        TypeSerializerSchemaCompatibility<String> compatibility = serializer.snapshotConfiguration()
                .resolveSchemaCompatibility(new StringBlockSerializer.Snapshot());
        assertThat(compatibility.isCompatibleAsIs()).isTrue();
    }
}
