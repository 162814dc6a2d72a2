package io.cohortflow.jobs.kafka;

import io.cohortflow.core.codec.JsonCodec;
import io.cohortflow.jobs.options.KafkaOptions;
import io.cohortflow.jobs.types.JsonRecordTypeInfo;
import org.apache.flink.api.java.typeutils.ResultTypeQueryable;
import org.apache.flink.api.common.serialization.DeserializationSchema;
import org.apache.flink.api.common.serialization.SerializationSchema;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.OffsetResetStrategy;
import org.apache.kafka.clients.producer.ProducerConfig;

import java.nio.charset.StandardCharsets;

/** Builds the Kafka sources and sinks of the jobs the same way everywhere. */
public final class KafkaIo {
    private KafkaIo() {
    }

    /**
     * A source over one topic. It starts from the group's committed offsets (earliest when there are none) and, for
     * transactional input, reads committed data only. With {@code bounded}, it stops at the end offsets seen at start:
     * tests and backfills use that to run a job to completion.
     */
    public static <T> KafkaSource<T> source(String bootstrapServers, String topic, String groupId,
                                            KafkaRecordDeserializationSchema<T> deserializer, boolean bounded) {
        var builder = KafkaSource.<T>builder()
                .setBootstrapServers(bootstrapServers)
                .setTopics(topic)
                .setGroupId(groupId)
                .setStartingOffsets(OffsetsInitializer.committedOffsets(OffsetResetStrategy.EARLIEST))
                .setDeserializer(deserializer)
                .setProperty(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed")
                // Commit offsets on checkpoints only for monitoring (lag); Flink's state holds the real positions.
                .setProperty("commit.offsets.on.checkpoint", "true");
        if (bounded) {
            builder.setBounded(OffsetsInitializer.latest());
        }
        return builder.build();
    }

    /** A source whose values are JSON records decoded by {@code codec}; undecodable values fail the job. */
    public static <T> KafkaSource<T> jsonSource(String bootstrapServers, String topic, String groupId,
                                                JsonCodec<T> codec, TypeInformation<T> type, boolean bounded) {
        return source(bootstrapServers, topic, groupId,
                KafkaRecordDeserializationSchema.valueOnly(new JsonDeserializationSchema<>(codec, type)), bounded);
    }

    /**
     * A sink writing JSON records to {@code topic}, keyed by {@code key}. Exactly-once sinks write in Kafka
     * transactions committed on checkpoints, so readers must use {@code read_committed}.
     */
    public static <T> KafkaSink<T> jsonSink(KafkaOptions options, String topic, JsonCodec<T> codec,
                                            SerializationSchema<T> key, String transactionalIdPrefix) {
        var record = KafkaRecordSerializationSchema.<T>builder()
                .setTopic(topic)
                .setValueSerializationSchema(new JsonSerializationSchema<>(codec));
        if (key != null) {
            record.setKeySerializationSchema(key);
        }
        return KafkaSink.<T>builder()
                .setBootstrapServers(options.bootstrapServers())
                .setRecordSerializer(record.build())
                .setDeliveryGuarantee(options.deliveryGuarantee())
                .setTransactionalIdPrefix(transactionalIdPrefix)
                .setProperty(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG,
                        String.valueOf(options.transactionTimeout().toMillis()))
                .setProperty(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4")
                .build();
    }

    /** UTF-8 bytes of a string key. */
    public static byte[] utf8(String value) {
        return value == null ? null : value.getBytes(StandardCharsets.UTF_8);
    }

    /**
     * Encodes record values with a core codec. It states its type (ResultTypeQueryable) because the connector's lineage
     * reporting would otherwise try, and fail, to infer it by reflection.
     */
    static final class JsonSerializationSchema<T> implements SerializationSchema<T>, ResultTypeQueryable<T> {
        private static final long serialVersionUID = 1L;
        private final JsonCodec<T> codec;

        JsonSerializationSchema(JsonCodec<T> codec) {
            this.codec = codec;
        }

        @Override
        public byte[] serialize(T element) {
            return codec.encode(element);
        }

        @Override
        public TypeInformation<T> getProducedType() {
            return new JsonRecordTypeInfo<>(codec);
        }
    }

    /** Decodes JSON record values with a core codec. */
    static final class JsonDeserializationSchema<T> implements DeserializationSchema<T> {
        private static final long serialVersionUID = 1L;
        private final JsonCodec<T> codec;
        private final TypeInformation<T> type;

        JsonDeserializationSchema(JsonCodec<T> codec, TypeInformation<T> type) {
            this.codec = codec;
            this.type = type;
        }

        @Override
        public T deserialize(byte[] message) {
            return codec.decode(message);
        }

        @Override
        public boolean isEndOfStream(T nextElement) {
            return false;
        }

        @Override
        public TypeInformation<T> getProducedType() {
            return type;
        }
    }
}
