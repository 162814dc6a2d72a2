package io.cohortflow.core.codec;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.util.ByteArrayBuilder;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;

/**
 * Encodes one record type to and from JSON bytes (UTF-8). Used on Kafka topics, and as the wire form of
 * records between Flink operators.
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
        return encodeWithMapper(value);
    }

    private byte[] encodeWithMapper(T value) {
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

    /** A record written field by field on the mapper's own generator. */
    @FunctionalInterface
    protected interface StreamingWriter<T> {
        void write(JsonGenerator out, T value) throws IOException;
    }

    /** A record read field by field from the mapper's own parser; null when the mapper should read it instead. */
    @FunctionalInterface
    protected interface StreamingReader<T> {
        T read(JsonParser in) throws IOException;
    }

    /**
     * {@code value} as {@code writer} writes it, for the codecs of records written at every event: as the mapper's
     * writeValueAsBytes does, on its recycled buffers, the generator closed, then the bytes taken and the buffer given
     * back (a builder of its own was slower than the mapper). A {@link JsonValues.NotMine} from the writer hands the
     * record to the mapper.
     */
    protected final byte[] encodeStreaming(T value, StreamingWriter<T> writer) {
        ByteArrayBuilder bytes = new ByteArrayBuilder(MAPPER.getFactory()._getBufferRecycler());
        try {
            try (JsonGenerator out = MAPPER.createGenerator(bytes)) { // configured as the mapper's own
                writer.write(out, value);
            }
            byte[] encoded = bytes.toByteArray();
            bytes.release();
            return encoded;
        } catch (JsonValues.NotMine e) {
            return encodeWithMapper(value);
        } catch (IOException e) {
            throw new IllegalStateException("cannot encode " + type.getSimpleName(), e);
        }
    }

    /**
     * {@code bytes} as {@code reader} reads them; anything it does not read as the mapper would (it returns null,
     * throws, or the bytes are malformed) is read by the mapper, whose value or error is the answer: bad input gets the
     * mapper's own errors. A reader's tests hold its values to the mapper's on the bytes it takes.
     */
    protected final T decodeStreaming(byte[] bytes, StreamingReader<T> reader) {
        T value = readStreaming(bytes, reader);
        return value != null ? value : decodeWithMapper(bytes);
    }

    /** {@code bytes} as {@code reader} reads them, or null where {@link #decodeStreaming} hands them to the mapper. */
    protected final T readStreaming(byte[] bytes, StreamingReader<T> reader) {
        try (JsonParser in = MAPPER.createParser(bytes)) {
            return reader.read(in);
        } catch (IOException | RuntimeException e) {
            return null; // the mapper's turn: its value, or its error
        }
    }

    /** Decodes bytes written by {@link #encode}; throws {@link UncheckedIOException} on malformed input. */
    public T decode(byte[] bytes) {
        return decodeWithMapper(bytes);
    }

    private T decodeWithMapper(byte[] bytes) {
        try {
            return MAPPER.readValue(bytes, type);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot decode " + type.getSimpleName(), e);
        }
    }
}
