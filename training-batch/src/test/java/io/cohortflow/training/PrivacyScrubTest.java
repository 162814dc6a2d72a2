package io.cohortflow.training;

import io.cohortflow.core.feature.FeatureSnapshot;
import io.cohortflow.core.model.ModelManifest;
import io.cohortflow.core.privacy.ErasedIds;
import io.cohortflow.core.privacy.PrivacyRequest;
import io.cohortflow.registry.ModelRegistry;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.parquet.avro.AvroParquetReader;
import org.apache.parquet.avro.AvroParquetWriter;
import org.apache.parquet.hadoop.ParquetWriter;
import org.apache.parquet.io.LocalInputFile;
import org.apache.parquet.io.LocalOutputFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** Earlier versions' per-user scores lose the rows of the people a pending privacy request deletes. */
class PrivacyScrubTest {
    @Test
    void earlierVersionsLoseTheRowsOfThePeopleErasedAfterThem(@TempDir Path dir) throws Exception {
        ModelRegistry registry = new ModelRegistry(dir.resolve("registry").toUri(),
                Clock.fixed(Instant.parse("2026-03-01T00:00:00Z"), ZoneOffset.UTC));
        int v1 = publish(registry, dir, "user_jane", "anon_phone", "bob", "carl");
        ModelRegistry later = new ModelRegistry(dir.resolve("registry").toUri(),
                Clock.fixed(Instant.parse("2026-03-20T00:00:00Z"), ZoneOffset.UTC));
        int v2 = publish(later, dir, "bob", "carl");

        // Jane (and her phone, by the follow-up) erased; Bob DELETEd on 2026-03-10: v1 predates it, v2 does not.
        ErasedIds scrub = ErasedIds.of(List.of(
                new PrivacyRequest("req-1", PrivacyRequest.Type.SUPPRESS_WITH_DELETE, List.of("user_jane"),
                        Instant.parse("2026-03-15T00:00:00Z").toEpochMilli(), "dpo"),
                new PrivacyRequest("linked-1", PrivacyRequest.Type.SUPPRESS_WITH_DELETE, List.of("anon_phone"),
                        Instant.parse("2026-03-15T00:00:00Z").toEpochMilli(), "ingest", "req-1"),
                new PrivacyRequest("req-2", PrivacyRequest.Type.DELETE, List.of("bob"),
                        Instant.parse("2026-03-10T00:00:00Z").toEpochMilli(), "dpo")));
        PrivacyExclusion privacy = new PrivacyExclusion(List.of(), List.of(), 0, ErasedIds.of(List.of()),
                List.of("req-1", "linked-1", "req-2"), scrub);
        int v3 = v2 + 1;

        assertThat(privacy.scrubEarlierVersions(registry, "bundle", v3)).as("v1 changes; v2 has none of them left")
                .isEqualTo(1);
        assertThat(users(registry, v1)).containsExactly("carl");
        assertThat(users(registry, v2)).as("Bob came back after his DELETE: his later row stays").containsExactly("bob", "carl");
        assertThat(privacy.scrubEarlierVersions(registry, "bundle", v3)).as("done already").isZero();
    }

    private static int publish(ModelRegistry registry, Path dir, String... users) throws Exception {
        Path file = Files.createTempDirectory(dir, "scores").resolve(UserScores.FILE);
        try (ParquetWriter<GenericRecord> writer = AvroParquetWriter.<GenericRecord>builder(new LocalOutputFile(file))
                .withSchema(UserScores.SCHEMA).build()) {
            for (String user : users) {
                GenericRecord r = new GenericData.Record(UserScores.SCHEMA);
                r.put("user_id", user);
                r.put("as_of", 0L);
                r.put("persona", "p");
                r.put("cluster", 0);
                for (String feature : FeatureSnapshot.MODEL_FEATURES) {
                    r.put(feature, 1.0);
                }
                writer.write(r);
            }
        }
        ModelManifest draft = new ModelManifest("bundle", 0, null, FeatureSnapshot.MODEL_FEATURES,
                ModelManifest.schemaHash(FeatureSnapshot.MODEL_FEATURES), Map.of(), "a", "b", 1, 1, Map.of(), "test",
                Map.of());
        return registry.publish(draft, Map.of(UserScores.FILE, Files.readAllBytes(file))).version();
    }

    private static List<String> users(ModelRegistry registry, int version) throws Exception {
        Path copy = Files.createTempFile("scores", ".parquet");
        Files.write(copy, registry.artifact("bundle", version, UserScores.FILE)); // checked against the new hash
        List<String> users = new ArrayList<>();
        try (var reader = AvroParquetReader.<GenericRecord>builder(new LocalInputFile(copy)).build()) {
            for (GenericRecord r = reader.read(); r != null; r = reader.read()) {
                users.add(r.get("user_id").toString());
            }
        } finally {
            Files.deleteIfExists(copy);
        }
        return users;
    }
}
