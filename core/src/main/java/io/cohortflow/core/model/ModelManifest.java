package io.cohortflow.core.model;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What a registry version is: the model's name and version, the feature schema it was trained on (and its hash, which
 * the stream checks before swapping a model in), metrics, the training window, row and user counts, provenance, the
 * code version, the creation time, and the SHA-256 of every artifact.
 *
 * @param trainingFrom ISO-8601 start of the training window
 * @param trainingTo   ISO-8601 end of the training window (the cutoff)
 * @param artifacts    artifact file name -> SHA-256 hex
 */
public record ModelManifest(String name, int version, String createdAt, List<String> featureSchema,
                            String featureSchemaHash, Map<String, Double> metrics, String trainingFrom,
                            String trainingTo, long rows, long users, Map<String, String> provenance,
                            String codeVersion, Map<String, String> artifacts) {
    public ModelManifest {
        Objects.requireNonNull(name, "name");
        featureSchema = List.copyOf(featureSchema);
        metrics = Map.copyOf(metrics);
        provenance = Map.copyOf(provenance);
        artifacts = Map.copyOf(artifacts);
        if (!schemaHash(featureSchema).equals(featureSchemaHash)) {
            throw new IllegalArgumentException("feature schema hash does not match the schema of " + name + " v" + version);
        }
    }

    /** SHA-256 of the feature names in order: two schemas match when their hashes do. */
    public static String schemaHash(List<String> featureSchema) {
        return sha256(String.join("\n", featureSchema).getBytes(StandardCharsets.UTF_8));
    }

    public static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    public ModelManifest withVersion(int newVersion, String created, Map<String, String> artifactHashes) {
        return new ModelManifest(name, newVersion, created, featureSchema, featureSchemaHash, metrics, trainingFrom,
                trainingTo, rows, users, provenance, codeVersion, artifactHashes);
    }
}
