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

/** Announces a promoted version on models.published (key: model name; the topic is compacted), where the stream picks it up. */
public final class Announcer {
    public static final String DEFAULT_TOPIC = "models.published";

    private Announcer() {
    }

    /** Sends and waits for the broker's acknowledgement; a failure is thrown, not logged away. */
    public static ModelPublished announce(String bootstrapServers, String topic, ModelRegistry registry,
                                          ModelManifest promoted, String reason) {
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
        return event;
    }
}
