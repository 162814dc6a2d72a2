package io.cohortflow.registry;

import io.cohortflow.core.config.TopicsConfig;
import io.cohortflow.core.feature.FeatureSnapshot;
import io.cohortflow.core.model.ModelManifest;
import io.cohortflow.core.model.ModelPublishedCodec;
import io.cohortflow.kafka.local.LocalKafkaBroker;
import io.cohortflow.testkit.KafkaTestSupport;
import io.cohortflow.testkit.SharedKafka;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

@ExtendWith(SharedKafka.class)
class ModelRegistryTest {
    private static final Gate AUC_GATE = new Gate("auc", 0.75, 0.02);

    @Test
    void aPublishedVersionRoundTripsWithItsManifestAndArtifacts(@TempDir Path dir) {
        ModelRegistry registry = new ModelRegistry(dir.toUri());
        ModelManifest v1 = registry.publish(draft(0.88), Map.of("churn.tribuo", bytes("model-one"),
                "kmeans.tribuo", bytes("centroids")));
        assertThat(v1.version()).isEqualTo(1);
        assertThat(registry.publish(draft(0.90), Map.of("churn.tribuo", bytes("model-two"))).version()).isEqualTo(2);
        assertThat(registry.versions("churn")).containsExactly(1, 2);
        ModelManifest read = registry.manifest("churn", 1);
        assertThat(read).isEqualTo(v1);
        assertThat(read.featureSchemaHash()).isEqualTo(ModelManifest.schemaHash(FeatureSnapshot.MODEL_FEATURES));
        assertThat(registry.artifact("churn", 1, "churn.tribuo")).isEqualTo(bytes("model-one"));
        assertThat(registry.current("churn")).as("publishing does not promote").isEmpty();
    }

    @Test
    void publishingIsAtomicAndCrashDebrisIsNeverAVersion(@TempDir Path dir) throws Exception {
        ModelRegistry registry = new ModelRegistry(dir.toUri());
        // A publisher that died midway left a staging directory with a partial manifest.
        Path debris = dir.resolve("churn/.staging/dead-beef");
        Files.createDirectories(debris);
        Files.writeString(debris.resolve("manifest.json"), "{\"name\":\"churn\",");
        assertThat(registry.versions("churn")).isEmpty();
        registry.publish(draft(0.9), Map.of("churn.tribuo", bytes("m")));
        assertThat(registry.versions("churn")).containsExactly(1);
        registry.promote("churn", 1, AUC_GATE, false, "first");
        assertThat(Files.readString(dir.resolve("churn/CURRENT")).trim()).isEqualTo("1");
        try (var files = Files.list(dir.resolve("churn"))) {
            assertThat(files.map(p -> p.getFileName().toString()).filter(n -> n.startsWith(".CURRENT-")))
                    .as("the pointer is written aside and renamed").isEmpty();
        }
    }

    @Test
    void theGateRefusesAWeakOrWorseModelUnlessForcedAndRollbackRestoresThePrevious(@TempDir Path dir) {
        ModelRegistry registry = new ModelRegistry(dir.toUri());
        registry.publish(draft(0.70), Map.of("churn.tribuo", bytes("weak")));
        registry.publish(draft(0.88), Map.of("churn.tribuo", bytes("good")));
        registry.publish(draft(0.85), Map.of("churn.tribuo", bytes("worse")));
        registry.publish(draft(0.87), Map.of("churn.tribuo", bytes("close")));

        ModelRegistry.Promotion weak = registry.promote("churn", 1, AUC_GATE, false, "nightly");
        assertThat(weak.promoted()).isFalse();
        assertThat(weak.reason()).contains("below the floor");
        assertThat(registry.promote("churn", 2, AUC_GATE, false, "nightly").promoted()).isTrue();
        ModelRegistry.Promotion worse = registry.promote("churn", 3, AUC_GATE, false, "nightly");
        assertThat(worse.promoted()).isFalse();
        assertThat(worse.reason()).contains("worse than the current v2");
        assertThat(registry.current("churn")).get().extracting(ModelManifest::version).isEqualTo(2);
        assertThat(registry.promote("churn", 4, AUC_GATE, false, "nightly").promoted()).as("within the margin").isTrue();
        assertThat(registry.promote("churn", 3, AUC_GATE, true, "manual override").promoted()).isTrue();

        assertThat(registry.rollback("churn").candidate().version()).isEqualTo(4);
        assertThat(registry.current("churn")).get().extracting(ModelManifest::version).isEqualTo(4);
        assertThat(registry.history("churn")).extracting(h -> ((Number) h.get("version")).intValue()).containsExactly(2, 4, 3, 4);
    }

