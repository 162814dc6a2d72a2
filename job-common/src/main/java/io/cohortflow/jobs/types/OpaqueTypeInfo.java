package io.cohortflow.jobs.types;

import org.apache.flink.api.common.typeinfo.TypeInformation;

import java.util.Objects;

/**
 * Type information for a record that Flink carries as one value, written by a serializer of ours: not a basic type,
 * not a tuple, one field, not a key. Two are equal when they are of the same class for the same record type. A
 * subclass says which serializer ({@link #createSerializer}).
 */
public abstract class OpaqueTypeInfo<T> extends TypeInformation<T> {
    private static final long serialVersionUID = 1L;

    private final Class<T> type;

    protected OpaqueTypeInfo(Class<T> type) {
        this.type = Objects.requireNonNull(type, "type");
    }

    @Override
    public final boolean isBasicType() {
        return false;
    }

    @Override
    public final boolean isTupleType() {
        return false;
    }

    @Override
    public final int getArity() {
        return 1;
    }

    @Override
    public final int getTotalFields() {
        return 1;
    }

    @Override
    public final Class<T> getTypeClass() {
        return type;
    }

    @Override
    public final boolean isKeyType() {
        return false;
    }

    @Override
    public boolean equals(Object obj) {
        return obj != null && obj.getClass() == getClass() && ((OpaqueTypeInfo<?>) obj).type == type;
    }

    @Override
    public int hashCode() {
        return Objects.hash(getClass(), type);
    }

    @Override
    public boolean canEqual(Object obj) {
        return obj != null && obj.getClass() == getClass();
    }
}
