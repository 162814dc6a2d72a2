package io.cohortflow.segmentation.bench;

import io.cohortflow.core.event.EventTaxonomy;
import io.cohortflow.core.event.EventType;
import io.cohortflow.core.event.UnifiedEvent;
import io.cohortflow.core.feature.FeatureConfig;
import io.cohortflow.core.feature.FeatureSnapshot;
import io.cohortflow.core.model.ModelManifest;
import io.cohortflow.core.model.ModelPublished;
import io.cohortflow.core.segment.SegmentChange;
import io.cohortflow.core.segment.SegmentDefinition;
import io.cohortflow.core.segment.SegmentRules;
import io.cohortflow.segmentation.functions.Scoring;
import io.cohortflow.segmentation.functions.SegmentFunction;
import io.cohortflow.segmentation.input.Control;
import io.cohortflow.segmentation.input.SegmentationInput;
import io.cohortflow.testkit.KafkaTestSupport;
import io.cohortflow.testkit.Repository;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.state.rocksdb.EmbeddedRocksDBStateBackend;
import org.apache.flink.runtime.state.hashmap.HashMapStateBackend;
import org.apache.flink.streaming.api.operators.co.CoBroadcastWithKeyedOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedBroadcastOperatorTestHarness;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * What applying a rules change to everyone costs, per parallel instance: the segmentation operator (in Flink's test
 * harness, on one key group range, heap or RocksDB state) is given {@code users} users of a few events each, then a new
 * segment definition, then a model swap. Each pass visits every key ({@code applyToKeyedState}). The peer in the same
 * run is the operator's own per-event rate: a pass's users/s against the events/s of the load, so the figure travels
 * to other machines as a ratio.
 *
 * <pre>
 * mvn -q -pl benchmarks exec:exec -Dexec.executable=java \
 *     -Dexec.args="-Xmx4g -cp %classpath io.cohortflow.segmentation.bench.ReevaluationBenchmark 200000 heap"
 * </pre>
 * The second argument is {@code heap} (as the local run) or {@code rocksdb} (as k8s).
 */
public final class ReevaluationBenchmark {
    private static final long T0 = Instant.parse("2026-03-02T10:00:00Z").toEpochMilli();
    private static final long MIN = 60_000L;
    private static final String[] ACTIONS = {"page_view", "product_view", "add_to_cart", "email_opened", "order_completed"};

    private ReevaluationBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        int users = args.length > 0 ? Integer.parseInt(args[0]) : 100_000;
        String backend = args.length > 1 ? args[1] : "heap";
        SegmentFunction fn = new SegmentFunction(FeatureConfig.defaults(),
                EventTaxonomy.defaults().canonicalNames().stream().sorted().toList(), SegmentRules.defaults(),
                Scoring.none(), Duration.ofDays(90));
        var harness = new KeyedBroadcastOperatorTestHarness<>(
                new CoBroadcastWithKeyedOperator<>(fn, List.of(SegmentFunction.DEFINITIONS, SegmentFunction.MODELS)),
                SegmentationInput::key, Types.STRING, 1, 1, 0);
        if (backend.equals("rocksdb")) {
            // The harness gives RocksDB a few hundred KB of managed memory, so it would flush its memtable on every
            // few writes; a task manager's slot has hundreds of MB. Unmanaged memory stands in for that here.
            EmbeddedRocksDBStateBackend rocksdb = new EmbeddedRocksDBStateBackend();
            rocksdb.getMemoryConfiguration().setUseManagedMemory(false);
            harness.setStateBackend(rocksdb);
        } else {
            harness.setStateBackend(new HashMapStateBackend());
        }
        harness.setup();
        harness.open();
        harness.processBroadcastWatermark(Long.MAX_VALUE);

        SplittableRandom random = new SplittableRandom(42);
        long events = 0;
        long started = System.nanoTime();
        for (int u = 0; u < users; u++) {
            String user = "u" + u;
            int count = 2 + random.nextInt(5);
            long t = T0 + random.nextLong(30L * 24 * 60) * MIN;
            for (int e = 0; e < count; e++) {
                String action = ACTIONS[random.nextInt(ACTIONS.length)];
                Map<String, Object> properties = action.equals("order_completed")
                        ? Map.of("revenue", 10.0 + random.nextInt(400)) : Map.of();
                UnifiedEvent event = new UnifiedEvent(user + "-" + e, EventType.TRACK, action, null, user, user, t,
                        null, t, "web", null, properties, Map.of(), Map.of());
                harness.processElement(new StreamRecord<>(SegmentationInput.of(event), t));
                t += random.nextInt(120) * MIN;
                events++;
            }
            if ((u + 1) % Math.max(1, users / 10) == 0) {
                System.out.printf("  loaded %,d of %,d users%n", u + 1, users);
            }
        }
        double loadSeconds = (System.nanoTime() - started) / 1e9;
        double eventRate = events / loadSeconds;
        System.out.printf("%s state, %,d users, %,d events: loaded at %,.0f events/s (%,.0f users/s)%n", backend, users,
                events, eventRate, users / loadSeconds);

        int before = harness.extractOutputValues().size();
        started = System.nanoTime();
        harness.processBroadcastElement(Control.of(new SegmentDefinition("big_spender", "Big spender",
                "monetary_value_90d >= 200.0", null, false)), 0);
        double definitionSeconds = (System.nanoTime() - started) / 1e9;
        int definitionChanges = harness.extractOutputValues().size() - before;
        report("a new segment definition", users, definitionSeconds, definitionChanges, eventRate);

        Path registry = KafkaTestSupport.copyTree(
                Repository.root().resolve("model-registry/src/test/resources/current-registry"),
                KafkaTestSupport.tempDir("reevaluation-bench-").resolve("registry"));
        before = harness.extractOutputValues().size();
        started = System.nanoTime();
        harness.processBroadcastElement(Control.of(new ModelPublished("bundle", 1, registry.toUri().toString(),
                ModelManifest.schemaHash(FeatureSnapshot.MODEL_FEATURES), Instant.now().toString(), "benchmark")), 0);
        double modelSeconds = (System.nanoTime() - started) / 1e9;
        List<SegmentChange> out = harness.extractOutputValues();
        report("a model swap (load + rescore)", users, modelSeconds, out.size() - before, eventRate);
        harness.close();
    }

    private static void report(String what, int users, double seconds, int changes, double eventRate) {
        double rate = users / seconds;
        System.out.printf("%s: %,d users in %.2f s = %,.0f users/s per instance, %,d changes; %.2f users per event"
                + " of the load's rate%n", what, users, seconds, rate, changes, rate / eventRate);
    }
}
