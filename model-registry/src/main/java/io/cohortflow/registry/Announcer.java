package io.cohortflow.registry;

import io.cohortflow.core.model.ModelManifest;
import io.cohortflow.core.model.ModelPublished;
import io.cohortflow.core.model.ModelPublishedCodec;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ExecutionException;

/**
 * Announces a promoted version on models.published (key: model name; the topic is compacted), where the stream picks it
 * up. A version trained without the people of privacy requests (its provenance's {@link #PRIVACY_REQUESTS}) also
 * reports their models stage done on privacy.status: a model that learnt nothing of them is now the one in use.
 */
public final class Announcer {
    public static final String DEFAULT_TOPIC = "models.published";
    public static final String DEFAULT_STATUS_TOPIC = "privacy.status";
    /** Provenance key: the privacy requests whose people the training left out and whose models stage is not done. */
    public static final String PRIVACY_REQUESTS = "privacyRequests";

    private Announcer() {
    }

    public static ModelPublished announce(String bootstrapServers, String topic, ModelRegistry registry,
                                          ModelManifest promoted, String reason) {
        return announce(bootstrapServers, topic, registry, promoted, reason, DEFAULT_STATUS_TOPIC);
    }

    /**
     * Sends and waits for the broker's acknowledgement; a failure is thrown, not logged away. The privacy reports
     * follow; one that fails is printed, and the next promotion reports the same requests (the training lists every
     * request not reported yet).
     */
    public static ModelPublished announce(String bootstrapServers, String topic, ModelRegistry registry,
                                          ModelManifest promoted, String reason, String statusTopic) {
        ModelPublished event = new ModelPublished(promoted.name(), promoted.version(), registry.root().toString(),
                promoted.featureSchemaHash(), Instant.now().toString(), reason);
        try (var producer = new KafkaProducer<byte[], byte[]>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                bootstrapServers, ProducerConfig.ACKS_CONFIG, "all", ProducerConfig.MAX_BLOCK_MS_CONFIG, 60_000),
                new ByteArraySerializer(), new ByteArraySerializer())) {
            producer.send(new ProducerRecord<>(topic, promoted.name().getBytes(StandardCharsets.UTF_8),
                    new ModelPublishedCodec().encode(event))).get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while announcing " + promoted.name() + " v" + promoted.version(), e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("could not announce " + promoted.name() + " v" + promoted.version()
                    + " on " + topic + ": " + e.getCause().getMessage(), e.getCause());
        }
        reportPrivacy(bootstrapServers, statusTopic, promoted);
        return event;
    }

    private static void reportPrivacy(String bootstrapServers, String statusTopic, ModelManifest promoted) {
        String listed = promoted.provenance().getOrDefault(PRIVACY_REQUESTS, "");
        if (listed.isBlank()) {
            return;
        }
        io.cohortflow.core.privacy.PrivacyStatusCodec codec = new io.cohortflow.core.privacy.PrivacyStatusCodec();
        long now = System.currentTimeMillis();
        try (var producer = new KafkaProducer<byte[], byte[]>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                bootstrapServers, ProducerConfig.ACKS_CONFIG, "all", ProducerConfig.MAX_BLOCK_MS_CONFIG, 60_000),
                new ByteArraySerializer(), new ByteArraySerializer())) {
            java.util.List<java.util.concurrent.Future<?>> sent = new java.util.ArrayList<>();
            for (String requestId : listed.split(",")) {
                // One report per version (the stage's time is its first): a later version does not move it.
                var report = new io.cohortflow.core.privacy.PrivacyStatus(requestId.strip(),
                        io.cohortflow.core.privacy.PrivacyStatus.Stage.MODELS, "versions", "v" + promoted.version(), 1,
                        io.cohortflow.core.privacy.PrivacyStatus.State.DONE, now, promoted.name() + " v"
                        + promoted.version() + ", trained without them, is in use");
                sent.add(producer.send(new ProducerRecord<>(statusTopic, report.key().getBytes(StandardCharsets.UTF_8),
                        codec.encode(report))));
            }
            for (var f : sent) {
                f.get();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | RuntimeException e) {
            System.err.println("WARNING the privacy requests' models stage was not reported on " + statusTopic + ": "
                    + e.getMessage() + "; the next promotion reports it");
        }
    }
}
