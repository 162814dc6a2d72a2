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
import org.apache.kafka.clients.producer.ProducerRecord;

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
        return source(bootstrapServers, topic, groupId, deserializer, bounded,
                OffsetsInitializer.committedOffsets(OffsetResetStrategy.EARLIEST));
    }

    /**
     * A source over a compacted topic with deletions: a record with no value (a tombstone) becomes
     * {@code tombstone} of its key, so that a reader can forget what it kept of that key.
     */
    public static <T> KafkaSource<T> jsonSource(String bootstrapServers, String topic, String groupId,
                                                JsonCodec<T> codec, TypeInformation<T> type, boolean bounded,
                                                TombstoneOf<T> tombstone) {
        return source(bootstrapServers, topic, groupId, new KeyedJsonDeserializer<>(codec, type, tombstone), bounded);
    }

    /** What a tombstone of a key stands for, for {@link #jsonSource(String, String, String, JsonCodec,
     * TypeInformation, boolean, TombstoneOf)}. */
    @FunctionalInterface
    public interface TombstoneOf<T> extends java.io.Serializable {
        T of(String key);
    }

    /**
     * A source from the group's committed offsets, or from the end when it has none: what was on the topic before
     * the job's first start is not for it (privacy requests at segmentation, which erase what is known when they
     * come).
     */
    public static <T> KafkaSource<T> jsonSourceFromNowOn(String bootstrapServers, String topic, String groupId,
                                                         JsonCodec<T> codec, TypeInformation<T> type, boolean bounded) {
        return source(bootstrapServers, topic, groupId,
                KafkaRecordDeserializationSchema.valueOnly(new JsonDeserializationSchema<>(codec, type)), bounded,
                OffsetsInitializer.committedOffsets(OffsetResetStrategy.LATEST));
    }

    /** A source over a whole compacted topic, from its beginning on every fresh start (definitions, models). */
    public static <T> KafkaSource<T> wholeTopic(String bootstrapServers, String topic, String groupId,
                                                JsonCodec<T> codec, TypeInformation<T> type, boolean bounded) {
        return source(bootstrapServers, topic, groupId,
                KafkaRecordDeserializationSchema.valueOnly(new JsonDeserializationSchema<>(codec, type)), bounded,
                OffsetsInitializer.earliest());
    }

    private static <T> KafkaSource<T> source(String bootstrapServers, String topic, String groupId,
                                             KafkaRecordDeserializationSchema<T> deserializer, boolean bounded,
                                             OffsetsInitializer start) {
        var builder = KafkaSource.<T>builder()
                .setBootstrapServers(bootstrapServers)
                .setTopics(topic)
                .setGroupId(groupId)
                .setStartingOffsets(start)
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
     * A sink writing the records {@code codec} encodes to {@code topic}, keyed by {@code key}: JSON, or another form
     * a codec writes (events.unified's binary, {@code UnifiedEventCodec.Binary}). Exactly-once sinks write in Kafka
     * transactions committed on checkpoints, so readers must use {@code read_committed}.
     */
    public static <T> KafkaSink<T> sink(KafkaOptions options, String topic, JsonCodec<T> codec,
                                        SerializationSchema<T> key, String transactionalIdPrefix) {
        return sink(options, topic, codec, key, null, transactionalIdPrefix);
    }

    /**
     * The same for a compacted topic whose records can be deleted: an element {@code tombstone} accepts is written
     * with its key and no value, which compaction removes together with every earlier record of that key.
     */
    public static <T> KafkaSink<T> sink(KafkaOptions options, String topic, JsonCodec<T> codec,
                                        SerializationSchema<T> key, Tombstones<T> tombstone,
                                        String transactionalIdPrefix) {
        return KafkaSink.<T>builder()
                .setBootstrapServers(options.bootstrapServers())
                .setRecordSerializer(new RecordSerializer<>(topic, codec, key, tombstone))
                .setDeliveryGuarantee(options.deliveryGuarantee())
                .setTransactionalIdPrefix(transactionalIdPrefix)
                .setProperty(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG,
                        String.valueOf(options.transactionTimeout().toMillis()))
                .setProperty(ProducerConfig.COMPRESSION_TYPE_CONFIG, options.compression())
                .setProperty(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, String.valueOf(options.maxRecordBytes()))
                .build();
    }

    /**
     * Writes the records a codec encodes, with an optional key. The Kafka timestamp is left to the producer (the time
     * of writing): element timestamps are event or receive times, which can lie days in the past (replays, backfills:
     * retention would delete them at once) or in the future (brokers refuse those beyond
     * message.timestamp.after.max.ms). Event time travels in the payload.
     */
    static final class RecordSerializer<T> implements KafkaRecordSerializationSchema<T>, ResultTypeQueryable<T> {
        private static final long serialVersionUID = 1L;
        private final String topic;
        private final JsonCodec<T> codec;
        private final SerializationSchema<T> key;
        private final Tombstones<T> tombstone;

        RecordSerializer(String topic, JsonCodec<T> codec, SerializationSchema<T> key, Tombstones<T> tombstone) {
            this.topic = topic;
            this.codec = codec;
            this.key = key;
            this.tombstone = tombstone;
        }

        @Override
        public ProducerRecord<byte[], byte[]> serialize(T element, KafkaSinkContext context, Long timestamp) {
            boolean deleted = tombstone != null && tombstone.test(element);
            return new ProducerRecord<>(topic, null, null, key == null ? null : key.serialize(element),
                    deleted ? null : codec.encode(element));
        }

        @Override
        public TypeInformation<T> getProducedType() {
            return new JsonRecordTypeInfo<>(codec);
        }
    }

    /** Which elements stand for deleted records (see {@link #sink(KafkaOptions, String, JsonCodec,
     * SerializationSchema, Tombstones, String)}). */
    @FunctionalInterface
    public interface Tombstones<T> extends java.io.Serializable {
        boolean test(T element);
    }

    /** UTF-8 bytes of a string key. */
    public static byte[] utf8(String value) {
        return value == null ? null : value.getBytes(StandardCharsets.UTF_8);
    }

    /** Decodes JSON record values with a core codec, and tombstones (no value) with the key. */
    static final class KeyedJsonDeserializer<T> implements KafkaRecordDeserializationSchema<T> {
        private static final long serialVersionUID = 1L;
        private final JsonCodec<T> codec;
        private final TypeInformation<T> type;
        private final TombstoneOf<T> tombstone;

        KeyedJsonDeserializer(JsonCodec<T> codec, TypeInformation<T> type, TombstoneOf<T> tombstone) {
            this.codec = codec;
            this.type = type;
            this.tombstone = tombstone;
        }

        @Override
        public void deserialize(org.apache.kafka.clients.consumer.ConsumerRecord<byte[], byte[]> record,
                                org.apache.flink.util.Collector<T> out) {
            if (record.value() != null) {
                out.collect(codec.decode(record.value()));
            } else if (record.key() != null) {
                out.collect(tombstone.of(new String(record.key(), StandardCharsets.UTF_8)));
            }
        }

        @Override
        public TypeInformation<T> getProducedType() {
            return type;
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
            return message == null ? null : codec.decode(message); // a tombstone: skipped (null is not emitted)
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
