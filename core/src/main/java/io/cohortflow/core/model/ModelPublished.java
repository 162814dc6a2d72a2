package io.cohortflow.core.model;

import java.util.Objects;

/**
 * A promotion, on models.published (key: model name, compacted): the stream loads {@code version} of {@code name}
 * from {@code registry} when its feature schema hash matches its own.
 */
public record ModelPublished(String name, int version, String registry, String featureSchemaHash, String promotedAt,
                             String reason) {
    public ModelPublished {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(registry, "registry");
    }
}
