package io.cohortflow.core.codec;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;

/**
 * Encodes one record type to and from JSON bytes (UTF-8). Used on Kafka topics, and as the wire form of
 * records between Flink operators. A subclass may write another form where a topic's contract says so (events.unified:
 * {@code UnifiedEventCodec.Binary}).
 *
 * <p>Implementations are stateless and have a public no-argument constructor, so a Flink serializer snapshot
 * can re-create them by class name.
 */
public abstract class JsonCodec<T> implements Serializable {
    private static final long serialVersionUID = 1L;

    /** One shared, thread-safe mapper: records in, records out, unknown fields tolerated for forward compatibility. */
    protected static final ObjectMapper MAPPER = JsonMapper.builder()
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .disable(SerializationFeature.FAIL_ON_EMPTY_BEANS)
            .build();

    private final Class<T> type;

    protected JsonCodec(Class<T> type) {
        this.type = type;
    }

    public Class<T> type() {
        return type;
    }

    public byte[] encode(T value) {
        try {
            return MAPPER.writeValueAsBytes(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot encode " + type.getSimpleName(), e);
        }
    }

    public String encodeToString(T value) {
        try {
            return MAPPER.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot encode " + type.getSimpleName(), e);
        }
    }

    /** Decodes bytes written by {@link #encode}; throws {@link UncheckedIOException} on malformed input. */
    public T decode(byte[] bytes) {
        try {
            return MAPPER.readValue(bytes, type);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot decode " + type.getSimpleName(), e);
        }
    }
}
