package io.cohortflow.segmentation;

/**
 * Operator uids of the segmentation job. Savepoint state is matched by these: changing one drops that operator's
 * state on the next upgrade, so treat a change as a breaking change.
 */
public final class Uids {
    public static final String UNIFIED_SOURCE = "segmentation-unified-source";
    public static final String HIGH_INTENT_RULE = "segmentation-rule-high-intent";
    public static final String CHANGES_SINK = "segmentation-changes-sink";

    private Uids() {
    }
}
