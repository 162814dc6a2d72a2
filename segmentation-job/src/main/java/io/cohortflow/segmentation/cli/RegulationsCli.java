package io.cohortflow.segmentation.cli;

import io.cohortflow.core.config.CommandLine;
import io.cohortflow.core.privacy.PrivacyRequest;
import io.cohortflow.core.privacy.PrivacyRequestCodec;
import io.cohortflow.core.privacy.RegulationStatus;
import io.cohortflow.jobs.kafka.PrivacyTopics;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/**
 * Records privacy requests (GDPR erasure, CCPA deletion, suppression) on privacy.requests, where the jobs act on
 * them, and shows what was recorded.
 *
 * <pre>
 * regulations submit --type DELETE|SUPPRESS|SUPPRESS_WITH_DELETE (--ids ID,ID,... | --ids-file FILE)
 *     --requester WHO --bootstrap-servers HOST:PORT [--topic privacy.requests] [--request-id ID]
 * regulations show ID --bootstrap-servers HOST:PORT [--topic privacy.requests]
 * regulations status ID --bootstrap-servers HOST:PORT [--topic privacy.requests] [--status-topic privacy.status]
 * </pre>
 * A request names up to 5,000 user ids or anonymous ids ({@code --ids-file}: one a line). {@code submit} prints the
 * request's id once the broker has it (all replicas), and refuses an id already recorded. {@code status} prints each
 * stage (ingest, segmentation, history, models) as pending, running or done, and when, from the reports on
 * privacy.status ({@link RegulationStatus}). Exit code 0 on success, 1 on invalid input, a request not recorded, or a
 * request not found.
 */
public final class RegulationsCli {
    private static final Set<String> KEYS = Set.of("bootstrap-servers", "topic", "type", "ids", "ids-file",
            "requester", "request-id", "status-topic");
    private static final String DEFAULT_TOPIC = "privacy.requests";
    private static final String DEFAULT_STATUS_TOPIC = "privacy.status";

    private RegulationsCli() {
    }

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    public static int run(String[] args, PrintStream out, PrintStream err) {
        if (args.length < 1) {
            err.println("usage: regulations submit --type DELETE|SUPPRESS|SUPPRESS_WITH_DELETE (--ids ID,... | "
                    + "--ids-file FILE) --requester WHO --bootstrap-servers HOST:PORT [--topic T] [--request-id ID]"
                    + " | show ID --bootstrap-servers HOST:PORT [--topic T]"
                    + " | status ID --bootstrap-servers HOST:PORT [--topic T] [--status-topic T]");
            return 1;
        }
        List<String> positional = new ArrayList<>();
        int i = 1;
        while (i < args.length && !args[i].startsWith("--")) {
            positional.add(args[i++]);
        }
        try {
            Map<String, String> options = CommandLine.parse(Arrays.copyOfRange(args, i, args.length), KEYS);
            String bootstrap = options.get("bootstrap-servers");
            if (bootstrap == null) {
                throw new IllegalArgumentException("--bootstrap-servers is required");
            }
            String topic = options.getOrDefault("topic", DEFAULT_TOPIC);
            return switch (args[0]) {
                case "submit" -> {
                    PrivacyRequest request = request(options, Instant.now());
                    if (find(request.requestId(), bootstrap, topic) != null) {
                        throw new IllegalArgumentException("a request " + request.requestId() + " is recorded on "
                                + topic + " already: a request is recorded once (submit a new one)");
                    }
                    submit(request, bootstrap, topic);
                    out.printf("recorded %s request %s for %,d ids on %s%n", request.type(), request.requestId(),
                            request.ids().size(), topic);
                    out.println(request.requestId());
                    yield 0;
                }
                case "show" -> {
                    if (positional.size() != 1) {
                        throw new IllegalArgumentException("show takes one request id");
                    }
                    PrivacyRequest found = find(positional.get(0), bootstrap, topic);
                    if (found == null) {
                        err.println("no request " + positional.get(0) + " on " + topic);
                        yield 1;
                    }
                    out.printf("%s %s: %,d ids, requested %s by %s%n", found.requestId(), found.type(),
                            found.ids().size(), Instant.ofEpochMilli(found.requestedAt()), found.requester());
                    yield 0;
                }
                case "status" -> {
                    if (positional.size() != 1) {
                        throw new IllegalArgumentException("status takes one request id");
                    }
                    String id = positional.get(0);
                    List<PrivacyRequest> all = PrivacyTopics.requests(bootstrap, topic);
                    PrivacyRequest found = all.stream().filter(r -> r.requestId().equals(id)).findFirst().orElse(null);
                    if (found == null) {
                        err.println("no request " + id + " on " + topic);
                        yield 1;
                    }
                    List<io.cohortflow.core.privacy.PrivacyStatus> reports = PrivacyTopics.reports(bootstrap,
                            options.getOrDefault("status-topic", DEFAULT_STATUS_TOPIC));
                    RegulationStatus status = RegulationStatus.of(found, reports);
                    print(status, out);
                    boolean done = status.done();
                    // The follow-ups ingest made for the devices linked to the ids (their stages are hers too).
                    for (PrivacyRequest followUp : all) {
                        if (id.equals(followUp.origin())) {
                            RegulationStatus linked = RegulationStatus.of(followUp, reports);
                            print(linked, out);
                            done &= linked.done();
                        }
                    }
                    out.println(done ? "every stage done" : "not done yet");
                    yield 0;
                }
                default -> throw new IllegalArgumentException("unknown command " + args[0] + " (submit, show, status)");
            };
        } catch (IllegalArgumentException | IOException e) {
            err.println(e.getMessage());
            return 1;
        }
    }

