package io.cohortflow.activation;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.cohortflow.core.config.Durations;
import io.cohortflow.core.segment.ChangeType;
import io.cohortflow.core.segment.SegmentChange;

import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * One place segment changes are delivered to, as declared in {@code conf/destinations/<id>.yaml}: which segments and
 * which change types it takes, where and how it is called (endpoint, auth, payload format), how changes are batched,
 * how fast it may be called, and how long a change is retried before it is dead-lettered. Secrets are never in the
 * file: it names the environment variable that holds them, read where the job runs.
 *
 * @param id               the file's name and the metrics' {@code destination} label
 * @param format           {@link Format#SEGMENT} or {@link Format#WEBHOOK}
 * @param endpoint         the URL every batch is POSTed to
 * @param auth             {@link Auth#NONE}, a bearer token, or an HMAC signature over timestamp and body
 * @param secretEnv        the environment variable holding the token or HMAC secret (null with no auth)
 * @param segments         segment ids taken; {@code *} takes all
 * @param changes          ENTER and/or EXIT
 * @param batchSize        changes per request at most
 * @param linger           how long a batch waits for more changes before it goes
 * @param requestsPerSecond the destination's rate limit (0: none)
 * @param concurrency      requests in flight at once, at most (per parallel instance)
 * @param maxAttempts      attempts per batch before its changes are dead-lettered
 * @param maxAge           how long after its first attempt a batch is still retried
 * @param backoff          the first retry's delay; each next one doubles, with jitter, up to {@code maxBackoff}
 * @param maxBackoff       the longest delay between attempts (a longer Retry-After is honoured, within maxAge)
 * @param timeout          one request's timeout
 * @param profileFields    webhook format: the profile's parts sent with each change (traits, scores, features,
 *                         segments, persona)
 */
public record Destination(String id, Format format, URI endpoint, Auth auth, String secretEnv, Set<String> segments,
                          Set<ChangeType> changes, int batchSize, Duration linger, double requestsPerSecond,
                          int concurrency, int maxAttempts, Duration maxAge, Duration backoff, Duration maxBackoff, Duration timeout,
                          List<String> profileFields) implements Serializable {
    private static final long serialVersionUID = 1L;
    /** The profile parts a webhook can carry. */
    public static final Set<String> PROFILE_FIELDS = Set.of("traits", "scores", "features", "segments", "persona");
    private static final ObjectMapper YAML = YAMLMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES).build();

    /** The payload a destination gets. */
    public enum Format {
        /** Segment's audience calls: "Audience Entered"/"Audience Exited" tracks plus identifies (Engage's shape). */
        SEGMENT,
        /** The change with the profile fields the destination selected. */
        WEBHOOK
    }

    public enum Auth { NONE, BEARER, HMAC }

    public Destination {
        Objects.requireNonNull(id, "id");
        if (!id.matches("[a-z0-9][a-z0-9_-]{0,63}")) {
            throw new IllegalArgumentException("destination id '" + id + "': lower-case letters, digits, - and _");
        }
        Objects.requireNonNull(format, id + ": format");
        Objects.requireNonNull(endpoint, id + ": endpoint");
        if (!"http".equals(endpoint.getScheme()) && !"https".equals(endpoint.getScheme())) {
            throw new IllegalArgumentException(id + ": the endpoint must be an http or https URL, got " + endpoint);
        }
        if (auth != Auth.NONE && (secretEnv == null || secretEnv.isBlank())) {
            throw new IllegalArgumentException(id + ": auth " + auth.name().toLowerCase(Locale.ROOT)
                    + " needs secretEnv, the environment variable holding the secret");
        }
        segments = Set.copyOf(segments);
        if (segments.isEmpty()) {
            throw new IllegalArgumentException(id + ": segments is empty (use [\"*\"] for all)");
        }
        changes = changes.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(changes));
        if (changes.isEmpty()) {
            throw new IllegalArgumentException(id + ": changes is empty (ENTER, EXIT or both)");
        }
        if (batchSize < 1 || batchSize > 1000) {
            throw new IllegalArgumentException(id + ": batch size must be 1 to 1000, got " + batchSize);
        }
        if (maxAttempts < 1) {
            throw new IllegalArgumentException(id + ": retry attempts must be at least 1");
        }
        if (concurrency < 1) {
            throw new IllegalArgumentException(id + ": concurrency must be at least 1");
        }
        if (requestsPerSecond < 0) {
            throw new IllegalArgumentException(id + ": rateLimit must not be negative");
        }
        profileFields = List.copyOf(profileFields);
        for (String field : profileFields) {
            if (!PROFILE_FIELDS.contains(field)) {
                throw new IllegalArgumentException(id + ": unknown profile field '" + field + "', known: "
                        + new TreeSet<>(PROFILE_FIELDS));
            }
        }
    }

    /** Whether this destination takes the change. */
    public boolean takes(SegmentChange change) {
        return changes.contains(change.type()) && (segments.contains("*") || segments.contains(change.segmentId()));
    }

    /** This destination called at another endpoint (the local run's receiver, a test's). */
    public Destination at(URI newEndpoint) {
        return new Destination(id, format, newEndpoint, auth, secretEnv, segments, changes, batchSize, linger,
                requestsPerSecond, concurrency, maxAttempts, maxAge, backoff, maxBackoff, timeout, profileFields);
    }

    /** The destinations of a directory's {@code *.yaml} files, sorted by id; ids must be unique. */
    public static List<Destination> loadAll(Path directory) {
        List<Destination> all = new ArrayList<>();
        try (Stream<Path> files = Files.list(directory)) {
            for (Path file : files.filter(f -> f.toString().endsWith(".yaml")).sorted().toList()) {
                all.add(load(file));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list destinations in " + directory + ": " + e.getMessage(), e);
        }
        Set<String> ids = new TreeSet<>();
        for (Destination destination : all) {
            if (!ids.add(destination.id())) {
                throw new IllegalArgumentException("two destinations have the id " + destination.id());
            }
        }
        return all.stream().sorted(java.util.Comparator.comparing(Destination::id)).toList();
    }

    public static Destination load(Path file) {
        File parsed;
        try {
            parsed = YAML.readValue(file.toFile(), File.class);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read destination " + file + ": " + e.getMessage(), e);
        }
        try {
            return parsed.toDestination();
        } catch (RuntimeException e) {
            throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
        }
    }

    /** "500ms", "5s", "10m", "1h" ({@link Durations}), or {@code fallback} when the file leaves it out. */
    static Duration duration(String text, Duration fallback) {
        return text == null ? fallback : Durations.parse(text);
    }

    /** The file as written. */
    record File(String id, String format, String endpoint, AuthLine auth, List<String> segments, List<String> changes,
                Map<String, String> batch, Double rateLimit, Integer concurrency, Map<String, String> retry,
                String timeout, List<String> profileFields) {
        @JsonCreator
        File(@JsonProperty("id") String id, @JsonProperty("format") String format,
             @JsonProperty("endpoint") String endpoint, @JsonProperty("auth") AuthLine auth,
             @JsonProperty("segments") List<String> segments, @JsonProperty("changes") List<String> changes,
             @JsonProperty("batch") Map<String, String> batch, @JsonProperty("rateLimit") Double rateLimit,
             @JsonProperty("concurrency") Integer concurrency, @JsonProperty("retry") Map<String, String> retry, @JsonProperty("timeout") String timeout,
             @JsonProperty("profileFields") List<String> profileFields) {
            this.id = id;
            this.format = format;
            this.endpoint = endpoint;
            this.auth = auth;
            this.segments = segments;
            this.changes = changes;
            this.batch = batch == null ? Map.of() : batch;
            this.rateLimit = rateLimit;
            this.concurrency = concurrency;
            this.retry = retry == null ? Map.of() : retry;
            this.timeout = timeout;
            this.profileFields = profileFields;
        }

        Destination toDestination() {
            if (endpoint == null) {
                throw new IllegalArgumentException("no endpoint");
            }
            Set<String> unknown = new TreeSet<>(batch.keySet());
            unknown.removeAll(Set.of("size", "linger"));
            unknown.addAll(retry.keySet().stream().filter(k -> !Set.of("attempts", "maxAge", "backoff", "maxBackoff")
                    .contains(k)).toList());
            if (!unknown.isEmpty()) {
                throw new IllegalArgumentException("unknown batch or retry settings " + unknown);
            }
            Set<ChangeType> types = EnumSet.noneOf(ChangeType.class);
            for (String change : changes == null ? List.of("ENTER", "EXIT") : changes) {
                types.add(ChangeType.valueOf(change.toUpperCase(Locale.ROOT)));
            }
            return new Destination(id,
                    Format.valueOf(Objects.requireNonNull(format, "no format (segment or webhook)").toUpperCase(Locale.ROOT)),
                    URI.create(endpoint),
                    auth == null ? Auth.NONE : Auth.valueOf(auth.type().toUpperCase(Locale.ROOT)),
                    auth == null ? null : auth.secretEnv(),
                    segments == null ? Set.of() : Set.copyOf(segments),
                    types,
                    Integer.parseInt(batch.getOrDefault("size", "100")),
                    duration(batch.get("linger"), Duration.ofSeconds(1)),
                    rateLimit == null ? 0 : rateLimit,
                    concurrency == null ? 8 : concurrency,
                    Integer.parseInt(retry.getOrDefault("attempts", "8")),
                    duration(retry.get("maxAge"), Duration.ofMinutes(10)),
                    duration(retry.get("backoff"), Duration.ofMillis(200)),
                    duration(retry.get("maxBackoff"), Duration.ofSeconds(30)),
                    duration(timeout, Duration.ofSeconds(10)),
                    profileFields == null ? List.of() : profileFields);
        }
    }

    record AuthLine(String type, String secretEnv) {
        @JsonCreator
        AuthLine(@JsonProperty("type") String type, @JsonProperty("secretEnv") String secretEnv) {
            this.type = Objects.requireNonNull(type, "auth needs a type (bearer, hmac or none)");
            this.secretEnv = secretEnv;
        }
    }
}
