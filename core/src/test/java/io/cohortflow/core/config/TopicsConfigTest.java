package io.cohortflow.core.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TopicsConfigTest {

    @Test
    void shippedDefaultsNameEveryTopicOfTheDesign() {
        TopicsConfig topics = TopicsConfig.defaults();
        assertThat(topics.name(TopicsConfig.RAW)).isEqualTo("events.raw");
        assertThat(topics.name(TopicsConfig.UNIFIED)).isEqualTo("events.unified");
        assertThat(topics.name(TopicsConfig.DLQ)).isEqualTo("events.dlq");
        assertThat(topics.name(TopicsConfig.MERGES)).isEqualTo("identity.merges");
        assertThat(topics.name(TopicsConfig.CHANGES)).isEqualTo("segments.changes");
        assertThat(topics.name(TopicsConfig.PROFILES)).isEqualTo("segments.profiles");
        assertThat(topics.name(TopicsConfig.DEFINITIONS)).isEqualTo("segments.definitions");
        assertThat(topics.name(TopicsConfig.MODELS)).isEqualTo("models.published");
        assertThat(topics.spec(TopicsConfig.PROFILES).config()).containsEntry("cleanup.policy", "compact");
        assertThat(topics.spec(TopicsConfig.DEFINITIONS).config()).containsEntry("cleanup.policy", "compact");
        assertThat(topics.name(TopicsConfig.LATE)).isEqualTo("events.late");
        assertThat(topics.all()).hasSize(TopicsConfig.ROLES.size());
    }

    @Test
    void aMissingRoleOrUnknownKeyIsRejectedWithTheReason(@TempDir Path dir) throws IOException {
        Path missing = dir.resolve("missing.yaml");
        Files.writeString(missing, "topics:\n  raw: {name: r, partitions: 1}\n");
        assertThatThrownBy(() -> TopicsConfig.load(missing.toString())).hasMessageContaining("'unified'");

        Path typo = dir.resolve("typo.yaml");
        Files.writeString(typo, "topics:\n  raw: {name: r, partitons: 1}\n");
        assertThatThrownBy(() -> TopicsConfig.load(typo.toString())).hasMessageContaining("topic r needs at least one partition");
    }
}