    /** One line for the request, then one per stage: its progress, since when or when done, and what was done. */
    static void print(RegulationStatus status, PrintStream out) {
        PrivacyRequest r = status.request();
        out.printf("%s %s: %,d ids, requested %s by %s: %s%n", r.requestId(), r.type(), r.ids().size(),
                Instant.ofEpochMilli(r.requestedAt()), r.requester(), status.done() ? "done" : "in progress");
        for (RegulationStatus.StageStatus s : status.stages()) {
            String when = switch (s.progress()) {
                case DONE -> String.format("done at %s (%.1f s after the request)", Instant.ofEpochMilli(s.done()),
                        (s.done() - r.requestedAt()) / 1000.0);
                case RUNNING -> "running since " + Instant.ofEpochMilli(s.since()) + ", " + s.parts() + " of " + s.of()
                        + " parts done";
                case PENDING -> "pending";
                case NOT_APPLICABLE -> "not applicable to " + r.type();
            };
            out.printf("  %-13s %s%s%n", s.stage().name().toLowerCase(java.util.Locale.ROOT), when,
                    s.detail().isEmpty() || s.progress() == RegulationStatus.Progress.NOT_APPLICABLE ? ""
                            : ": " + s.detail());
        }
    }

    static PrivacyRequest request(Map<String, String> options, Instant now) throws IOException {
        String type = options.get("type");
        if (type == null) {
            throw new IllegalArgumentException("--type is required: DELETE, SUPPRESS or SUPPRESS_WITH_DELETE");
        }
        List<String> ids = new ArrayList<>();
        if (options.containsKey("ids")) {
            Arrays.stream(options.get("ids").split(",")).map(String::strip).filter(s -> !s.isEmpty()).forEach(ids::add);
        }
        if (options.containsKey("ids-file")) {
            Files.readAllLines(Path.of(options.get("ids-file"))).stream().map(String::strip)
                    .filter(s -> !s.isEmpty()).forEach(ids::add);
        }
        PrivacyRequest.Type parsed;
        try {
            parsed = PrivacyRequest.Type.valueOf(type);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--type " + type + ": DELETE, SUPPRESS or SUPPRESS_WITH_DELETE");
        }
        return new PrivacyRequest(options.getOrDefault("request-id", "req-" + UUID.randomUUID()), parsed, ids,
                now.toEpochMilli(), options.get("requester"));
    }

    private static void submit(PrivacyRequest request, String bootstrap, String topic) {
        try (var producer = new KafkaProducer<byte[], byte[]>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ProducerConfig.ACKS_CONFIG, "all"), new ByteArraySerializer(), new ByteArraySerializer())) {
            producer.send(new ProducerRecord<>(topic, request.requestId().getBytes(StandardCharsets.UTF_8),
                    new PrivacyRequestCodec().encode(request))).get(1, java.util.concurrent.TimeUnit.MINUTES);
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            throw new IllegalArgumentException("the request was not recorded on " + topic + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalArgumentException("interrupted before the request was recorded", e);
        }
    }

    private static PrivacyRequest find(String requestId, String bootstrap, String topic) {
        return PrivacyTopics.requests(bootstrap, topic).stream().filter(r -> r.requestId().equals(requestId))
                .findFirst().orElse(null);
    }
}
