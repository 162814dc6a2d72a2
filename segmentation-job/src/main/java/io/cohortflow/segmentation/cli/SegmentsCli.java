package io.cohortflow.segmentation.cli;

import io.cohortflow.core.config.CommandLine;
import io.cohortflow.core.segment.SegmentDefinition;
import io.cohortflow.core.segment.SegmentDefinitionCodec;
import io.cohortflow.core.segment.SegmentRules;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Validates segment definitions and publishes them to the running job, without a redeploy.
 *
 * <pre>
 * segments validate FILE
 * segments publish FILE --bootstrap-servers HOST:PORT [--topic segments.definitions]
 * segments delete ID [ID ...] --bootstrap-servers HOST:PORT [--topic segments.definitions]
 * </pre>
 * {@code publish} validates the whole file first and publishes nothing if any condition is invalid. Definitions are
 * keyed by segment id on a compacted topic: the latest one per id is the running one; {@code delete} publishes a
 * deletion (the segment's members EXIT at once). Exit code 0 on success, 1 on invalid input.
 */
public final class SegmentsCli {
    private static final Set<String> KEYS = Set.of("bootstrap-servers", "topic");

    private SegmentsCli() {
    }

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    public static int run(String[] args, PrintStream out, PrintStream err) {
        if (args.length < 2) {
            err.println("usage: segments validate FILE | publish FILE --bootstrap-servers HOST:PORT [--topic T]"
                    + " | delete ID... --bootstrap-servers HOST:PORT [--topic T]");
            return 1;
        }
        String command = args[0];
        List<String> positional = new ArrayList<>();
        int i = 1;
        while (i < args.length && !args[i].startsWith("--")) {
            positional.add(args[i++]);
        }
        Map<String, String> options = CommandLine.parse(Arrays.copyOfRange(args, i, args.length), KEYS);
        try {
            return switch (command) {
                case "validate" -> validate(positional.get(0), out, err) == null ? 1 : 0;
                case "publish" -> {
                    List<SegmentDefinition> definitions = validate(positional.get(0), out, err);
                    if (definitions == null) {
                        err.println("nothing published");
                        yield 1;
                    }
                    publish(definitions, options, out);
                    yield 0;
                }
                case "delete" -> {
                    publish(positional.stream().map(SegmentDefinition::tombstone).toList(), options, out);
                    yield 0;
                }
                default -> {
                    err.println("unknown command " + command);
                    yield 1;
                }
            };
        } catch (RuntimeException e) {
            err.println(e.getMessage());
            return 1;
        }
    }

    /** The file's definitions when all are valid, else null (each problem printed). */
    static List<SegmentDefinition> validate(String file, PrintStream out, PrintStream err) {
        List<SegmentDefinition> definitions;
        try {
            definitions = SegmentRules.load(file);
        } catch (RuntimeException e) {
            err.println("cannot read " + file + ": " + e.getMessage());
            return null;
        }
        boolean valid = true;
        for (SegmentDefinition definition : definitions) {
            try {
                SegmentRules.compile(definition);
                out.printf("ok       %-32s %s%n", definition.id(), definition.name());
            } catch (IllegalArgumentException e) {
                valid = false;
                err.printf("INVALID  %s%n", e.getMessage());
            }
        }
        return valid ? definitions : null;
    }

    private static void publish(List<SegmentDefinition> definitions, Map<String, String> options, PrintStream out) {
        String bootstrap = options.get("bootstrap-servers");
        if (bootstrap == null) {
            throw new IllegalArgumentException("--bootstrap-servers is required");
        }
        String topic = options.getOrDefault("topic", "segments.definitions");
        SegmentDefinitionCodec codec = new SegmentDefinitionCodec();
        try (var producer = new KafkaProducer<byte[], byte[]>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ProducerConfig.ACKS_CONFIG, "all"), new ByteArraySerializer(), new ByteArraySerializer())) {
            // Each definition is reported once the broker has it: a send that failed is an error, not "published".
            for (SegmentDefinition definition : definitions) {
                try {
                    producer.send(new ProducerRecord<>(topic, definition.id().getBytes(StandardCharsets.UTF_8),
                            codec.encode(definition))).get(2, TimeUnit.MINUTES);
                } catch (ExecutionException | TimeoutException e) {
                    throw new IllegalStateException(definition.id() + " was not written to " + topic + ": "
                            + (e.getCause() == null ? e : e.getCause()).getMessage(), e);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted before " + definition.id() + " was written", e);
                }
                out.printf("%s %s to %s%n", definition.deleted() ? "deleted" : "published", definition.id(), topic);
            }
        }
    }
}
