package io.cohortflow.jobs.metrics;

import org.apache.flink.metrics.MetricGroup;

/**
 * The metric group of the product's own metrics. Prometheus sees them as
 * {@code flink_taskmanager_job_task_operator_cohortflow_<name>} (k8s/base/podmonitor.yaml, the README's list).
 */
public final class ProductMetrics {
    public static final String GROUP = "cohortflow";

    private ProductMetrics() {
    }

    /** The product's group under an operator's metric group. */
    public static MetricGroup of(MetricGroup operator) {
        return operator.addGroup(GROUP);
    }
}
