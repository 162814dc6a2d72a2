package io.cohortflow.registry;

import io.cohortflow.core.feature.FeatureSnapshot;
import io.cohortflow.core.model.ModelManifest;
import io.cohortflow.core.scoring.Scores;
import io.cohortflow.testkit.KafkaTestSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Loading a scoring bundle, and refusing bad ones. Two registries written by the training job (TrainingJobITCase with
 * -Dcohortflow.save-bundle-fixture=DIR) are kept as they were: saved-registry-0.1.0, from an earlier build whose models
 * had six features (later builds must still load it, and the stream must refuse it as incompatible), and
 * current-registry, of the current feature schema.
 */
class ModelBundleTest {
    private static final String SCHEMA = ModelManifest.schemaHash(FeatureSnapshot.MODEL_FEATURES);
    private static final List<String> SIX = List.of("recency", "frequency_30d", "monetary_value_90d",
            "feature_adoption_rate", "support_tickets_60d", "avg_session_duration");

    @Test
    void aBundleSavedByAnEarlierBuildStillLoadsAndScores() throws Exception {
        ModelRegistry registry = new ModelRegistry(fixture("saved-registry-0.1.0").toUri());
        ModelManifest current = registry.current("bundle").orElseThrow();
        assertThat(current.featureSchema()).isEqualTo(SIX);
        assertThatThrownBy(() -> ModelBundle.load(registry, "bundle", current.version(), SCHEMA))
                .as("the stream computes more features now: it refuses this bundle").isInstanceOf(ModelBundle.Refused.class)
                .hasMessageContaining("trained on features");
        ModelBundle bundle = ModelBundle.load(registry, "bundle", current.version(), ModelManifest.schemaHash(SIX));

        Scores gone = bundle.score(new double[] {45, 0, 0, 0, 2, 0});
        Scores loyal = bundle.score(new double[] {0, 12, 200, 0.8, 0, 20});
        assertThat(gone.model()).isEqualTo("bundle@v1");
        assertThat(gone.scores()).containsOnlyKeys("churn", "bundle_propensity");
        assertThat(gone.scores().get("churn")).isBetween(0.0, 1.0).isGreaterThan(loyal.scores().get("churn"));
        // Each persona's own centroid (from personas.json) is scored as that persona.
        List<ModelBundle.Persona> personas = ModelBundle.personas(registry, current);
        assertThat(personas).extracting(ModelBundle.Persona::name).contains("High-Value Bundle Purchaser");
        for (ModelBundle.Persona p : personas) {
            double[] centroid = SIX.stream().mapToDouble(p.centroid()::get).toArray();
            assertThat(bundle.score(centroid).persona()).isEqualTo(p.name());
        }
        ModelBundle.Persona buyers = personas.stream().filter(p -> p.name().equals("High-Value Bundle Purchaser"))
                .findFirst().orElseThrow();
        Scores buyer = bundle.score(SIX.stream().mapToDouble(buyers.centroid()::get).toArray());
        assertThat(buyer.scores().get("bundle_propensity")).isGreaterThan(gone.scores().get("bundle_propensity"));
    }

    @Test
    void aBundleForOtherFeaturesIsRefused() throws Exception {
        ModelRegistry registry = new ModelRegistry(fixture("current-registry").toUri());
        assertThat(ModelBundle.load(registry, "bundle", 1, SCHEMA).label()).isEqualTo("bundle@v1");
        String other = ModelManifest.schemaHash(List.of("recency", "frequency_30d"));
        assertThatThrownBy(() -> ModelBundle.load(registry, "bundle", 1, other))
                .isInstanceOf(ModelBundle.Refused.class)
                .hasMessageContaining("trained on features").hasMessageContaining(other.substring(0, 12));
    }

