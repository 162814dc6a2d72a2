package io.cohortflow.activation;

import io.cohortflow.core.config.CommandLine;
import io.cohortflow.core.segment.SegmentProfile;
import io.cohortflow.core.segment.SegmentProfileCodec;
import io.cohortflow.jobs.kafka.TopicReader;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Writes the current members of a segment as a CSV an ad platform's customer list takes: one row per member with a
 * hashed email or phone, in the columns {@code email,phone,extern_id} (Meta's customer-list names; Google Customer
 * Match takes the same hashed values under {@code Email,Phone}). Values are already normalised and SHA-256 hashed
 * by the segmentation job ({@code ProfileTraits}); clear-text contact details are never in the product to write.
 * Reads the compacted segments.profiles topic to its end (read_committed): the latest profile per user is their
 * state now. Members with neither hash are counted, not written (a platform cannot match them).
 *
 * <pre>
 * java -cp activation-job/target/activation-job-0.1.0-SNAPSHOT-job.jar io.cohortflow.activation.AudienceSnapshot \
 *   --bootstrap-servers localhost:9092 --segment bundle_buyer_high_propensity --out audience.csv \
 *   [--topic segments.profiles]
 * </pre>
 * Exit code 0, or 1 with a message on bad arguments or when the topic cannot be read.
 */
public final class AudienceSnapshot {
    private static final Set<String> KEYS = Set.of("bootstrap-servers", "segment", "out", "topic");

    /** What a snapshot found. */
    public record Counts(int profiles, int members, int written) {
    }

    private AudienceSnapshot() {
    }

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    public static int run(String[] args, PrintStream out, PrintStream err) {
        Map<String, String> options;
        try {
            options = CommandLine.parse(args, KEYS);
            for (String required : new String[] {"bootstrap-servers", "segment", "out"}) {
                if (options.get(required) == null) {
                    throw new IllegalArgumentException("--" + required + " is required");
                }
            }
        } catch (IllegalArgumentException e) {
            err.println(e.getMessage());
            err.println("usage: AudienceSnapshot --bootstrap-servers HOST:PORT --segment ID --out FILE.csv"
                    + " [--topic segments.profiles]");
            return 1;
        }
        try {
            Counts counts = write(options.get("bootstrap-servers"), options.getOrDefault("topic", "segments.profiles"),
                    options.get("segment"), Path.of(options.get("out")), out);
            out.printf("%s: %d members among %d profiles; %d rows written to %s (%d without a hashed email or phone)%n",
                    options.get("segment"), counts.members(), counts.profiles(), counts.written(), options.get("out"),
                    counts.members() - counts.written());
            return 0;
        } catch (IOException | RuntimeException e) {
            err.println("cannot write the snapshot: " + e.getMessage());
            return 1;
        }
    }

    public static Counts write(String bootstrapServers, String topic, String segment, Path file, PrintStream progress)
            throws IOException {
        SegmentProfileCodec codec = new SegmentProfileCodec();
        Map<String, SegmentProfile> latest = new TreeMap<>();
        long read = TopicReader.readToEnd(bootstrapServers, topic, Duration.ofMinutes(10), record -> {
            if (record.value() == null) { // a tombstone: the user is gone
                latest.remove(new String(record.key(), StandardCharsets.UTF_8));
                return;
            }
            SegmentProfile profile = codec.decode(record.value());
            SegmentProfile known = latest.get(profile.userId());
            if (known == null || known.asOf() <= profile.asOf()) {
                latest.put(profile.userId(), profile);
            }
            if (latest.size() % 100_000 == 0) {
                progress.printf("  read %,d profiles%n", latest.size());
            }
        });
        int members = 0;
        int written = 0;
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        try (BufferedWriter csv = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            csv.write("email,phone,extern_id\n");
            for (SegmentProfile profile : latest.values()) {
                if (profile.mergedInto() != null || !profile.segments().contains(segment)) {
                    continue;
                }
                members++;
                Object email = profile.traits().get("email_sha256");
                Object phone = profile.traits().get("phone_sha256");
                if (email == null && phone == null) {
                    continue;
                }
                csv.write((email == null ? "" : email) + "," + (phone == null ? "" : phone) + ","
                        + csvField(profile.userId()) + "\n");
                written++;
            }
        }
        progress.printf("  %,d records read from %s%n", read, topic);
        return new Counts(latest.size(), members, written);
    }

    /** A user id as a CSV field: quoted when it holds a comma, a quote or a line break. */
    static String csvField(String value) {
        return value.matches("[^,\"\\r\\n]*") ? value : "\"" + value.replace("\"", "\"\"") + "\"";
    }
}
