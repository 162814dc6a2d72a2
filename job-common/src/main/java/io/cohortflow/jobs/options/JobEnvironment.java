package io.cohortflow.jobs.options;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

import java.util.Map;

/** What every job sets on its environment, whatever the deployment. */
public final class JobEnvironment {
    private JobEnvironment() {
    }

    /**
     * Fixes max parallelism (the number of key groups: it cannot change without losing keyed state), disables the
     * silent fallback to Kryo (every record type has a serializer of ours or Flink's, so one that does not fails at
     * submission), and shows the job's options in the web UI.
     */
    public static void configure(StreamExecutionEnvironment env, int maxParallelism, Map<String, String> options) {
        env.setMaxParallelism(maxParallelism);
        env.configure(Configuration.fromMap(Map.of(PipelineOptions.GENERIC_TYPES.key(), "false")));
        env.getConfig().setGlobalJobParameters(Configuration.fromMap(options));
    }
}