    @Test
    void aBundleWhoseRunSkippedAClassifierLoadsAndGivesNoSuchScore(@TempDir Path dir) throws Exception {
        ModelRegistry registry = new ModelRegistry(copyFixture(dir.resolve("skipped")).toUri());
        Map<String, byte[]> artifacts = registry.artifacts("bundle", 1);
        artifacts.remove(ModelBundle.BUNDLE_PROPENSITY);
        ModelManifest v1 = registry.manifest("bundle", 1);
        ModelManifest lost = registry.publish(v1, artifacts);
        assertThatThrownBy(() -> ModelBundle.load(registry, "bundle", lost.version(), SCHEMA))
                .as("missing for no stated reason").isInstanceOf(ModelBundle.Refused.class)
                .hasMessageContaining("does not say the run skipped it");
        Map<String, String> provenance = new java.util.HashMap<>(v1.provenance());
        provenance.put(ModelBundle.SKIPPED, "bundle_propensity: a single outcome");
        ModelManifest skipped = registry.publish(new ModelManifest(v1.name(), 0, null, v1.featureSchema(),
                v1.featureSchemaHash(), v1.metrics(), v1.trainingFrom(), v1.trainingTo(), v1.rows(), v1.users(),
                provenance, v1.codeVersion(), Map.of()), artifacts);
        ModelBundle bundle = ModelBundle.load(registry, "bundle", skipped.version(), SCHEMA);
        assertThat(bundle.bundleModel()).isNull();
        Scores scores = bundle.score(new double[FeatureSnapshot.MODEL_FEATURES.size()]);
        assertThat(scores.scores()).containsOnlyKeys("churn");
        assertThat(scores.persona()).isNotBlank();
    }

    @Test
    void corruptOrSwappedArtifactsAreRefused(@TempDir Path dir) throws Exception {
        Path copy = copyFixture(dir.resolve("corrupt"));
        Path churn = copy.resolve("bundle/versions/1/churn.tribuo");
        byte[] bytes = Files.readAllBytes(churn);
        bytes[bytes.length / 2] ^= 0x5a;
        Files.write(churn, bytes);
        ModelRegistry corrupt = new ModelRegistry(copy.toUri());
        assertThatThrownBy(() -> ModelBundle.load(corrupt, "bundle", 1, SCHEMA))
                .isInstanceOf(ModelBundle.Refused.class).hasMessageContaining("SHA-256");

        // Bytes that match the manifest but are the wrong kind of model (the clusters where the churn model belongs):
        // republished with honest hashes, so only the content check can catch it.
        ModelRegistry registry = new ModelRegistry(copyFixture(dir.resolve("swapped")).toUri());
        ModelManifest manifest = registry.manifest("bundle", 1);
        Map<String, byte[]> artifacts = registry.artifacts("bundle", 1);
        artifacts.put(ModelBundle.CHURN, artifacts.get(ModelBundle.PERSONAS));
        ModelManifest swapped = registry.publish(manifest, artifacts);
        assertThatThrownBy(() -> ModelBundle.load(registry, "bundle", swapped.version(), SCHEMA))
                .isInstanceOf(ModelBundle.Refused.class).hasMessageContaining("not a classifier");

        artifacts.put(ModelBundle.CHURN, "not a model".getBytes());
        ModelManifest garbage = registry.publish(manifest, artifacts);
        assertThatThrownBy(() -> ModelBundle.load(registry, "bundle", garbage.version(), SCHEMA))
                .isInstanceOf(ModelBundle.Refused.class).hasMessageContaining("not a Tribuo model");
        assertThatThrownBy(() -> ModelBundle.load(registry, "bundle", 99, SCHEMA))
                .isInstanceOf(ModelBundle.Refused.class).hasMessageContaining("bundle v99");
    }

    @Test
    void theCliDiffsCentroidsAndPromotesTheLatestVersion(@TempDir Path dir) throws Exception {
        Path copy = copyFixture(dir.resolve("registry"));
        ModelRegistry registry = new ModelRegistry(copy.toUri());
        registry.publish(registry.manifest("bundle", 1), registry.artifacts("bundle", 1));
        var out = new java.io.ByteArrayOutputStream();
        var print = new java.io.PrintStream(out, true);
        assertThat(RegistryCli.run(new String[] {"diff", "bundle", "1", "2", "--registry", copy.toUri().toString()},
                print, print)).isEqualTo(RegistryCli.OK);
        assertThat(out.toString()).contains("churn_auc", "persona centroids of v1", "persona centroids of v2",
                "High-Value Bundle Purchaser", "monetary_val");
        assertThat(RegistryCli.run(new String[] {"promote", "bundle", "latest", "--registry", copy.toUri().toString(),
                "--metric", "churn_auc", "--floor", "0.8"}, print, print)).isEqualTo(RegistryCli.OK);
        assertThat(registry.current("bundle").orElseThrow().version()).isEqualTo(2);
    }

    static Path fixture(String name) throws URISyntaxException {
        return Path.of(ModelBundleTest.class.getResource("/" + name).toURI());
    }

    static Path copyFixture(Path target) throws URISyntaxException {
        return KafkaTestSupport.copyTree(fixture("current-registry"), target);
    }
}
