package io.cohortflow.training;

import io.cohortflow.core.feature.FeatureSnapshot;
import io.cohortflow.registry.ModelBundle;
import org.apache.avro.LogicalTypes;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.parquet.avro.AvroParquetWriter;
import org.apache.parquet.hadoop.ParquetWriter;
import org.apache.parquet.hadoop.metadata.CompressionCodecName;
import org.apache.parquet.io.LocalOutputFile;
import org.tribuo.Model;
import org.tribuo.classification.Label;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The per-user output of a run, as Parquet: for every user the personas were fitted on (the population at the
 * cutoff), their persona, cluster, churn and bundle-propensity scores (null when that model was skipped) and every
 * model feature as of the cutoff. It is stored next to the report, so a run can be checked, joined and activated with
 * any Parquet reader:
 * {@code SELECT persona, count(*), avg(churn) FROM 'user_scores.parquet' GROUP BY persona}.
 */
final class UserScores {
    static final String FILE = "user_scores.parquet";
    static final Schema SCHEMA = schema();

    private UserScores() {
    }

    private static Schema schema() {
        Schema time = LogicalTypes.timestampMillis().addToSchema(Schema.create(Schema.Type.LONG));
        var fields = SchemaBuilder.record("UserScore").namespace("io.cohortflow.training").fields()
                .requiredString("user_id")
                .name("as_of").type(time).noDefault()
                .requiredString("persona")
                .requiredInt("cluster")
                .optionalDouble("churn")
                .optionalDouble("bundle_propensity");
        for (String feature : FeatureSnapshot.MODEL_FEATURES) {
            fields = fields.requiredDouble(feature);
        }
        return fields.endRecord();
    }

    /**
     * {@code parquet} (a per-user file) without the rows whose user {@code drop} names; the same bytes when it names
     * none. Rows are copied in the file's own schema.
     */
    static byte[] without(byte[] parquet, java.util.function.Predicate<String> drop) {
        try {
            Path dir = Files.createTempDirectory("cohortflow-scores");
            Path in = dir.resolve("in.parquet");
            Path out = dir.resolve("out.parquet");
            try {
                Files.write(in, parquet);
                long dropped = 0;
                org.apache.avro.Schema schema;
                try (var reader = org.apache.parquet.avro.AvroParquetReader.<GenericRecord>builder(
                        new org.apache.parquet.io.LocalInputFile(in)).withDataModel(GenericData.get()).build()) {
                    GenericRecord first = reader.read();
                    if (first == null) {
                        return parquet;
                    }
                    schema = first.getSchema();
                    try (ParquetWriter<GenericRecord> writer = AvroParquetWriter.<GenericRecord>builder(
                            new LocalOutputFile(out)).withSchema(schema).withDataModel(GenericData.get())
                            .withCompressionCodec(CompressionCodecName.SNAPPY).build()) {
                        for (GenericRecord r = first; r != null; r = reader.read()) {
                            if (drop.test(r.get("user_id").toString())) {
                                dropped++;
                            } else {
                                writer.write(r);
                            }
                        }
                    }
                }
                return dropped == 0 ? parquet : Files.readAllBytes(out);
            } finally {
                Files.deleteIfExists(in);
                Files.deleteIfExists(out);
                Files.deleteIfExists(dir);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot rewrite the per-user scores", e);
        }
    }

    /** The rows the clustering was fitted on, in its order, scored with the run's models, as Parquet bytes. */
    static byte[] parquet(List<TrainingRow> rows, PersonaTrainer.Clustering personas, Model<Label> churn,
                          Model<Label> bundle) throws IOException {
        String[] names = FeatureSnapshot.MODEL_FEATURES.toArray(String[]::new);
        Map<Integer, String> personaNames = new HashMap<>();
        personas.profiles().forEach(p -> personaNames.put(p.cluster(), p.name()));
        Path dir = Files.createTempDirectory("cohortflow-scores");
        Path file = dir.resolve(FILE);
        try {
            try (ParquetWriter<GenericRecord> writer = AvroParquetWriter.<GenericRecord>builder(new LocalOutputFile(file))
                    .withSchema(SCHEMA).withCompressionCodec(CompressionCodecName.SNAPPY).build()) {
                for (int i = 0; i < rows.size(); i++) {
                    TrainingRow row = rows.get(i);
                    GenericRecord r = new GenericData.Record(SCHEMA);
                    r.put("user_id", row.userId());
                    r.put("as_of", row.featureTime());
                    int cluster = personas.assignments()[i];
                    r.put("cluster", cluster);
                    r.put("persona", personaNames.getOrDefault(cluster, "Cluster " + cluster));
                    r.put("churn", churn == null ? null : ModelBundle.probability(churn, names, row.features()));
                    r.put("bundle_propensity", bundle == null ? null
                            : ModelBundle.probability(bundle, names, row.features()));
                    for (int j = 0; j < names.length; j++) {
                        r.put(names[j], row.features()[j]);
                    }
                    writer.write(r);
                }
            }
            return Files.readAllBytes(file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the per-user scores", e);
        } finally {
            Files.deleteIfExists(file);
            Files.deleteIfExists(dir);
        }
    }
}
