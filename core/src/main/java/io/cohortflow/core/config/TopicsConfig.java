package io.cohortflow.core.config;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;

import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The product's topics, as declared in conf/topics.yaml. Each role (raw, unified, dlq, ...) maps to a
 * {@link TopicSpec}; every role the product uses must be present.
 */
public final class TopicsConfig {
    public static final String RAW = "raw";
    public static final String UNIFIED = "unified";
    public static final String DLQ = "dlq";
    public static final String LATE = "late";
    public static final String MERGES = "merges";
    public static final String CHANGES = "changes";
    public static final String HANDOFF = "handoff";
    public static final String PROFILES = "profiles";
    public static final String DEFINITIONS = "definitions";
    public static final String MODELS = "models";
    /** Changes a destination did not take (activation.dlq). */
    public static final String UNDELIVERED = "undelivered";
    /** Requests to forget or silence people (privacy.requests, compacted). */
    public static final String PRIVACY = "privacy";
    /** Each stage's progress on the privacy requests (privacy.status, compacted). */
    public static final String PRIVACY_STATUS = "privacy-status";

    /** Every role the product uses, in pipeline order. */
    public static final List<String> ROLES = List.of(RAW, UNIFIED, DLQ, LATE, MERGES, CHANGES, HANDOFF, PROFILES,
            DEFINITIONS, MODELS, UNDELIVERED, PRIVACY, PRIVACY_STATUS);

    private final Map<String, TopicSpec> topics;

    @JsonCreator
    public TopicsConfig(@JsonProperty("topics") Map<String, TopicSpec> topics) {
        Objects.requireNonNull(topics, "topics");
        for (String role : ROLES) {
            if (!topics.containsKey(role)) {
                throw new IllegalArgumentException("topics config has no '" + role + "' topic");
            }
        }
        this.topics = Map.copyOf(topics);
    }

    /** The shipped conf/topics.yaml. */
    public static TopicsConfig defaults() {
        return load(ConfFiles.defaultLocation("topics.yaml"));
    }

    public static TopicsConfig load(String location) {
        return ConfFiles.read(location, TopicsConfig.class);
    }

    public TopicSpec spec(String role) {
        TopicSpec spec = topics.get(role);
        if (spec == null) {
            throw new IllegalArgumentException("no topic role '" + role + "', known: " + topics.keySet());
        }
        return spec;
    }

    /** The topic name for a role, e.g. {@code name(RAW)} is "events.raw" by default. */
    public String name(String role) {
        return spec(role).name();
    }

    /**
     * These topics with some roles under other names (role → name; partitions and configs stay): what
     * {@code --topic.ROLE=NAME} does. An unknown role fails with the known ones.
     */
    public TopicsConfig renamed(Map<String, String> names) {
        Map<String, TopicSpec> renamed = new java.util.LinkedHashMap<>(topics);
        names.forEach((role, name) -> {
            TopicSpec spec = spec(role);
            renamed.put(role, new TopicSpec(name, spec.partitions(), spec.config()));
        });
        return new TopicsConfig(renamed);
    }

    public Collection<TopicSpec> all() {
        return topics.values();
    }
}
