package io.cohortflow.training;

import io.cohortflow.core.event.UnifiedEvent;
import org.apache.flink.api.common.serialization.SerializerConfig;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeutils.TypeSerializer;

/** The training's events as {@link FeatureEventSerializer} carries them; see there for why not JSON. */
public final class FeatureEventTypeInfo extends TypeInformation<UnifiedEvent> {
    private static final long serialVersionUID = 1L;
    public static final FeatureEventTypeInfo INSTANCE = new FeatureEventTypeInfo();

    private FeatureEventTypeInfo() {
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
        return FeatureEventSerializer.INSTANCE;
    }

    @Override
    public String toString() {
        return "FeatureEvent<UnifiedEvent>";
    }

    @Override
    public boolean equals(Object obj) {
        return obj instanceof FeatureEventTypeInfo;
    }

    @Override
    public int hashCode() {
        return FeatureEventTypeInfo.class.hashCode();
    }

    @Override
    public boolean canEqual(Object obj) {
        return obj instanceof FeatureEventTypeInfo;
    }
}
