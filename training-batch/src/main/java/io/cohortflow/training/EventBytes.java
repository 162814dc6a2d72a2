package io.cohortflow.training;

import io.cohortflow.core.event.EventType;
import io.cohortflow.core.event.UnifiedEvent;
import io.cohortflow.core.event.UnifiedEventBinary;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;

import java.io.DataInput;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Map;

/**
 * The training's events as the bytes the shuffle and the sort by user carry (see {@link ExamplesFunction#encoder}):
 * only what a user's rows read, in {@link UnifiedEventBinary}'s encoding of strings and values. That is the message
 * id and the source (each message counts once), the type, the event name, the time and the properties; not the ids,
 * whose user the key carries, nor the sent and received times, the previous id, the traits or the context (a test
 * holds the rows to that: {@code FeaturePropertiesTest}).
 *
 * <p>A BATCH job writes every event twice (the shuffle to its user's task, then the sort by user) and reads it twice:
 * as bytes, the network's read and the sorter's write and read copy bytes, and each event is decoded once, when its
 * user's rows are computed. Nothing of this format is kept: the job has no checkpoints and its state lives on the
 * heap, so it can change with the code.
 */
final class EventBytes {
    private EventBytes() {
    }

    /** Writes events as these bytes. One per thread: it reuses its buffer. */
    static final class Encoder {
        private final DataOutputSerializer out = new DataOutputSerializer(256);

        byte[] encode(UnifiedEvent event) throws IOException {
            out.clear();
            UnifiedEventBinary.writeString(event.messageId(), out);
            out.writeByte(event.type().ordinal());
            UnifiedEventBinary.writeString(event.event(), out);
            out.writeLong(event.timestamp());
            UnifiedEventBinary.writeString(event.source(), out);
            UnifiedEventBinary.writeMap(event.properties(), out);
            return out.getCopyOfBuffer();
        }
    }

    /**
     * Reads back {@link Encoder}'s bytes as the user's action as the rows see it ({@link UnifiedEvent#usersAction}):
     * its user is the key's, and what the bytes leave out is empty. One per thread: it keeps the short strings it has read
     * (event names, property names, products), and gives the same {@code String} again for the same bytes, which saves
     * building each one anew and lets the features' map lookups use its cached hash.
     */
    static final class Decoder {
        private final DataInputDeserializer in = new DataInputDeserializer();
        private final Strings strings = new Strings();

        UnifiedEvent decode(byte[] bytes, String user) throws IOException {
            in.setBuffer(bytes);
            String messageId = UnifiedEventBinary.readString(in, strings);
            EventType type = UnifiedEventBinary.type(in.readByte());
            String event = UnifiedEventBinary.readString(in, strings);
            long timestamp = in.readLong();
            String source = UnifiedEventBinary.readString(in, strings);
            Map<String, Object> properties = UnifiedEventBinary.readMap(in, strings);
            if (in.available() != 0) {
                throw new IOException(in.available() + " bytes left after an event: not an EventBytes.Encoder's");
            }
            return UnifiedEvent.usersAction(messageId, type, event, user, timestamp, source, properties);
        }
    }

    /**
     * The strings a decoder has read, by their bytes: a direct-mapped table where a new string takes the slot of the
     * one before. Strings longer than {@value #MAX_LENGTH} bytes (message ids, long texts) are not kept: they rarely
     * come twice.
     */
    static final class Strings implements UnifiedEventBinary.Strings {
        static final int MAX_LENGTH = 32;
        private static final int SLOTS = 4096;
        private final byte[][] keys = new byte[SLOTS][];
        private final String[] values = new String[SLOTS];
        private final byte[] scratch = new byte[MAX_LENGTH];

        @Override
        public String read(DataInput in, int length) throws IOException {
            if (length > MAX_LENGTH) {
                return UnifiedEventBinary.NEW.read(in, length);
            }
            in.readFully(scratch, 0, length);
            int hash = 1;
            for (int i = 0; i < length; i++) {
                hash = 31 * hash + scratch[i];
            }
            int slot = (hash ^ (hash >>> 16)) & (SLOTS - 1);
            byte[] key = keys[slot];
            if (key != null && Arrays.equals(key, 0, key.length, scratch, 0, length)) {
                return values[slot];
            }
            String value = new String(scratch, 0, length, StandardCharsets.UTF_8);
            keys[slot] = Arrays.copyOf(scratch, length);
            values[slot] = value;
            return value;
        }
    }
}
