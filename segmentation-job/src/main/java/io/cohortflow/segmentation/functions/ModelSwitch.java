package io.cohortflow.segmentation.functions;

import io.cohortflow.core.feature.FeatureSnapshot;
import io.cohortflow.core.model.ModelManifest;
import io.cohortflow.core.model.ModelPublished;
import io.cohortflow.core.scoring.Scorer;
import io.cohortflow.registry.ModelBundle;
import io.cohortflow.registry.ModelRegistry;
import org.apache.flink.metrics.Counter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.URI;
import java.util.Optional;

/**
 * Which model bundle scores now, and how it changes: a promotion announced on models.published is loaded from the
 * registry, checked against the feature schema this job computes, and swapped in; a bundle that cannot be used is
 * refused with a log line and {@code modelsRefused}, and the previous one keeps scoring. At (re)start the restored
 * announcement is loaded, else the registry's current version. Per operator instance; the announcement itself is kept
 * in broadcast state by the caller, so every instance decides the same.
 */
final class ModelSwitch {
    private static final Logger LOG = LoggerFactory.getLogger(ModelSwitch.class);
    static final String SCHEMA_HASH = ModelManifest.schemaHash(FeatureSnapshot.MODEL_FEATURES);

    private final Scoring scoring;
    private final Counter loaded;
    private final Counter refused;
    private Scorer scorer;
    private int version;

    ModelSwitch(Scoring scoring, Counter loaded, Counter refused) {
        this.scoring = scoring;
        this.loaded = loaded;
        this.refused = refused;
        this.scorer = scoring.initial();
    }

    Scorer scorer() {
        return scorer;
    }

    /** The version scoring now; 0 before any bundle. */
    int version() {
        return version;
    }

    /** Whether an announcement is for the model this job scores with and fits its features; logs why not. */
    boolean accepts(ModelPublished published) {
        if (!published.name().equals(scoring.modelName())) {
            LOG.info("ignoring {} v{}: this job scores with '{}'", published.name(), published.version(), scoring.modelName());
            return false;
        }
        if (published.featureSchemaHash() != null && !published.featureSchemaHash().equals(SCHEMA_HASH)) {
            refused.inc();
            LOG.error("REFUSED model {} v{}: it was trained on another feature schema ({}) than this job computes ({}); "
                    + "still scoring as before", published.name(), published.version(),
                    published.featureSchemaHash().substring(0, Math.min(12, published.featureSchemaHash().length())),
                    SCHEMA_HASH.substring(0, 12));
            return false;
        }
        return true;
    }

    /** Swaps in an accepted announcement's bundle, unless it is the one scoring already. Returns whether it changed. */
    boolean onPublished(ModelPublished published) {
        return published.version() != version
                && load(published.registry(), published.version(), "announced on models.published (" + published.reason() + ")");
    }

    /** At (re)start: the restored announcement if it loads, else the registry's current version, if any. */
    void start(Optional<ModelPublished> restored) {
        if (restored.isPresent() && load(restored.get().registry(), restored.get().version(), "restored from the last checkpoint")) {
            return;
        }
        if (scoring.registry() == null) {
            return;
        }
        try {
            Optional<ModelManifest> current = new ModelRegistry(URI.create(scoring.registry())).current(scoring.modelName());
            if (current.isPresent()) {
                load(scoring.registry(), current.get().version(), "the registry's current version at start");
            } else {
                LOG.info("no current version of {} in {} yet: scoring with {} until one is promoted",
                        scoring.modelName(), scoring.registry(), scorer.label());
            }
        } catch (RuntimeException e) {
            refused.inc();
            LOG.error("cannot read the model registry {}; scoring stays as it is: {}", scoring.registry(), e.getMessage(), e);
        }
    }

    private boolean load(String registry, int candidate, String why) {
        try {
            ModelBundle bundle = ModelBundle.load(new ModelRegistry(URI.create(registry)), scoring.modelName(), candidate,
                    SCHEMA_HASH);
            scorer = bundle;
            version = candidate;
            loaded.inc();
            LOG.info("now scoring with {} from {} ({}); every user is rescored now",
                    bundle.label(), registry, why);
            return true;
        } catch (RuntimeException e) {
            refused.inc();
            LOG.error("REFUSED model {} v{} ({}); still scoring with {}: {}", scoring.modelName(), candidate, why,
                    version == 0 ? "the previous scorer" : scoring.modelName() + "@v" + version, e.getMessage());
            return false;
        }
    }
}
