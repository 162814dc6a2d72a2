package io.cohortflow.core.event;

/** Why ingest dead-lettered a payload. The codes are a contract: consumers of events.dlq alert and group on them. */
public enum RejectReason {
    /** Larger than the configured cap: 32 KB for one call (Segment's per-call limit), 4 MB for a batch record. */
    OVERSIZED,
    /** A record with no value at all (a Kafka tombstone): nothing to map. */
    EMPTY_RECORD,
    /** Not valid UTF-8. */
    NOT_UTF8,
    /** Not parseable as JSON. */
    INVALID_JSON,
    /** JSON with a key twice in one object: last-wins would let a crafted payload change, say, its userId. */
    DUPLICATE_KEY,
    /** A number JSON can write but a double cannot hold (1e400): never stored as Infinity. */
    NON_FINITE_NUMBER,
    /** JSON, but not an object (an array, a string...). */
    NOT_AN_OBJECT,
    /** No {@code type}. */
    MISSING_TYPE,
    /** A {@code type} that is not a Segment call type. */
    UNKNOWN_TYPE,
    /** No {@code messageId}. */
    MISSING_MESSAGE_ID,
    /** Neither {@code anonymousId} nor {@code userId}. */
    MISSING_ID,
    /**
     * An id that is a placeholder ("undefined", "null"...), too long, not text or a whole number (an object, an
     * array, a boolean), or with control characters.
     */
    INVALID_ID,
    /** An alias call without a usable {@code previousId}. */
    MISSING_PREVIOUS_ID,
    /** A group call without a {@code groupId}. */
    MISSING_GROUP_ID,
    /** A batch envelope whose {@code batch} is not a non-empty array. */
    INVALID_BATCH,
    /** A payload from a source whose mapping has no rule for it. */
    UNMAPPED_PAYLOAD,
    /** A payload a rule of its source mapping refuses (a row filter); the detail is the rule's reason. */
    REFUSED,
    /** A track call with no {@code event}. */
    MISSING_EVENT_NAME,
    /** A timestamp that cannot be parsed. */
    INVALID_TIMESTAMP,
    /** A timestamp too far in the future or past. */
    TIMESTAMP_OUT_OF_RANGE,
    /** A field of the wrong JSON type, e.g. properties that is not an object. */
    INVALID_FIELD_TYPE,
    /** An event name the tracking plan rejects. */
    UNPLANNED_EVENT,
    /**
     * A context key only the product writes ({@code context.cohortflow_link}, which orders identity merges): a sender
     * that sets it could hold a user's segments back.
     */
    RESERVED_FIELD,
    /** The mapper itself failed on this payload (a bug to fix, then replay the dead letter). */
    MAPPING_FAILED
}
