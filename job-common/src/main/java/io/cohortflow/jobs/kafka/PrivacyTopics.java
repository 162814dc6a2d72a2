package io.cohortflow.jobs.kafka;

import io.cohortflow.core.privacy.PrivacyRequest;
import io.cohortflow.core.privacy.PrivacyRequestCodec;
import io.cohortflow.core.privacy.PrivacyStatus;
import io.cohortflow.core.privacy.PrivacyStatusCodec;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The two compacted privacy topics, read and written outside the streaming jobs (the CLI, the history erasure, the
 * training): privacy.requests (the requests, by request id) and privacy.status (each stage's reports, by
 * {@link PrivacyStatus#key()}).
 */
public final class PrivacyTopics {
    private static final Duration READ_TIMEOUT = Duration.ofMinutes(2);

    private PrivacyTopics() {
    }

    /** Every request on {@code topic}, the latest per request id, in the order first recorded. */
    public static List<PrivacyRequest> requests(String bootstrapServers, String topic) {
        PrivacyRequestCodec codec = new PrivacyRequestCodec();
        Map<String, PrivacyRequest> latest = new LinkedHashMap<>();
        TopicReader.readToEnd(bootstrapServers, topic, READ_TIMEOUT, r -> {
            String key = r.key() == null ? null : new String(r.key(), StandardCharsets.UTF_8);
            if (r.value() == null) {
                latest.remove(key);
            } else {
                PrivacyRequest request = codec.decode(r.value());
                latest.put(request.requestId(), request);
            }
        });
        return new ArrayList<>(latest.values());
    }

    /** Every report on {@code topic}, the latest per part. */
    public static List<PrivacyStatus> reports(String bootstrapServers, String topic) {
        PrivacyStatusCodec codec = new PrivacyStatusCodec();
        Map<String, PrivacyStatus> latest = new LinkedHashMap<>();
        TopicReader.readToEnd(bootstrapServers, topic, READ_TIMEOUT, r -> {
            if (r.value() != null) {
                PrivacyStatus report = codec.decode(r.value());
                latest.put(report.key(), report);
            }
        });
        return new ArrayList<>(latest.values());
    }

    /** Writes {@code reports} and waits until the broker has them all (acks=all). */
    public static void report(String bootstrapServers, String topic, Collection<PrivacyStatus> reports) {
        PrivacyStatusCodec codec = new PrivacyStatusCodec();
        try (var producer = new KafkaProducer<byte[], byte[]>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                bootstrapServers, ProducerConfig.ACKS_CONFIG, "all"), new ByteArraySerializer(), new ByteArraySerializer())) {
            List<Future<?>> sent = new ArrayList<>();
            for (PrivacyStatus report : reports) {
                sent.add(producer.send(new ProducerRecord<>(topic, report.key().getBytes(StandardCharsets.UTF_8),
                        codec.encode(report))));
            }
            for (Future<?> f : sent) {
                f.get(1, TimeUnit.MINUTES);
            }
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("the status was not recorded on " + topic + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted before the status was recorded on " + topic, e);
        }
    }
}
