package io.cohortflow.collector;

import io.cohortflow.core.config.CommandLine;
import io.cohortflow.core.config.ConfFiles;
import io.cohortflow.core.config.Durations;
import io.cohortflow.core.config.TopicsConfig;

import java.time.Duration;
import java.util.Map;
import java.util.Set;

/**
 * Options of the collector.
 *
 * <pre>
 * --bootstrap-servers H:P   Kafka (required)
 * --port N                  HTTP port (default 8088; 0 = any free port)
 * --host H                  address to listen on (default 0.0.0.0)
 * --topics-config FILE      topics.yaml (default: the shipped conf/topics.yaml); --topic.raw=NAME renames events.raw
 * --write-keys FILE         accepted write keys, by SHA-256 (default: the shipped conf/collector/write-keys.yaml)
 * --webhooks FILE           webhook sources, their signature schemes and the variables holding their secrets
 *                           (default: the shipped conf/collector/webhooks.yaml)
 * --max-call-bytes N        one call, after decompression (default 32768: Segment's limit)
 * --max-batch-bytes N       one batch request, after decompression (default 512000: Segment's 500 KB)
 * --produce-timeout D       how long a request waits for Kafka to acknowledge all its calls before it gets 503
 *                           (default 10s)
 * --rate-limit N            calls per second per write key, 0 = none (default 0)
 * --trust-received-at       take a request's {@code X-Received-At} header (epoch ms) as its receive time instead of
 *                           the collector's clock: for a trusted sender that replays deliveries with their original
 *                           receive times (the local run's simulator, a migration from an archive). Never on an
 *                           endpoint the public can reach: a client could then place its calls anywhere in time.
 * </pre>
 */
public record CollectorOptions(String bootstrapServers, String host, int port, String rawTopic, String writeKeys,
                               String webhooks, int maxCallBytes, int maxBatchBytes, Duration produceTimeout, double rateLimit,
                               boolean trustReceivedAt) {

    /** Options for tests and the local run: everything by default but Kafka, the port and the keys. */
    public static CollectorOptions local(String bootstrapServers, String rawTopic, int port) {
        return new CollectorOptions(bootstrapServers, "127.0.0.1", port, rawTopic, null, null, 32_768, 512_000,
                Duration.ofSeconds(10), 0, false);
    }

    public CollectorOptions withRateLimit(double callsPerSecond) {
        return new CollectorOptions(bootstrapServers, host, port, rawTopic, writeKeys, webhooks, maxCallBytes,
                maxBatchBytes, produceTimeout, callsPerSecond, trustReceivedAt);
    }

    public CollectorOptions withProduceTimeout(Duration timeout) {
        return new CollectorOptions(bootstrapServers, host, port, rawTopic, writeKeys, webhooks, maxCallBytes,
                maxBatchBytes, timeout, rateLimit, trustReceivedAt);
    }

    /** With {@code --trust-received-at}: the {@code X-Received-At} header, when a request has one, is its receive time. */
    public CollectorOptions trustingReceivedAt() {
        return new CollectorOptions(bootstrapServers, host, port, rawTopic, writeKeys, webhooks, maxCallBytes,
                maxBatchBytes, produceTimeout, rateLimit, true);
    }

    private static final Set<String> KEYS = Set.of("bootstrap-servers", "port", "host", "topics-config", "topic.raw",
            "write-keys", "webhooks", "max-call-bytes", "max-batch-bytes", "produce-timeout", "rate-limit",
            "trust-received-at");

    public static CollectorOptions parse(String[] args) {
        Map<String, String> opts = CommandLine.parse(args, KEYS);
        String bootstrap = opts.get("bootstrap-servers");
        if (bootstrap == null) {
            throw new IllegalArgumentException("--bootstrap-servers is required");
        }
        TopicsConfig topics = opts.containsKey("topics-config") ? TopicsConfig.load(opts.get("topics-config"))
                : TopicsConfig.defaults();
        return new CollectorOptions(bootstrap, opts.getOrDefault("host", "0.0.0.0"),
                Integer.parseInt(opts.getOrDefault("port", "8088")),
                opts.getOrDefault("topic.raw", topics.name(TopicsConfig.RAW)),
                opts.getOrDefault("write-keys", ConfFiles.defaultLocation("collector/write-keys.yaml")),
                opts.getOrDefault("webhooks", ConfFiles.defaultLocation("collector/webhooks.yaml")),
                Integer.parseInt(opts.getOrDefault("max-call-bytes", "32768")),
                Integer.parseInt(opts.getOrDefault("max-batch-bytes", "512000")),
                duration(opts.getOrDefault("produce-timeout", "10s")),
                Double.parseDouble(opts.getOrDefault("rate-limit", "0")),
                Boolean.parseBoolean(opts.getOrDefault("trust-received-at", "false")));
    }

    /** {@code 500ms}, {@code 10s}, {@code 2min}, {@code 1h} ({@link Durations}). */
    static Duration duration(String text) {
        return Durations.parse(text);
    }
}
