package io.cohortflow.segmentation.input;

import io.cohortflow.jobs.types.OpaqueTypeInfo;
import org.apache.flink.api.common.serialization.SerializerConfig;
import org.apache.flink.api.common.typeutils.TypeSerializer;

/** The job's inputs between operators as {@link SegmentationInputSerializer}'s binary; see there for why not JSON. */
public final class SegmentationInputTypeInfo extends OpaqueTypeInfo<SegmentationInput> {
    private static final long serialVersionUID = 1L;
    public static final SegmentationInputTypeInfo INSTANCE = new SegmentationInputTypeInfo();

    private SegmentationInputTypeInfo() {
        super(SegmentationInput.class);
    }

    @Override
    public TypeSerializer<SegmentationInput> createSerializer(SerializerConfig config) {
        return SegmentationInputSerializer.INSTANCE;
    }

    @Override
    public String toString() {
        return "Binary<SegmentationInput>";
    }
}
