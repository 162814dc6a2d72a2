package io.cohortflow.console.api;

import io.cohortflow.core.model.ModelManifest;
import io.cohortflow.registry.Announcer;
import io.cohortflow.registry.Gate;
import io.cohortflow.registry.ModelBundle;
import io.cohortflow.registry.ModelRegistry;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The model registry as the console shows it: the bundle's versions with their metrics and training report, and
 * promote or roll back, as the registry CLI does: a promotion passes the same gate as the nightly's (a metric's
 * floor and its largest regression), and a promotion is announced on models.published, where the stream picks it up.
 */
public final class ModelsApi {
    private final ModelRegistry registry;
    private final Gate gate;
    private final String bootstrapServers;
    private final String modelsTopic;
    private final String statusTopic;

    public ModelsApi(ModelRegistry registry, Gate gate, String bootstrapServers, String modelsTopic,
                     String statusTopic) {
        this.registry = registry;
        this.gate = gate;
        this.bootstrapServers = bootstrapServers;
        this.modelsTopic = modelsTopic;
        this.statusTopic = statusTopic;
    }

    /** The bundle's versions, newest first, with which is current and the promotions so far. */
    public Map<String, Object> list() {
        String name = ModelBundle.NAME;
        int current = registry.current(name).map(ModelManifest::version).orElse(-1);
        List<Map<String, Object>> versions = new ArrayList<>();
        List<Integer> numbers = new ArrayList<>(registry.versions(name));
        numbers.sort(java.util.Comparator.reverseOrder());
        for (int v : numbers) {
            ModelManifest m = registry.manifest(name, v);
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("version", v);
            out.put("current", v == current);
            out.put("createdAt", m.createdAt());
            out.put("metrics", new java.util.TreeMap<>(m.metrics()));
            out.put("trainingFrom", m.trainingFrom());
            out.put("trainingTo", m.trainingTo());
            out.put("rows", m.rows());
            out.put("users", m.users());
            out.put("provenance", new java.util.TreeMap<>(m.provenance()));
            out.put("codeVersion", m.codeVersion());
            out.put("report", m.artifacts().containsKey(ModelBundle.REPORT)
                    ? "/v1/models/versions/" + v + "/report" : null);
            versions.add(out);
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("name", name);
        out.put("current", current < 0 ? null : current);
        out.put("gate", Map.of("metric", String.valueOf(gate.metric()), "floor", gate.floor(),
                "maxRegression", gate.maxRegression()));
        out.put("versions", versions);
        out.put("promotions", registry.history(name));
        return out;
    }

    /** The training report of a version (the HTML page the training wrote), if it has one. */
    public Optional<byte[]> report(int version) {
        ModelManifest m = registry.manifest(ModelBundle.NAME, version);
        return m.artifacts().containsKey(ModelBundle.REPORT)
                ? Optional.of(registry.artifact(m, ModelBundle.REPORT)) : Optional.empty();
    }

    /** The outcome of a promotion or rollback: promoted or refused, and why. */
    public record Outcome(boolean promoted, String reason, Integer version) {
    }

    public Outcome promote(int version, String reason) {
        return announced(registry.promote(ModelBundle.NAME, version, gate, false,
                reason == null || reason.isBlank() ? "promoted in the console" : reason));
    }

    public Outcome rollback() {
        return announced(registry.rollback(ModelBundle.NAME));
    }

    private Outcome announced(ModelRegistry.Promotion promotion) {
        if (promotion.promoted()) {
            Announcer.announce(bootstrapServers, modelsTopic, registry, promotion.candidate(), promotion.reason(),
                    statusTopic);
        }
        return new Outcome(promotion.promoted(), promotion.reason(),
                Optional.ofNullable(promotion.candidate()).map(ModelManifest::version).orElse(null));
    }
}
