package io.cohortflow.segmentation.cli;

import io.cohortflow.core.config.CommandLine;
import io.cohortflow.core.privacy.PrivacyRequest;
import io.cohortflow.core.privacy.PrivacyRequestCodec;
import io.cohortflow.jobs.kafka.TopicReader;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
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
 * </pre>
 * A request names up to 5,000 user ids or anonymous ids ({@code --ids-file}: one a line). {@code submit} prints the
 * request's id once the broker has it (all replicas), and refuses an id already recorded. Exit code 0 on success, 1
 * on invalid input, a request not recorded, or a request not found.
 */
public final class RegulationsCli {
    private static final Set<String> KEYS = Set.of("bootstrap-servers", "topic", "type", "ids", "ids-file",
            "requester", "request-id");
    private static final String DEFAULT_TOPIC = "privacy.requests";

    private RegulationsCli() {
    }

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    public static int run(String[] args, PrintStream out, PrintStream err) {
        if (args.length < 1) {
            err.println("usage: regulations submit --type DELETE|SUPPRESS|SUPPRESS_WITH_DELETE (--ids ID,... | "
                    + "--ids-file FILE) --requester WHO --bootstrap-servers HOST:PORT [--topic T] [--request-id ID]"
                    + " | show ID --bootstrap-servers HOST:PORT [--topic T]");
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
                default -> throw new IllegalArgumentException("unknown command " + args[0] + " (submit, show)");
            };
        } catch (IllegalArgumentException | IOException e) {
            err.println(e.getMessage());
            return 1;
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
        PrivacyRequestCodec codec = new PrivacyRequestCodec();
        PrivacyRequest[] found = {null};
        TopicReader.readToEnd(bootstrap, topic, Duration.ofMinutes(1), r -> {
            if (r.key() != null && requestId.equals(new String(r.key(), StandardCharsets.UTF_8)) && r.value() != null) {
                found[0] = codec.decode(r.value());
            }
        });
        return found[0];
    }
}
