package io.cohortflow.segmentation;

/**
 * Operator uids of the segmentation job. Savepoint state is matched by these: changing one drops that operator's
 * state on the next upgrade, so treat a change as a breaking change.
 */
public final class Uids {
    public static final String UNIFIED_SOURCE = "segmentation-unified-source";
    public static final String MERGES_SOURCE = "segmentation-merges-source";
    public static final String LATE_SOURCE = "segmentation-late-source";
    public static final String LATE_IN = "segmentation-late-in";
    public static final String HANDOFF_SOURCE = "segmentation-handoff-source";
    public static final String DEFINITIONS_SOURCE = "segmentation-definitions-source";
    public static final String MODELS_SOURCE = "segmentation-models-source";
    public static final String DEFINITIONS_IN = "segmentation-definitions-in";
    public static final String MODELS_IN = "segmentation-models-in";
    public static final String EVENTS_IN = "segmentation-events-in";
    public static final String MERGES_IN = "segmentation-merges-in";
    public static final String HANDOFFS_IN = "segmentation-handoffs-in";
    public static final String PRIVACY_SOURCE = "segmentation-privacy-source";
    public static final String ERASURES_IN = "segmentation-erasures-in";
    public static final String SEGMENTS = "segmentation-segments";
    public static final String CHANGES_SINK = "segmentation-changes-sink";
    public static final String LATEST_PROFILES = "segmentation-latest-profiles";
    public static final String PROFILES_SINK = "segmentation-profiles-sink";
    public static final String HANDOFF_SINK = "segmentation-handoff-sink";
    public static final String PRIVACY_STATUS_SINK = "segmentation-privacy-status-sink";

    private Uids() {
    }
}
