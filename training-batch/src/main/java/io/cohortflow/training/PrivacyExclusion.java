package io.cohortflow.training;

import io.cohortflow.core.privacy.ErasedIds;
import io.cohortflow.core.privacy.PrivacyRequest;
import io.cohortflow.core.privacy.PrivacyStatus;
import io.cohortflow.jobs.kafka.PrivacyTopics;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.flink.api.common.accumulators.LongCounter;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichFilterFunction;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RemoteIterator;
import org.apache.parquet.avro.AvroParquetReader;
import org.apache.parquet.avro.AvroReadSupport;
import org.apache.parquet.hadoop.ParquetReader;
import org.apache.parquet.hadoop.util.HadoopInputFile;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * The people a training leaves out, from the privacy requests: everyone a request names (and the devices the history
 * links to them), except the people of a request that deletes which the history erasure has recorded done: their rows
 * are gone (what a {@code DELETE} let in after it is new data). A suppressed person's stored rows stay in the history
 * (a {@code SUPPRESS} stops collection; it deletes nothing), but no training learns from them.
 *
 * @param all      every request on the topic: a training without their rows is the models stage of each
 * @param applying the requests whose ids are left out here (the others' rows are gone already)
 * @param named    how many ids those requests name
 * @param ids      the ids left out: named ones, their email key forms and their linked devices
 */
record PrivacyExclusion(List<PrivacyRequest> all, List<PrivacyRequest> applying, int named, ErasedIds ids) {
    static final String ROWS_EXCLUDED = "cohortflow-rows-excluded";
    /** The id columns of the history, read to find the devices linked to the people left out. */
    private static final Schema IDS = SchemaBuilder.record("UnifiedEvent").namespace("io.cohortflow.avro").fields()
            .optionalString("anonymousId").optionalString("userId").requiredString("resolvedId").endRecord();

    static PrivacyExclusion none() {
        return new PrivacyExclusion(List.of(), List.of(), 0, ErasedIds.of(List.of()));
    }

    /** From the requests on {@code topic}, the history's erasure records, and the links in the history. */
    static PrivacyExclusion load(String bootstrapServers, String topic, String history) {
        try {
            Path base = new Path(history);
            FileSystem fs = base.getFileSystem(new Configuration());
            List<PrivacyRequest> all = PrivacyTopics.requests(bootstrapServers, topic);
            List<PrivacyRequest> applying = new ArrayList<>();
            for (PrivacyRequest r : all) {
                boolean erased = fs.exists(new Path(new Path(base, "_erasures"), r.requestId() + ".json"));
                if (!(erased && r.type().deletes())) {
                    applying.add(r);
                }
            }
            ErasedIds ids = ErasedIds.of(applying);
            if (!ids.isEmpty() && fs.exists(base)) {
                Configuration projected = new Configuration();
                AvroReadSupport.setRequestedProjection(projected, IDS);
                RemoteIterator<org.apache.hadoop.fs.LocatedFileStatus> files = fs.listFiles(base, true);
                while (files.hasNext()) {
                    FileStatus file = files.next();
                    String name = file.getPath().getName();
                    if (!name.endsWith(".parquet") || name.startsWith(".") || name.startsWith("_")) {
                        continue;
                    }
                    try (ParquetReader<GenericRecord> reader = AvroParquetReader.<GenericRecord>builder(
                            HadoopInputFile.fromPath(file.getPath(), projected)).withDataModel(GenericData.get())
                            .withConf(projected).build()) {
                        for (GenericRecord row = reader.read(); row != null; row = reader.read()) {
                            ids.link(string(row, "userId"), string(row, "anonymousId"), string(row, "resolvedId"));
                        }
                    }
                }
            }
            return new PrivacyExclusion(all, applying, applying.stream().mapToInt(r -> r.ids().size()).sum(), ids);
        } catch (IOException e) {
            throw new UncheckedIOException("reading the history's ids for the privacy requests: " + e.getMessage(), e);
        }
    }

    /** How many ids the requests whose rows the history erasure has removed name (absent here without a filter). */
    int erasedBefore() {
        java.util.Set<String> applied = new java.util.HashSet<>(applying.stream().map(PrivacyRequest::requestId).toList());
        return all.stream().filter(r -> !applied.contains(r.requestId())).mapToInt(r -> r.ids().size()).sum();
    }

    /**
     * The reports that a published training learnt from none of the requests' people (privacy.status, stage MODELS),
     * for the requests not reported so yet: a request's stage is done at the first training after it.
     */
    List<PrivacyStatus> reports(List<PrivacyStatus> earlier, long at, String detail) {
        java.util.Set<String> done = new java.util.HashSet<>();
        earlier.stream().filter(r -> r.stage() == PrivacyStatus.Stage.MODELS && r.state() == PrivacyStatus.State.DONE)
                .forEach(r -> done.add(r.requestId()));
        return all.stream().filter(r -> !done.contains(r.requestId())).map(r -> PrivacyStatus.whole(r.requestId(),
                PrivacyStatus.Stage.MODELS, PrivacyStatus.State.DONE, at, detail)).toList();
    }

    private static String string(GenericRecord row, String field) {
        Object value = row.get(field);
        return value == null ? null : value.toString();
    }

    /** Drops the rows of the people left out, counting them. */
    static final class Filter extends RichFilterFunction<io.cohortflow.core.event.UnifiedEvent> {
        private static final long serialVersionUID = 1L;
        private final ErasedIds ids;
        private transient LongCounter excluded;

        Filter(ErasedIds ids) {
            this.ids = ids;
        }

        @Override
        public void open(OpenContext openContext) {
            excluded = new LongCounter();
            getRuntimeContext().addAccumulator(ROWS_EXCLUDED, excluded);
        }

        @Override
        public boolean filter(io.cohortflow.core.event.UnifiedEvent e) {
            if (ids.covers(e.userId(), e.anonymousId(), e.resolvedId(), e.receivedAt())) {
                excluded.add(1);
                return false;
            }
            return true;
        }
    }
}
