package io.cohortflow.registry;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.cohortflow.core.model.ModelManifest;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileContext;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Options;
import org.apache.hadoop.fs.Path;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.function.IntFunction;

/**
 * Versioned model bundles on a filesystem: {@code <root>/<name>/versions/<n>/manifest.json} plus artifacts, a
 * {@code CURRENT} pointer to the promoted version, and {@code promotions.jsonl}, the history of promotions (for
 * rollback).
 *
 * <p>Publishing is atomic: a version is written under {@code .staging/} and renamed into {@code versions/} in one
 * step, so a reader never sees half a version; a crash leaves only staging debris. Promotion is atomic: the pointer is
 * written aside and renamed over {@code CURRENT}. A promotion passes a {@link Gate} unless forced. Artifacts are bytes
 * (Tribuo's protobuf format, never Java serialization) checked against the SHA-256 in the manifest when read.
 * Any Hadoop filesystem URI works: {@code file:///...} here, {@code s3a://...} with hadoop-aws on the classpath.
 */
public final class ModelRegistry {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    private static final String MANIFEST = "manifest.json";

    /** The outcome of a promotion. */
    public record Promotion(boolean promoted, String reason, ModelManifest candidate) {
    }

    private final URI root;
    private final FileSystem fs;
    private final FileContext fc;
    private final Clock clock;

    public ModelRegistry(URI root) {
        this(root, Clock.systemUTC());
    }

    public ModelRegistry(URI root, Clock clock) {
        this.root = root;
        this.clock = clock;
        try {
            Configuration conf = new Configuration();
            this.fs = FileSystem.get(root, conf);
            this.fc = FileContext.getFileContext(root, conf);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open registry " + root, e);
        }
    }

    public URI root() {
        return root;
    }

    /** Stores a new version (the next number) with its artifacts; it is not promoted. */
    public ModelManifest publish(ModelManifest draft, Map<String, byte[]> artifacts) {
        return publish(draft, version -> artifacts);
    }

    /**
     * Stores a new version whose artifacts may name their own version (a report does): {@code artifactsFor} is
     * called with the number the version will get.
     */
    public ModelManifest publish(ModelManifest draft, IntFunction<Map<String, byte[]>> artifactsFor) {
        try {
            Path staging = new Path(modelDir(draft.name()), ".staging/" + UUID.randomUUID());
            for (int attempt = 0; attempt < 10; attempt++) {
                int version = versions(draft.name()).stream().mapToInt(Integer::intValue).max().orElse(0) + 1;
                Map<String, String> hashes = new LinkedHashMap<>();
                for (var artifact : artifactsFor.apply(version).entrySet()) {
                    String file = artifact.getKey();
                    if (file.contains("/") || file.equals(MANIFEST)) {
                        throw new IllegalArgumentException("bad artifact name " + file);
                    }
                    hashes.put(file, ModelManifest.sha256(artifact.getValue()));
                    write(new Path(staging, file), artifact.getValue());
                }
                ModelManifest manifest = draft.withVersion(version, clock.instant().toString(), hashes);
                write(new Path(staging, MANIFEST), JSON.writeValueAsBytes(manifest));
                fs.mkdirs(versionsDir(draft.name()));
                Path target = versionDir(draft.name(), version);
                // Hadoop's rename moves a directory INTO an existing one: check first (a concurrent publisher can
                // still race between the check and the rename; run one publisher per model, as the nightly job does).
                if (!fs.exists(target) && fs.rename(staging, target)) {
                    return manifest;
                }
                // another publisher took this number: try the next one
            }
            throw new IllegalStateException("could not publish " + draft.name() + ": version numbers kept colliding");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot publish " + draft.name(), e);
        }
    }

    /** Where an artifact of a version is stored, e.g. to point at its report. */
    public String artifactLocation(String name, int version, String file) {
        return new Path(versionDir(name, version), file).toString();
    }

