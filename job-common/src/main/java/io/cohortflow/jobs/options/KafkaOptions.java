package io.cohortflow.jobs.options;

import io.cohortflow.core.config.TopicsConfig;
import org.apache.flink.connector.base.DeliveryGuarantee;

import java.io.Serializable;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * The Kafka side of every job: where the broker is, which topics play which role, and how outputs are delivered.
 *
 * <p>Options: {@code --bootstrap-servers} (required), {@code --topics-config} (path to a topics.yaml; default: the
 * shipped conf/topics.yaml), {@code --topic.<role>=<name>} to rename one topic, {@code --delivery-guarantee}
 * ({@code exactly-once}, the default, or {@code at-least-once} for lower latency; consumers dedupe by id),
 * {@code --transaction-timeout} (default 15min: at most the broker's {@code transaction.max.timeout.ms}, and
 * longer than a checkpoint interval plus the longest expected restart, or open transactions are aborted and the
 * job fails on commit), {@code --compression} of what the jobs write ({@code none}, the default, {@code zstd},
 * {@code lz4}, {@code snappy}, {@code gzip}: Kafka's producer codecs). Compression costs CPU on the writing task
 * thread: on a 2-core machine running broker and jobs, lz4 stalled the output for up to a second around every
 * checkpoint (event-to-change p99 about 800 ms against 95 ms without; LatencyBenchmark), zstd less (p99 234 ms).
 * {@code --max-record-bytes} (default 1 MiB) is the one size limit of what the jobs write: the producers' limit, what
 * the jobs keep their records under (ingest checks its caps against it), and what every output topic's
 * {@code max.message.bytes} must allow, checked at start ({@link io.cohortflow.jobs.kafka.KafkaLimits}).
 */
public record KafkaOptions(String bootstrapServers, TopicsConfig topics, Map<String, String> topicOverrides,
                           DeliveryGuarantee deliveryGuarantee, Duration transactionTimeout, String compression,
                           int maxRecordBytes)
        implements Serializable {
    public static final Set<String> COMPRESSIONS = Set.of("none", "zstd", "lz4", "snappy", "gzip");

    public static final Set<String> KEYS = Set.of("bootstrap-servers", "topics-config", "topic.*",
            "delivery-guarantee", "transaction-timeout", "compression",
            "max-record-bytes");
    /** Kafka's own default record size limit (a broker's message.max.bytes, a producer's max.request.size). */
    public static final int DEFAULT_MAX_RECORD_BYTES = 1024 * 1024;

    public KafkaOptions {
        Objects.requireNonNull(bootstrapServers, "bootstrapServers");
        Objects.requireNonNull(topics, "topics");
        topicOverrides = Map.copyOf(topicOverrides);
        Objects.requireNonNull(deliveryGuarantee, "deliveryGuarantee");
        Objects.requireNonNull(transactionTimeout, "transactionTimeout");
        if (maxRecordBytes < 64 * 1024) {
            throw new IllegalArgumentException("--max-record-bytes must be at least 65536, got " + maxRecordBytes);
        }
        if (!COMPRESSIONS.contains(compression)) {
            throw new IllegalArgumentException("--compression must be one of " + new java.util.TreeSet<>(COMPRESSIONS)
                    + ", got '" + compression + "'");
        }
        for (String role : topicOverrides.keySet()) {
            topics.spec(role); // fails on an unknown role
        }
    }

    public static KafkaOptions from(JobArgs args) {
        String topicsConfig = args.string("topics-config", null);
        TopicsConfig topics = topicsConfig == null ? TopicsConfig.defaults() : TopicsConfig.load(topicsConfig);
        return new KafkaOptions(
                args.required("bootstrap-servers"),
                topics,
                args.withPrefix("topic."),
                parseGuarantee(args.string("delivery-guarantee", "exactly-once")),
                args.duration("transaction-timeout", Duration.ofMinutes(15)),
                args.string("compression", "none").toLowerCase(Locale.ROOT),
                args.integer("max-record-bytes", DEFAULT_MAX_RECORD_BYTES));
    }

    /** The topic name for a role, after overrides. */
    public String topic(String role) {
        return topicOverrides.getOrDefault(role, topics.name(role));
    }

    static DeliveryGuarantee parseGuarantee(String value) {
        return switch (value.toLowerCase(Locale.ROOT).replace('_', '-')) {
            case "exactly-once" -> DeliveryGuarantee.EXACTLY_ONCE;
            case "at-least-once" -> DeliveryGuarantee.AT_LEAST_ONCE;
            default -> throw new IllegalArgumentException(
                    "--delivery-guarantee must be exactly-once or at-least-once, got '" + value + "'");
        };
    }
}
