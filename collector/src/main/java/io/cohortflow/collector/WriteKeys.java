package io.cohortflow.collector;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.cohortflow.core.config.ConfFiles;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The write keys the collector accepts, each naming a source. Only SHA-256 digests are kept (conf/collector/
 * write-keys.yaml), and a presented key is compared against every digest in constant time, so neither the file nor
 * the timing of a refusal gives a key away.
 */
public final class WriteKeys {
    private final List<Entry> entries;

    /** One accepted key, by digest, and the source its calls are recorded as. */
    public record Entry(byte[] sha256, String source) {
    }

    /** The file's form: {@code keys: [{sha256: <hex>, source: <name>}]}. */
    record File(List<Line> keys) {
        @JsonCreator
        File(@JsonProperty("keys") List<Line> keys) {
            this.keys = keys == null ? List.of() : keys;
        }
    }

    record Line(String sha256, String source) {
        @JsonCreator
        Line(@JsonProperty("sha256") String sha256, @JsonProperty("source") String source) {
            this.sha256 = sha256;
            this.source = source;
        }
    }

    private WriteKeys(List<Entry> entries) {
        this.entries = List.copyOf(entries);
    }

    /** The keys of a YAML file (a path, or {@code classpath:...}). */
    public static WriteKeys load(String location) {
        File file = ConfFiles.read(location, File.class);
        return new WriteKeys(file.keys().stream().map(line -> {
            if (line.sha256() == null || line.sha256().length() != 64 || line.source() == null || line.source().isBlank()) {
                throw new IllegalArgumentException(location + ": every key needs a 64-hex-digit sha256 and a source");
            }
            return new Entry(HexFormat.of().parseHex(line.sha256()), line.source());
        }).toList());
    }

    /** Keys given by digest (hex) and source. */
    public static WriteKeys ofDigests(Map<String, String> sourceByDigest) {
        return new WriteKeys(sourceByDigest.entrySet().stream()
                .map(e -> new Entry(HexFormat.of().parseHex(e.getKey()), e.getValue())).toList());
    }

    /** This set plus {@code key} (in clear, as the local run makes one), for {@code source}. */
    public WriteKeys with(String key, String source) {
        List<Entry> more = new java.util.ArrayList<>(entries);
        more.add(new Entry(sha256(key), source));
        return new WriteKeys(more);
    }

    /** The source of a presented key, if it is one of ours. */
    public Optional<String> source(String presented) {
        if (presented == null || presented.isEmpty()) {
            return Optional.empty();
        }
        byte[] digest = sha256(presented);
        String found = null;
        for (Entry entry : entries) { // every entry, whatever matched: the time taken says nothing
            if (MessageDigest.isEqual(digest, entry.sha256()) && found == null) {
                found = entry.source();
            }
        }
        return Optional.ofNullable(found);
    }

    public int size() {
        return entries.size();
    }

    /** The hex SHA-256 of a key, as the file keeps it. */
    public static String digestHex(String key) {
        return HexFormat.of().formatHex(sha256(key));
    }

    private static byte[] sha256(String key) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
