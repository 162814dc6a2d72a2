package io.cohortflow.simulator;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.serialization.ByteArraySerializer;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Writes deliveries to events.raw as the collector would: key = sender id, value = payload as received, header
 * {@code source}. The Kafka timestamp is the wall-clock send time; the simulated receive time is in the payload.
 */
public final class KafkaDeliverySink implements DeliverySink {
    public static final String SOURCE_HEADER = "source";
    /** The collector's receive time, epoch ms as text: webhooks carry no receivedAt of their own. */
    public static final String RECEIVED_AT_HEADER = "received-at";

    private final KafkaProducer<byte[], byte[]> producer;
    private final String topic;
    private final AtomicReference<Exception> failure = new AtomicReference<>();

    public KafkaDeliverySink(String bootstrapServers, String topic) {
        this.topic = topic;
        this.producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                ProducerConfig.ACKS_CONFIG, "all",
                // Ordered and retried without idempotence: an idempotent producer needs a producer id from the broker,
                // and a single-node test broker that has handed out thousands to exactly-once jobs can stall on that.
                ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, false,
                ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, 1,
                ProducerConfig.LINGER_MS_CONFIG, 5,
                ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4"),
                new ByteArraySerializer(), new ByteArraySerializer());
    }

    @Override
    public void send(Delivery delivery) {
        Exception previous = failure.get();
        if (previous != null) {
            throw new IllegalStateException("an earlier send to " + topic + " failed", previous);
        }
        byte[] key = delivery.key() == null ? null : delivery.key().getBytes(StandardCharsets.UTF_8);
        var record = new ProducerRecord<>(topic, null, key, delivery.payload(),
                List.of(new RecordHeader(SOURCE_HEADER, delivery.source().getBytes(StandardCharsets.UTF_8)),
                        new RecordHeader(RECEIVED_AT_HEADER,
                                Long.toString(delivery.deliveredAt()).getBytes(StandardCharsets.UTF_8))));
        producer.send(record, (metadata, e) -> {
            if (e != null) {
                failure.compareAndSet(null, e);
            }
        });
    }

    @Override
    public void flush() {
        producer.flush();
        Exception e = failure.get();
        if (e != null) {
            throw new IllegalStateException("sending to " + topic + " failed", e);
        }
    }

    @Override
    public void close() {
        producer.close();
    }
}
