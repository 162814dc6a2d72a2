package io.cohortflow.registry;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.cohortflow.core.feature.FeatureSnapshot;
import io.cohortflow.core.model.ModelManifest;
import io.cohortflow.core.scoring.Scorer;
import io.cohortflow.core.scoring.Scores;
import org.tribuo.Model;
import org.tribuo.Prediction;
import org.tribuo.classification.Label;
import org.tribuo.clustering.ClusterID;
import org.tribuo.clustering.ClusteringFactory;
import org.tribuo.impl.ArrayExample;
import org.tribuo.protos.core.ModelProto;

import java.io.IOException;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One registry version of the scoring bundle, loaded and checked: the churn classifier, the bundle-purchase
 * propensity classifier and the persona clusters (all Tribuo models in Tribuo's protobuf format), and the persona
 * names. It is the {@link Scorer} the segmentation job swaps in.
 *
 * <p>{@link #load} refuses, with a {@link Refused} that says why, a version whose feature schema hash differs from the
 * caller's, an artifact that is missing or does not match its SHA-256, bytes that are not a Tribuo model of the
 * expected kind, a model that reads a feature outside the schema, and a bundle whose scores are not finite.
 *
 * <p>A training run may leave a classifier out (its label had a single class: nothing to learn); the manifest then
 * lists no artifact for it and says why under {@code provenance.skipped}, and the bundle gives no such score, so a
 * condition such as {@code 'bundle_propensity' in scores && ...} is false rather than wrong. The models read the
 * features they were trained on by name; a feature the run dropped (constant in its rows) is not among them.
 */
public final class ModelBundle implements Scorer {
    private static final long serialVersionUID = 1L;

    /** The bundle's name in a registry: what the nightly training publishes and the stream scores with by default. */
    public static final String NAME = "bundle";
    public static final String CHURN = "churn.tribuo";
    public static final String BUNDLE_PROPENSITY = "bundle_propensity.tribuo";
    public static final String PERSONAS = "personas.tribuo";
    public static final String PERSONA_NAMES = "personas.json";
    public static final String REPORT = "report.html";
    /** The scores a bundle gives, by the names segment conditions use ({@code scores['churn']}). */
    public static final String CHURN_SCORE = "churn";
    public static final String BUNDLE_SCORE = "bundle_propensity";
    /** The provenance key under which a run says which models it skipped and why ({@code score: reason; ...}). */
    public static final String SKIPPED = "skipped";
    /** The positive class of both classifiers. */
    public static final Label POSITIVE = new Label("yes");
    public static final Label NEGATIVE = new Label("no");

    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * A persona: a cluster and the name its centroid earned.
     *
     * @param centroid the centroid in the features' own units
     * @param zScores  the centroid in standard deviations from the population mean (what the name was chosen from)
     */
    public record Persona(int cluster, String name, long size, Map<String, Double> centroid, Map<String, Double> zScores) {
    }

    /** A bundle that must not be used, and why. */
    public static final class Refused extends RuntimeException {
        private static final long serialVersionUID = 1L;

        public Refused(String message, Throwable cause) {
            super(message, cause);
        }
    }

    private final ModelManifest manifest;
    private final Model<Label> churn;
    private final Model<Label> bundlePropensity;
    private final Model<ClusterID> personas;
    private final Map<Integer, String> names;
    private final String label;
    private final String[] featureNames;

    public ModelBundle(ModelManifest manifest, Model<Label> churn, Model<Label> bundlePropensity,
                       Model<ClusterID> personas, List<Persona> personaNames) {
        this.manifest = manifest;
        this.churn = churn;
        this.bundlePropensity = bundlePropensity;
        this.personas = personas;
        this.names = new HashMap<>();
        personaNames.forEach(p -> names.put(p.cluster(), p.name()));
        this.label = manifest.name() + "@v" + manifest.version();
        this.featureNames = manifest.featureSchema().toArray(String[]::new);
    }

    /** Loads and checks version {@code version} of {@code name}; see the class comment for what is refused. */
    public static ModelBundle load(ModelRegistry registry, String name, int version, String expectedSchemaHash) {
        String what = name + " v" + version + " from " + registry.root();
        try {
            ModelManifest manifest = registry.manifest(name, version);
            if (!manifest.featureSchemaHash().equals(expectedSchemaHash)) {
                throw new Refused(what + ": it was trained on features " + manifest.featureSchema() + " (schema "
                        + manifest.featureSchemaHash().substring(0, 12) + "), this job computes schema "
                        + expectedSchemaHash.substring(0, 12), null);
            }
            Model<Label> churn = optionalClassifier(registry, manifest, CHURN);
            Model<Label> bundle = optionalClassifier(registry, manifest, BUNDLE_PROPENSITY);
            Model<?> clusters = model(registry, manifest, PERSONAS);
            if (!(clusters.getOutputIDInfo().getDomain().iterator().next() instanceof ClusterID)) {
                throw new Refused(what + ": " + PERSONAS + " is not a clustering model", null);
            }
            @SuppressWarnings("unchecked")
            Model<ClusterID> personas = (Model<ClusterID>) clusters;
            ModelBundle loaded = new ModelBundle(manifest, churn, bundle, personas, personas(registry, manifest));
            loaded.smokeTest();
            return loaded;
        } catch (Refused e) {
            throw e;
        } catch (RuntimeException | IOException e) {
            throw new Refused(what + ": " + e.getMessage(), e);
        }
    }

    /** The persona clusters of a version (personas.json): names, sizes and centroids. */
    public static List<Persona> personas(ModelRegistry registry, ModelManifest manifest) throws IOException {
        return JSON.readValue(registry.artifact(manifest, PERSONA_NAMES), new TypeReference<List<Persona>>() { });
    }

    /**
     * The classifier, or null when the run skipped it: the manifest lists no such artifact and its
     * {@code provenance.skipped} names the score. An artifact missing for no stated reason is refused.
     */
    private static Model<Label> optionalClassifier(ModelRegistry registry, ModelManifest manifest, String file) {
        if (manifest.artifacts().containsKey(file)) {
            return classifier(registry, manifest, file);
        }
        String score = file.substring(0, file.indexOf('.'));
        if (!manifest.provenance().getOrDefault(SKIPPED, "").contains(score + ":")) {
            throw new Refused(manifest.name() + " v" + manifest.version() + ": no " + file + ", and its manifest does "
                    + "not say the run skipped it (provenance." + SKIPPED + ")", null);
        }
        return null;
    }

    private static Model<Label> classifier(ModelRegistry registry, ModelManifest manifest, String file) {
        Model<?> model = model(registry, manifest, file);
        if (!model.getOutputIDInfo().getDomain().contains(POSITIVE)) {
            throw new Refused(manifest.name() + " v" + manifest.version() + ": " + file
                    + " is not a classifier with the outcome '" + POSITIVE + "'", null);
        }
        @SuppressWarnings("unchecked")
        Model<Label> classifier = (Model<Label>) model;
        return classifier;
    }

    private static Model<?> model(ModelRegistry registry, ModelManifest manifest, String file) {
        byte[] bytes = registry.artifact(manifest, file);
        Model<?> model;
        try {
            model = Model.deserialize(ModelProto.parseFrom(bytes));
        } catch (IOException | RuntimeException e) {
            throw new Refused(manifest.name() + " v" + manifest.version() + ": " + file
                    + " is not a Tribuo model (" + e.getMessage() + ")", e);
        }
        java.util.Set<String> schema = java.util.Set.copyOf(manifest.featureSchema());
        for (var feature : model.getFeatureIDMap()) {
            if (!schema.contains(feature.getName())) {
                throw new Refused(manifest.name() + " v" + manifest.version() + ": " + file
                        + " reads the feature " + feature.getName() + ", which is not in its manifest's schema", null);
            }
        }
        if (model.getFeatureIDMap().size() == 0) {
            throw new Refused(manifest.name() + " v" + manifest.version() + ": " + file + " reads no feature", null);
        }
        return model;
    }

    /** Scores a neutral user once: a bundle that cannot produce finite scores is refused before it is used. */
    private void smokeTest() {
        Scores scores = score(new double[featureNames.length]);
        for (var score : scores.scores().entrySet()) {
            if (!Double.isFinite(score.getValue())) {
                throw new Refused(label + ": " + score.getKey() + " is not finite for a neutral user", null);
            }
        }
    }

    public ModelManifest manifest() {
        return manifest;
    }

    /** {@code name@vN}: what profiles and changes say scored them. */
    @Override
    public String label() {
        return label;
    }

    /** The churn classifier, or null when the run skipped it. */
    public Model<Label> churnModel() {
        return churn;
    }

    /** The bundle-propensity classifier, or null when the run skipped it. */
    public Model<Label> bundleModel() {
        return bundlePropensity;
    }

    public Model<ClusterID> personaModel() {
        return personas;
    }

    @Override
    public Collection<String> personas() {
        return List.copyOf(names.values());
    }

    /** Scores the features this bundle was trained on, by name (the stream only loads bundles of its own schema). */
    @Override
    public Scores score(FeatureSnapshot features) {
        Map<String, Double> numeric = features.numeric();
        double[] vector = new double[featureNames.length];
        for (int i = 0; i < vector.length; i++) {
            vector[i] = numeric.getOrDefault(featureNames[i], 0.0);
        }
        return score(vector);
    }

    public Scores score(double[] vector) {
        Map<String, Double> scores = new LinkedHashMap<>();
        if (churn != null) {
            scores.put(CHURN_SCORE, probability(churn, featureNames, vector));
        }
        if (bundlePropensity != null) {
            scores.put(BUNDLE_SCORE, probability(bundlePropensity, featureNames, vector));
        }
        int cluster = personas.predict(new ArrayExample<>(ClusteringFactory.UNASSIGNED_CLUSTER_ID, featureNames, vector))
                .getOutput().getID();
        return new Scores(scores, names.getOrDefault(cluster, "Cluster " + cluster), label);
    }

    /** The probability of {@link #POSITIVE} a classifier gives a feature vector. */
    public static double probability(Model<Label> model, String[] names, double[] vector) {
        Prediction<Label> prediction = model.predict(new ArrayExample<>(NEGATIVE, names, vector));
        Label positive = prediction.getOutputScores().get(POSITIVE.getLabel());
        return positive == null ? 0.0 : positive.getScore();
    }
}