    @Test
    void aCorruptArtifactIsRefused(@TempDir Path dir) throws Exception {
        ModelRegistry registry = new ModelRegistry(dir.toUri());
        registry.publish(draft(0.9), Map.of("churn.tribuo", bytes("original")));
        Files.writeString(dir.resolve("churn/versions/1/churn.tribuo"), "tampered");
        assertThatThrownBy(() -> registry.artifact("churn", 1, "churn.tribuo")).hasMessageContaining("refusing it");
        // Without the filesystem's own checksum file, the manifest's SHA-256 still catches it.
        Files.deleteIfExists(dir.resolve("churn/versions/1/.churn.tribuo.crc"));
        assertThatThrownBy(() -> registry.artifact("churn", 1, "churn.tribuo")).hasMessageContaining("SHA-256");
        assertThatThrownBy(() -> new ModelManifest("churn", 1, "t", List.of("a"), "not-the-hash", Map.of(), null, null,
                0, 0, Map.of(), "dev", Map.of())).hasMessageContaining("schema hash");
    }

    @Test
    void theCliPromotesWithTheGateInItsExitCodeAndAnnouncesOnModelsPublished(LocalKafkaBroker broker, @TempDir Path dir) {
        TopicsConfig topics = KafkaTestSupport.uniqueTopics(broker, "registry");
        ModelRegistry registry = new ModelRegistry(dir.toUri());
        registry.publish(draft(0.70), Map.of("churn.tribuo", bytes("weak")));
        registry.publish(draft(0.91), Map.of("churn.tribuo", bytes("good")));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrintStream print = new PrintStream(out);
        String[] gate = {"--registry", dir.toUri().toString(), "--metric", "auc", "--floor", "0.75",
                "--bootstrap-servers", broker.bootstrapServers(), "--topic", topics.name(TopicsConfig.MODELS)};
        assertThat(RegistryCli.run(concat(new String[] {"promote", "churn", "1"}, gate), print, print))
                .isEqualTo(RegistryCli.REFUSED);
        assertThat(RegistryCli.run(concat(new String[] {"promote", "churn", "2"}, gate), print, print)).isEqualTo(RegistryCli.OK);
        assertThat(RegistryCli.run(new String[] {"diff", "churn", "1", "2", "--registry", dir.toUri().toString()}, print, print))
                .isEqualTo(RegistryCli.OK);
        assertThat(RegistryCli.run(new String[] {"list", "churn", "--registry", dir.toUri().toString()}, print, print))
                .isEqualTo(RegistryCli.OK);
        assertThat(out.toString()).contains("REFUSED").contains("churn v2  ").contains("<- current").contains("auc");
        assertThat(KafkaTestSupport.readAllCommitted(broker.bootstrapServers(), topics.name(TopicsConfig.MODELS),
                new ModelPublishedCodec())).singleElement().satisfies(p -> {
                    assertThat(p.version()).isEqualTo(2);
                    assertThat(p.registry()).isEqualTo(dir.toUri().toString());
                    assertThat(p.featureSchemaHash()).isEqualTo(ModelManifest.schemaHash(FeatureSnapshot.MODEL_FEATURES));
                });
    }

    private static ModelManifest draft(double auc) {
        return new ModelManifest("churn", 0, null, FeatureSnapshot.MODEL_FEATURES,
                ModelManifest.schemaHash(FeatureSnapshot.MODEL_FEATURES), Map.of("auc", auc, "f1", 0.6),
                "2026-01-01T00:00:00Z", "2026-03-01T00:00:00Z", 10_000, 1_000, Map.of("trainer", "test"), "dev", Map.of());
    }

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    private static String[] concat(String[] a, String[] b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
