package io.cohortflow.benchmarks;

/**
 * This process's CPU time: the broker, the MiniCluster and the load share the JVM, so a job's CPU seconds over its run
 * are its cost on this machine whatever else the machine's other tenants take from its wall-clock time.
 */
public final class ProcessCpu {
    private ProcessCpu() {
    }

    /** CPU nanoseconds this process has used so far (all its threads). */
    public static long nanos() {
        return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory
                .getOperatingSystemMXBean()).getProcessCpuTime();
    }
}
