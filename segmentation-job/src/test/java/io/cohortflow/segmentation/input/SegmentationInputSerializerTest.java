package io.cohortflow.segmentation.input;

import io.cohortflow.core.event.UnifiedEvent;
import io.cohortflow.core.identity.IdentityMerge;
import io.cohortflow.core.segment.StateHandoff;
import io.cohortflow.core.testing.Events;
import io.cohortflow.jobs.types.JsonRecordTypeInfo;
import org.apache.flink.api.common.serialization.SerializerConfigImpl;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SegmentationInputSerializerTest {
    private static final long T = 1_767_225_600_000L;

    /**
     * Every kind of input, events with nested properties among them, as the job's sources give them: parsed from the
     * topics' JSON (where a small whole number is an Integer, a large one a Long).
     */
    private static final List<SegmentationInput> INPUTS = inputs().stream()
            .map(input -> new SegmentationInputCodec().decode(new SegmentationInputCodec().encode(input))).toList();

    private static List<SegmentationInput> inputs() {
        UnifiedEvent order = Events.track("u1", "order_completed", T).with("revenue", 42.5)
                .with("products", List.of(Map.of("sku", "A-1", "quantity", 2L), Map.of("sku", "B-2", "price", 9.99)))
                .with("coupon", null).build();
        UnifiedEvent view = Events.track("anon-7", "product_view", T + 1).with("price", 30L).with("views", 4_000_000_000L).build();
        IdentityMerge merged = new IdentityMerge("anon-7", "u1", IdentityMerge.Status.MERGED, "identify", "m-1", T, 2);
        IdentityMerge refused = new IdentityMerge("anon-8", "u1", IdentityMerge.Status.REJECTED_CAP, "identify",
                "m-2", T, 51);
        return List.of(SegmentationInput.of(order), SegmentationInput.late(view), SegmentationInput.of(merged),
                SegmentationInput.refusal(refused), SegmentationInput.of(new StateHandoff("anon-7", "u1", "AAEC", T,
                        "m-1")), SegmentationInput.erase("request-1", "u1", T + 5, 2));
    }

    /** Each input comes back as it went, and as the JSON wire it replaces gave it back. */
    @Test
    void everyInputComesBackAsTheJsonWireGaveIt() throws IOException {
        TypeSerializer<SegmentationInput> json = new JsonRecordTypeInfo<>(new SegmentationInputCodec())
                .createSerializer(new SerializerConfigImpl());
        TypeSerializer<SegmentationInput> binary = SegmentationInputTypeInfo.INSTANCE
                .createSerializer(new SerializerConfigImpl());
        for (SegmentationInput input : INPUTS) {
            SegmentationInput back = roundTrip(binary, input);
            assertThat(back).isEqualTo(input).isEqualTo(roundTrip(json, input));
            assertThat(back.key()).isEqualTo(input.key());
            assertThat(back.eventTime()).isEqualTo(input.eventTime());
        }
    }

    /** Flink copies records between serialized views (a spilled sort, say) without reading them into objects. */
    @Test
    void aRecordCopiedBetweenViewsIsTheSameRecord() throws IOException {
        DataOutputSerializer out = new DataOutputSerializer(256);
        for (SegmentationInput input : INPUTS) {
            SegmentationInputSerializer.INSTANCE.serialize(input, out);
        }
        DataInputDeserializer in = new DataInputDeserializer(out.getCopyOfBuffer());
        DataOutputSerializer copied = new DataOutputSerializer(256);
        for (int i = 0; i < INPUTS.size(); i++) {
            SegmentationInputSerializer.INSTANCE.copy(in, copied);
        }
        DataInputDeserializer back = new DataInputDeserializer(copied.getCopyOfBuffer());
        for (SegmentationInput input : INPUTS) {
            assertThat(SegmentationInputSerializer.INSTANCE.deserialize(back)).isEqualTo(input);
        }
    }

    @Test
    void bytesOfNoInputAreRefused() {
        assertThatThrownBy(() -> SegmentationInputSerializer.INSTANCE.deserialize(
                new DataInputDeserializer(new byte[] {9, 0, 0})))
                .isInstanceOf(IOException.class).hasMessageContaining("unknown input tag 9");
    }

    private static SegmentationInput roundTrip(TypeSerializer<SegmentationInput> serializer, SegmentationInput input)
            throws IOException {
        DataOutputSerializer out = new DataOutputSerializer(256);
        serializer.serialize(input, out);
        return serializer.deserialize(new DataInputDeserializer(out.getCopyOfBuffer()));
    }
}
