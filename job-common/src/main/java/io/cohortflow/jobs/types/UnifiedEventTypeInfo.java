package io.cohortflow.jobs.types;

import io.cohortflow.core.event.UnifiedEvent;
import org.apache.flink.api.common.serialization.SerializerConfig;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeutils.TypeSerializer;

/** Unified events between operators as {@link UnifiedEventSerializer}'s compact binary; see there for why not JSON. */
public final class UnifiedEventTypeInfo extends TypeInformation<UnifiedEvent> {
    private static final long serialVersionUID = 1L;
    public static final UnifiedEventTypeInfo INSTANCE = new UnifiedEventTypeInfo();

    private UnifiedEventTypeInfo() {
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
    public Class<UnifiedEvent> getTypeClass() {
        return UnifiedEvent.class;
    }

    @Override
    public boolean isKeyType() {
        return false;
    }

    @Override
    public TypeSerializer<UnifiedEvent> createSerializer(SerializerConfig config) {
        return UnifiedEventSerializer.INSTANCE;
    }

    @Override
    public String toString() {
        return "Binary<UnifiedEvent>";
    }

    @Override
    public boolean equals(Object obj) {
        return obj instanceof UnifiedEventTypeInfo;
    }

    @Override
    public int hashCode() {
        return UnifiedEventTypeInfo.class.hashCode();
    }

    @Override
    public boolean canEqual(Object obj) {
        return obj instanceof UnifiedEventTypeInfo;
    }
}
