package io.cohortflow.training;

import io.cohortflow.core.event.EventTaxonomy;
import io.cohortflow.core.event.UnifiedEvent;
import io.cohortflow.core.feature.FeatureConfig;
import io.cohortflow.core.feature.FeatureSnapshot;
import io.cohortflow.core.model.ModelManifest;
import io.cohortflow.core.training.ChurnLabels;
import io.cohortflow.ingest.mapping.IngestMapper;
import io.cohortflow.ingest.mapping.RawEvent;
import io.cohortflow.registry.ModelRegistry;
import io.cohortflow.simulator.Delivery;
import io.cohortflow.simulator.GroundTruth;
import io.cohortflow.simulator.Simulator;
import io.cohortflow.simulator.SimulatorConfig;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tribuo.Model;
import org.tribuo.classification.Label;
import org.tribuo.clustering.ClusterID;
import org.tribuo.protos.core.ModelProto;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/** The trainers on simulated behaviour, scored against the simulator's ground truth. */
class TrainersTest {
    private static final Instant START = Instant.parse("2026-01-05T00:00:00Z");
    private static final long DAY = 86_400_000L;
    private static final ChurnLabels LABELS = new ChurnLabels(Duration.ofDays(14), Set.of("page_view", "product_view",
            "product_search", "add_to_cart", "order_completed", "feature_used", "checkout_started"));
    private static final FeatureConfig CONFIG = FeatureConfig.defaults();
    private static final List<String> NAMES = EventTaxonomy.defaults().canonicalNames().stream().sorted().toList();
    private static Map<String, List<UnifiedEvent>> byUser;
    private static Map<String, GroundTruth> truth;

    @BeforeAll
    static void simulate() {
        Simulator simulator = new Simulator(SimulatorConfig.of(17, 1_500, 70, START).withRates(0.0, 0.0, 0.0)
                .withSeedStory(false));
        IngestMapper mapper = new IngestMapper(EventTaxonomy.defaults(), IngestMapper.loadMappings(null), 32 * 1024,
                Duration.ofHours(1), Duration.ofDays(3650));
        byUser = new HashMap<>();
        for (Delivery d : simulator) {
            for (UnifiedEvent e : mapper.map(new RawEvent(d.payload(), d.source(), d.deliveredAt())).events()) {
                byUser.computeIfAbsent(e.resolvedId(), k -> new ArrayList<>()).add(e);
            }
        }
        truth = new HashMap<>();
        simulator.groundTruth().forEach(t -> truth.put(t.userId(), t));
    }

    @Test
    void churnModelRanksChurnersOnALaterHoldoutAndRoundTripsThroughTheRegistry(@TempDir Path registryDir) throws Exception {
        long started = System.nanoTime();
        List<TrainingRow> train = rows(examples(START.toEpochMilli() + 42 * DAY));
        List<TrainingRow> holdout = rows(examples(START.toEpochMilli() + 70 * DAY));
        Model<Label> model = ChurnTrainer.train(train, 1L);
        ChurnTrainer.Metrics metrics = ChurnTrainer.evaluate(model, holdout);
        System.out.printf("churn: %d training examples (%d churners), holdout %d (%d churners): AUC %.3f, "
                        + "precision %.3f, recall %.3f, %.1f s%n", train.size(),
                train.stream().filter(TrainingRow::churned).count(), metrics.examples(), metrics.churners(),
                metrics.auc(), metrics.precision(), metrics.recall(), (System.nanoTime() - started) / 1e9);
        assertThat(metrics.churners()).isPositive();
        assertThat(metrics.auc()).as("the issue's target (measured 0.953 here; everything is seeded)").isGreaterThanOrEqualTo(0.85);

        byte[] bytes = model.serialize().toByteArray();
        @SuppressWarnings("unchecked")
        Model<Label> back = (Model<Label>) Model.deserialize(ModelProto.parseFrom(bytes));
        double[] someone = holdout.get(0).features();
        assertThat(ChurnTrainer.churnProbability(back, someone)).isEqualTo(ChurnTrainer.churnProbability(model, someone));

        ModelRegistry registry = new ModelRegistry(registryDir.toUri());
        ModelManifest manifest = registry.publish(new ModelManifest("churn", 0, null, FeatureSnapshot.MODEL_FEATURES,
                ModelManifest.schemaHash(FeatureSnapshot.MODEL_FEATURES), metrics.asMap(), START.toString(),
                Instant.ofEpochMilli(START.toEpochMilli() + 42 * DAY).toString(), train.size(), train.size(),
                Map.of("trainer", model.getProvenance().getTrainerProvenance().getClassName()), "dev", Map.of()),
                Map.of("churn.tribuo", bytes));
        @SuppressWarnings("unchecked")
        Model<Label> fromRegistry = (Model<Label>) Model.deserialize(
                ModelProto.parseFrom(registry.artifact("churn", manifest.version(), "churn.tribuo")));
        assertThat(ChurnTrainer.churnProbability(fromRegistry, someone)).isEqualTo(ChurnTrainer.churnProbability(model, someone));
    }

    @Test
    void clustersAgreeWithTheTruePersonas() {
        long asOf = START.toEpochMilli() + 28 * DAY;
        List<double[]> rows = new ArrayList<>();
        List<Integer> personas = new ArrayList<>();
        for (var entry : byUser.entrySet()) {
            GroundTruth t = truth.get(entry.getKey());
            if (t == null) {
                continue; // an anonymous device never stitched here (ingest's identity stage is not in this test)
            }
            var features = new io.cohortflow.core.feature.UserFeatures(CONFIG);
            entry.getValue().stream().filter(e -> e.timestamp() <= asOf)
                    .sorted(java.util.Comparator.comparingLong(UnifiedEvent::timestamp)).forEach(features::add);
            features.prune(asOf);
            rows.add(features.snapshot(asOf, NAMES).modelVector());
            personas.add(t.persona().ordinal());
        }
        long started = System.nanoTime();
        Model<ClusterID> model = PersonaTrainer.train(rows, 6, 42L);
        int[] clusters = rows.stream().mapToInt(r -> PersonaTrainer.cluster(model, r)).toArray();
        double ari = PersonaTrainer.adjustedRandIndex(clusters, personas.stream().mapToInt(Integer::intValue).toArray());
        System.out.printf("personas: %d users, k=6: ARI %.3f against the simulator's personas, %.1f s%n", rows.size(),
                ari, (System.nanoTime() - started) / 1e9);
        assertThat(ari).as("the issue's target (measured 0.743 here; everything is seeded)").isGreaterThanOrEqualTo(0.6);
        assertThat(PersonaTrainer.adjustedRandIndex(new int[] {0, 0, 1, 1}, new int[] {5, 5, 7, 7})).isEqualTo(1.0);
    }

    private static List<TrainingRow> rows(List<ChurnLabels.Example> examples) {
        return examples.stream().map(e -> new TrainingRow(e.userId(), false, e.featureTime(), e.vector(), e.churned())).toList();
    }

    private static List<ChurnLabels.Example> examples(long cutoff) {
        List<ChurnLabels.Example> examples = new ArrayList<>();
        byUser.forEach((user, events) -> LABELS.example(user, events, cutoff, CONFIG, NAMES).ifPresent(examples::add));
        return examples;
    }
}
