package io.cohortflow.jobs.types;

import io.cohortflow.core.event.UnifiedEvent;
import org.apache.flink.api.common.serialization.SerializerConfig;
import org.apache.flink.api.common.typeutils.TypeSerializer;

/** Unified events between operators as {@link UnifiedEventSerializer}'s compact binary; see there for why not JSON. */
public final class UnifiedEventTypeInfo extends OpaqueTypeInfo<UnifiedEvent> {
    private static final long serialVersionUID = 1L;
    public static final UnifiedEventTypeInfo INSTANCE = new UnifiedEventTypeInfo();

    private UnifiedEventTypeInfo() {
        super(UnifiedEvent.class);
    }

    @Override
    public TypeSerializer<UnifiedEvent> createSerializer(SerializerConfig config) {
        return UnifiedEventSerializer.INSTANCE;
    }

    @Override
    public String toString() {
        return "Binary<UnifiedEvent>";
    }
}
