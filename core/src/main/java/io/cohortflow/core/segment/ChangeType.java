package io.cohortflow.core.segment;

/** A membership transition. Only transitions are published, never "still in". */
public enum ChangeType {
    ENTER,
    EXIT
}
