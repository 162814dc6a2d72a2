package io.cohortflow.core.event;

import io.cohortflow.core.codec.JsonCodec;

/**
 * The JSON form of {@link UnifiedEvent}: events.late, and what tests and tools write by hand. Field names follow the
 * Segment spec (camelCase). It decodes the binary form of events.unified too ({@link UnifiedEventBinary}, told apart
 * by its first byte), so whatever reads events.unified reads the records of either form.
 */
public class UnifiedEventCodec extends JsonCodec<UnifiedEvent> {
    private static final long serialVersionUID = 1L;

    public UnifiedEventCodec() {
        super(UnifiedEvent.class);
    }

    /** The event of a JSON or a binary record; throws {@link java.io.UncheckedIOException} on malformed input. */
    @Override
    public UnifiedEvent decode(byte[] bytes) {
        return UnifiedEventBinary.isBinary(bytes) ? UnifiedEventBinary.decode(bytes) : super.decode(bytes);
    }

    /**
     * A codec that decodes either form keeping of an event's maps only the entries {@code kept} names
     * ({@link EventFields}); it encodes JSON, as this one.
     */
    public static UnifiedEventCodec keeping(EventFields kept) {
        return new Keeping(kept);
    }

    private static final class Keeping extends UnifiedEventCodec {
        private static final long serialVersionUID = 1L;
        private final EventFields kept;

        Keeping(EventFields kept) {
            this.kept = java.util.Objects.requireNonNull(kept, "kept");
        }

        @Override
        public UnifiedEvent decode(byte[] bytes) {
            return UnifiedEventBinary.isBinary(bytes) ? UnifiedEventBinary.decode(bytes, kept)
                    : kept.of(super.decode(bytes));
        }
    }

    /**
     * The records of events.unified: {@link UnifiedEventBinary}'s form ({@link #encodeToString} stays JSON, for logs);
     * it decodes both forms, as its parent.
     */
    public static final class Binary extends UnifiedEventCodec {
        private static final long serialVersionUID = 1L;

        @Override
        public byte[] encode(UnifiedEvent value) {
            return UnifiedEventBinary.encode(value);
        }
    }
}
