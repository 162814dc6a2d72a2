package io.cohortflow.training;

import io.cohortflow.core.privacy.ErasedIds;
import io.cohortflow.core.privacy.PrivacyRequest;
import io.cohortflow.core.privacy.PrivacyStatus;
import io.cohortflow.jobs.kafka.PrivacyTopics;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.flink.api.common.accumulators.LongCounter;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichFilterFunction;
import org.apache.flink.core.fs.FSDataInputStream;
import org.apache.flink.core.fs.FileStatus;
import org.apache.flink.core.fs.FileSystem;
import org.apache.flink.core.fs.Path;
import org.apache.flink.formats.parquet.ParquetInputFile;
import org.apache.hadoop.conf.Configuration;
import org.apache.parquet.avro.AvroParquetReader;
import org.apache.parquet.avro.AvroReadSupport;
import org.apache.parquet.hadoop.ParquetReader;

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
 * @param pending  the requests whose models stage is not done yet: this training completes it once promoted
 * @param scrub    the people of the pending requests that delete, whose per-user scores go from earlier versions
 */
record PrivacyExclusion(List<PrivacyRequest> all, List<PrivacyRequest> applying, int named, ErasedIds ids,
                        List<String> pending, ErasedIds scrub) {
    static final String ROWS_EXCLUDED = "cohortflow-rows-excluded";
    static PrivacyExclusion none() {
        return new PrivacyExclusion(List.of(), List.of(), 0, ErasedIds.of(List.of()), List.of(), ErasedIds.of(List.of()));
    }

    /**
     * From the requests on {@code topic}, the history's erasure records, and the links in the history. The history
     * is read through Flink's file systems, as the training reads it (an {@code s3://} history needs Flink's S3
     * plugin, not Hadoop's client); of each file only the id columns.
     */
    static PrivacyExclusion load(String bootstrapServers, String topic, String statusTopic, String history) {
        try {
            Path base = new Path(history);
            FileSystem fs = base.getFileSystem();
            List<PrivacyRequest> all = PrivacyTopics.requests(bootstrapServers, topic);
            List<PrivacyRequest> applying = new ArrayList<>();
            for (PrivacyRequest r : all) {
                boolean erased = fs.exists(new Path(new Path(base, "_erasures"), r.requestId() + ".json"));
                if (!(erased && r.type().deletes())) {
                    applying.add(r);
                }
            }
            ErasedIds ids = ErasedIds.of(applying);
            java.util.Set<String> done = new java.util.HashSet<>();
            PrivacyTopics.reports(bootstrapServers, statusTopic).stream()
                    .filter(r -> r.stage() == PrivacyStatus.Stage.MODELS && r.state() == PrivacyStatus.State.DONE)
                    .forEach(r -> done.add(r.requestId()));
            List<PrivacyRequest> pending = all.stream().filter(r -> !done.contains(r.requestId())).toList();
            ErasedIds scrub = ErasedIds.of(pending.stream().filter(r -> r.type().deletes()).toList());
            if (!(ids.isEmpty() && scrub.isEmpty()) && fs.exists(base)) {
                Configuration projected = new Configuration();
                AvroReadSupport.setRequestedProjection(projected, io.cohortflow.core.event.UnifiedEventAvro.ID_COLUMNS);
                for (FileStatus file : dataFiles(fs, base)) {
                    try (FSDataInputStream in = fs.open(file.getPath());
                         ParquetReader<GenericRecord> reader = AvroParquetReader.<GenericRecord>builder(
                                 new ParquetInputFile(in, file.getLen())).withDataModel(GenericData.get())
                                 .withConf(projected).build()) {
                        for (GenericRecord row = reader.read(); row != null; row = reader.read()) {
                            ids.link(row);
                            scrub.link(row);
                        }
                    }
                }
            }
            return new PrivacyExclusion(all, applying, applying.stream().mapToInt(r -> r.ids().size()).sum(), ids,
                    pending.stream().map(PrivacyRequest::requestId).toList(), scrub);
        } catch (IOException e) {
            throw new UncheckedIOException("reading the history's ids for the privacy requests: " + e.getMessage(), e);
        }
    }

    /** The history's Parquet files: every {@code .parquet} below it, hidden names (a dot or an underscore) left out. */
    private static List<FileStatus> dataFiles(FileSystem fs, Path dir) throws IOException {
        List<FileStatus> files = new ArrayList<>();
        FileStatus[] listed = fs.listStatus(dir);
        for (FileStatus status : listed == null ? new FileStatus[0] : listed) {
            String name = status.getPath().getName();
            if (name.startsWith(".") || name.startsWith("_")) {
                continue;
            }
            if (status.isDir()) {
                files.addAll(dataFiles(fs, status.getPath()));
            } else if (name.endsWith(".parquet")) {
                files.add(status);
            }
        }
        return files;
    }

    /** How many ids the requests whose rows the history erasure has removed name (absent here without a filter). */
    int erasedBefore() {
        java.util.Set<String> applied = new java.util.HashSet<>(applying.stream().map(PrivacyRequest::requestId).toList());
        return all.stream().filter(r -> !applied.contains(r.requestId())).mapToInt(r -> r.ids().size()).sum();
    }

    /**
     * Takes the rows of {@link #scrub}'s people out of the per-user scores of every version of {@code model} but
     * {@code published}, made before their request; returns how many versions changed.
     */
    int scrubEarlierVersions(io.cohortflow.registry.ModelRegistry registry, String model, int published) {
        int rewritten = 0;
        for (int version : registry.versions(model)) {
            io.cohortflow.core.model.ModelManifest m = registry.manifest(model, version);
            if (version == published || !m.artifacts().containsKey(UserScores.FILE)) {
                continue;
            }
            long made = java.time.Instant.parse(m.createdAt()).toEpochMilli();
            if (registry.rewriteArtifact(model, version, UserScores.FILE, bytes -> UserScores.without(bytes,
                    id -> scrub.covers(id, null, id, made)))) {
                rewritten++;
            }
        }
        return rewritten;
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
