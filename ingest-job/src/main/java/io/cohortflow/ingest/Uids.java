package io.cohortflow.ingest;

/**
 * Operator uids of the ingest job. State in savepoints is matched by these: changing one drops that operator's state
 * on the next upgrade, so treat a change as a breaking change.
 */
public final class Uids {
    public static final String RAW_SOURCE = "ingest-raw-source";
    public static final String MAP_TO_UNIFIED = "ingest-map-to-unified";
    public static final String DEDUPE = "ingest-dedupe";
    public static final String MERGES_FEEDBACK_SOURCE = "ingest-merges-feedback-source";
    public static final String CAP_REFUSALS = "ingest-cap-refusals";
    public static final String IDENTITY_STITCH = "ingest-identity-stitch";
    public static final String IDENTITY_CAP = "ingest-identity-cap";
    public static final String UNIFIED_SINK = "ingest-unified-sink";
    public static final String DLQ_SINK = "ingest-dlq-sink";
    public static final String LATE_SINK = "ingest-late-sink";
    public static final String MERGES_SINK = "ingest-merges-sink";
    public static final String HISTORY_ACTIONS = "ingest-history-actions";
    public static final String HISTORY_SINK = "ingest-history-sink";
    public static final String PRIVACY_SOURCE = "ingest-privacy-source";
    public static final String PRIVACY_ONCE_SOURCE = "ingest-privacy-once-source";
    public static final String SUPPRESS_DEAD_LETTERS = "ingest-suppress-dead-letters";
    public static final String SUPPRESS_RESOLVED = "ingest-suppress-resolved";
    public static final String PRIVACY_STATUS_SINK = "ingest-privacy-status-sink";
    public static final String PRIVACY_LINKED_SINK = "ingest-privacy-linked-sink";
    public static final String PRIVACY_BY_ID = "ingest-privacy-by-id";

    private Uids() {
    }
}
