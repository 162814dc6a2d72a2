package io.cohortflow.jobs.types;

import io.cohortflow.core.event.UnifiedEvent;
import io.cohortflow.core.event.UnifiedEventBinary;
import org.apache.flink.api.common.typeutils.SimpleTypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;

import java.io.IOException;

/**
 * Unified events between the jobs' operators as compact binary: {@link UnifiedEventBinary}'s fields (the form of
 * events.unified, without its version byte), strings as UTF-8 bytes in one write each (Flink's own string format goes
 * byte by byte through a buffer's view, which showed in the profiles), the JSON-valued maps as tagged values. The same
 * Java types come back (a Long stays a Long, a Double a Double, nested lists and objects are kept); a value of any
 * other type is written as its JSON and comes back as Jackson reads that, which is what the JSON of
 * {@link JsonRecordTypeInfo} did to it.
 *
 * <p>Why not that JSON: Jackson writing and parsing every event at every shuffle took a quarter of the ingest job's CPU
 * and half of the training's feature build (JFR, issue "Speed to lead", P3 and P5). Nothing of this wire is kept in
 * state. (An unaligned checkpoint would hold records in flight in it: upgrade from a savepoint, which is aligned.)
 */
public final class UnifiedEventSerializer extends ImmutableRecordSerializer<UnifiedEvent> {
    private static final long serialVersionUID = 1L;
    public static final UnifiedEventSerializer INSTANCE = new UnifiedEventSerializer();

    private UnifiedEventSerializer() {
    }

    @Override
    public void serialize(UnifiedEvent e, DataOutputView out) throws IOException {
        UnifiedEventBinary.write(e, out);
    }

    @Override
    public UnifiedEvent deserialize(DataInputView in) throws IOException {
        return UnifiedEventBinary.read(in, UnifiedEventBinary.NEW);
    }

    @Override
    public TypeSerializerSnapshot<UnifiedEvent> snapshotConfiguration() {
        return new Snapshot();
    }

    /** For Flink's reflective restore; there is nothing to configure. */
    public static final class Snapshot extends SimpleTypeSerializerSnapshot<UnifiedEvent> {
        public Snapshot() {
            super(() -> INSTANCE);
        }
    }
}
