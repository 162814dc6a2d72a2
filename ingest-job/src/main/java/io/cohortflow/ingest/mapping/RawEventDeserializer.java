package io.cohortflow.ingest.mapping;

import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;

import java.nio.charset.StandardCharsets;

/** Reads events.raw records without interpreting the payload, so that nothing can fail here. */
public final class RawEventDeserializer implements KafkaRecordDeserializationSchema<RawEvent> {
    private static final long serialVersionUID = 1L;
    public static final String SOURCE_HEADER = "source";
    public static final String RECEIVED_AT_HEADER = "received-at";
    public static final String REPLAY_HEADER = "replay";

    @Override
    public void deserialize(ConsumerRecord<byte[], byte[]> record, Collector<RawEvent> out) {
        Header header = record.headers().lastHeader(SOURCE_HEADER);
        String source = header == null || header.value() == null
                ? "unknown"
                : new String(header.value(), StandardCharsets.UTF_8);
        byte[] payload = record.value(); // null for a tombstone: the mapper dead-letters it as EMPTY_RECORD
        Header replay = record.headers().lastHeader(REPLAY_HEADER);
        boolean isReplay = replay != null && replay.value() != null
                && "true".equals(new String(replay.value(), StandardCharsets.UTF_8));
        out.collect(new RawEvent(payload, source, receivedAt(record), isReplay));
    }

    private static long receivedAt(ConsumerRecord<byte[], byte[]> record) {
        Header header = record.headers().lastHeader(RECEIVED_AT_HEADER);
        if (header != null && header.value() != null) {
            try {
                return Long.parseLong(new String(header.value(), StandardCharsets.UTF_8).trim());
            } catch (NumberFormatException e) {
                // a broken header is no reason to lose the event: fall back to the broker's time
            }
        }
        return record.timestamp();
    }

    @Override
    public TypeInformation<RawEvent> getProducedType() {
        return TypeInformation.of(RawEvent.class);
    }
}