    public List<Integer> versions(String name) {
        try {
            Path dir = versionsDir(name);
            if (!fs.exists(dir)) {
                return List.of();
            }
            List<Integer> versions = new ArrayList<>();
            for (FileStatus status : fs.listStatus(dir)) {
                String n = status.getPath().getName();
                if (status.isDirectory() && n.chars().allMatch(Character::isDigit)) {
                    versions.add(Integer.parseInt(n));
                }
            }
            versions.sort(null);
            return versions;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public ModelManifest manifest(String name, int version) {
        try {
            return JSON.readValue(read(new Path(versionDir(name, version), MANIFEST)), ModelManifest.class);
        } catch (IOException e) {
            throw new UncheckedIOException("no version " + version + " of " + name + " in " + root, e);
        }
    }

    /** An artifact's bytes, refused when they do not match the manifest's hash (a corrupt or tampered bundle). */
    public byte[] artifact(String name, int version, String file) {
        return artifact(manifest(name, version), file);
    }

    /** An artifact of the version {@code manifest} describes (read once by the caller), checked against its hash. */
    public byte[] artifact(ModelManifest manifest, String file) {
        String name = manifest.name();
        int version = manifest.version();
        String expected = manifest.artifacts().get(file);
        if (expected == null) {
            throw new IllegalArgumentException(name + " v" + version + " has no artifact " + file);
        }
        try {
            byte[] bytes = read(new Path(versionDir(name, version), file));
            if (!ModelManifest.sha256(bytes).equals(expected)) {
                throw new IllegalStateException(name + " v" + version + ": artifact " + file
                        + " does not match its SHA-256 in the manifest; refusing it");
            }
            return bytes;
        } catch (IOException e) {
            throw new IllegalStateException(name + " v" + version + ": artifact " + file
                    + " is unreadable or corrupt; refusing it (" + e.getMessage() + ")", e);
        }
    }

    /**
     * Replaces an artifact of a stored version by {@code change} of it (a privacy erasure takes people's rows out of
     * an earlier version's per-user file), and the version's manifest with the new hash; nothing is written when the
     * bytes stay the same. Each file is replaced whole (written aside, then renamed over it); a reader between the two
     * replacements finds the artifact does not match its hash and is refused, as for any corrupt artifact, until the
     * manifest follows. Returns whether it changed.
     */
    public boolean rewriteArtifact(String name, int version, String file, java.util.function.UnaryOperator<byte[]> change) {
        ModelManifest manifest = manifest(name, version);
        byte[] before = artifact(manifest, file);
        byte[] after = change.apply(before);
        if (java.util.Arrays.equals(before, after)) {
            return false;
        }
        Map<String, String> hashes = new LinkedHashMap<>(manifest.artifacts());
        hashes.put(file, ModelManifest.sha256(after));
        try {
            writeAtomically(new Path(versionDir(name, version), file), after);
            writeAtomically(new Path(versionDir(name, version), MANIFEST), JSON.writeValueAsBytes(
                    manifest.withVersion(version, manifest.createdAt(), hashes)));
            return true;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot rewrite " + file + " of " + name + " v" + version, e);
        }
    }

    /** Every artifact of a version, each checked against its hash, e.g. to republish or copy it. */
    public Map<String, byte[]> artifacts(String name, int version) {
        ModelManifest manifest = manifest(name, version);
        Map<String, byte[]> artifacts = new LinkedHashMap<>();
        for (String file : manifest.artifacts().keySet()) {
            artifacts.put(file, artifact(manifest, file));
        }
        return artifacts;
    }

    /** The promoted version, if any. */
    public Optional<ModelManifest> current(String name) {
        try {
            Path pointer = new Path(modelDir(name), "CURRENT");
            if (!fs.exists(pointer)) {
                return Optional.empty();
            }
            int version = Integer.parseInt(new String(read(pointer), StandardCharsets.UTF_8).trim());
            return Optional.of(manifest(name, version));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Promotes {@code version} if it passes {@code gate} (or {@code force}): an atomic switch of the pointer. */
    public Promotion promote(String name, int version, Gate gate, boolean force, String reason) {
        ModelManifest candidate = manifest(name, version);
        Optional<ModelManifest> current = current(name);
        Optional<String> refusal = force ? Optional.empty() : gate.refusal(candidate, current);
        if (refusal.isPresent()) {
            return new Promotion(false, refusal.get(), candidate);
        }
        try {
            switchPointer(name, version);
            List<Map<String, Object>> history = history(name);
            history.add(Map.of("version", version, "at", clock.instant().toString(), "reason", reason,
                    "forced", force));
            StringBuilder lines = new StringBuilder();
            for (Map<String, Object> entry : history) {
                lines.append(new ObjectMapper().writeValueAsString(entry)).append('\n');
            }
            writeAtomically(new Path(modelDir(name), "promotions.jsonl"), lines.toString().getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return new Promotion(true, force ? "forced: " + reason : reason, candidate);
    }

    /** Promotes the version promoted before the current one, without a gate. */
    public Promotion rollback(String name) {
        List<Map<String, Object>> history = history(name);
        if (history.size() < 2) {
            throw new IllegalStateException(name + " has no earlier promotion to roll back to");
        }
        int previous = ((Number) history.get(history.size() - 2).get("version")).intValue();
        return promote(name, previous, Gate.NONE, true, "rollback");
    }

    /** The promotions so far, oldest first. */
    @SuppressWarnings("unchecked")
    public List<Map<String, Object>> history(String name) {
        try {
            Path file = new Path(modelDir(name), "promotions.jsonl");
            List<Map<String, Object>> history = new ArrayList<>();
            if (fs.exists(file)) {
                for (String line : new String(read(file), StandardCharsets.UTF_8).split("\n")) {
                    if (!line.isBlank()) {
                        history.add(JSON.readValue(line, Map.class));
                    }
                }
            }
            return history;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void switchPointer(String name, int version) throws IOException {
        writeAtomically(new Path(modelDir(name), "CURRENT"), Integer.toString(version).getBytes(StandardCharsets.UTF_8));
    }

    private void writeAtomically(Path target, byte[] bytes) throws IOException {
        if ("s3a".equals(root.getScheme())) {
            write(target, bytes); // an object PUT replaces the object atomically
            return;
        }
        Path aside = new Path(target.getParent(), "." + target.getName() + "-" + UUID.randomUUID());
        write(aside, bytes);
        fc.rename(aside, target, Options.Rename.OVERWRITE);
    }

    private void write(Path path, byte[] bytes) throws IOException {
        try (FSDataOutputStream out = fs.create(path, true)) {
            out.write(bytes);
        }
    }

    private byte[] read(Path path) throws IOException {
        try (InputStream in = fs.open(path)) {
            return in.readAllBytes();
        }
    }

    private Path modelDir(String name) {
        if (!name.matches("[a-z][a-z0-9_-]{0,63}")) {
            throw new IllegalArgumentException("model name '" + name + "' must be lower case letters, digits, _ or -");
        }
        return new Path(new Path(root), name);
    }

    private Path versionsDir(String name) {
        return new Path(modelDir(name), "versions");
    }

    private Path versionDir(String name, int version) {
        return new Path(versionsDir(name), Integer.toString(version));
    }
}
