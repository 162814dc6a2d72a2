package io.cohortflow.core.config;

import java.util.Map;
import java.util.Objects;

/**
 * One Kafka topic: its name, partition count and topic-level configs (retention, compaction).
 */
public record TopicSpec(String name, int partitions, Map<String, String> config) {
    public TopicSpec {
        Objects.requireNonNull(name, "name");
        if (partitions < 1) {
            throw new IllegalArgumentException("topic " + name + " needs at least one partition");
        }
        config = config == null ? Map.of() : Map.copyOf(config);
    }
}
