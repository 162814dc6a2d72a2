package io.cohortflow.segmentation.bench;

import io.cohortflow.core.engine.Ruleset;
import io.cohortflow.core.engine.UserSegments;
import io.cohortflow.core.event.EventTaxonomy;
import io.cohortflow.core.event.UnifiedEvent;
import io.cohortflow.core.event.UnifiedEventCodec;
import io.cohortflow.core.feature.FeatureConfig;
import io.cohortflow.core.feature.FeatureSnapshot;
import io.cohortflow.core.feature.UserFeatures;
import io.cohortflow.core.model.ModelManifest;
import io.cohortflow.core.scoring.Scorer;
import io.cohortflow.core.scoring.Scores;
import io.cohortflow.core.segment.SegmentRules;
import io.cohortflow.registry.ModelBundle;
import io.cohortflow.registry.ModelRegistry;
import io.cohortflow.segmentation.SegmentationJob;
import io.cohortflow.ingest.mapping.IngestMapper;
import io.cohortflow.ingest.mapping.RawEvent;
import io.cohortflow.simulator.Delivery;
import io.cohortflow.simulator.Simulator;
import io.cohortflow.simulator.SimulatorConfig;
import io.cohortflow.testkit.Repository;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The per-event hot path of the segmentation job, without Flink: decode the unified event (its binary form, as
 * events.unified holds it, keeping what the engine reads, as the job's source does: {@link SegmentationJob#EVENTS}),
 * read the user's state (bytes), update the features, take the snapshot, evaluate every
 * shipped segment (CEL), write the state back. {@code featuresOnly} leaves out the rules, {@code rulesOnly} measures
 * evaluating all segments on a snapshot. {@code perEventScored} is {@code perEvent} with a model bundle scoring every
 * evaluation, as the job does once a bundle is loaded (churn and bundle propensity, persona: three Tribuo predictions;
 * model-registry's {@code current-registry} fixture); {@code scoreOnly} measures that scoring alone.
 * {@code engineApply} is the job's per-event path since the engine moved into core (heap state: objects),
 * {@code engineApplySerialized} the same with the state to and from bytes on every event (RocksDB).
 * {@code -p segmentSet=shipped,1000} runs each with the shipped segments and with 1,000 generated ones.
 *
 * <pre>
 * mvn -q -DskipTests install
 * mvn -q -pl benchmarks exec:exec -Dexec.executable=java \
 *     -Dexec.args="-cp %classpath org.openjdk.jmh.Main HotPathBenchmark -f 1 -wi 3 -i 5"
 * </pre>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class HotPathBenchmark {
    /**
     * The running segments: {@code shipped} (conf/segments.yaml, 11), or a number of generated ones
     * ({@link io.cohortflow.core.testing.GeneratedSegments}): {@code -p segmentSet=shipped,1000} measures a large set
     * against the shipped one in the same run.
     */
    @org.openjdk.jmh.annotations.Param({"shipped"})
    public String segmentSet;
    /** The events as events.unified holds them (ingest writes its binary form). */
    private final UnifiedEventCodec codec = new UnifiedEventCodec.Binary();
    /** How the job's source decodes them. */
    private final UnifiedEventCodec read = SegmentationJob.EVENTS;
    private FeatureConfig config;
    private List<String> names;
    private List<SegmentRules.Compiled> segments;
    private List<byte[]> encoded;
    private Map<String, byte[]> state;
    private FeatureSnapshot snapshot;
    private Scorer bundle;
    private int next;
    private Ruleset rules;
    private Map<String, UserSegments> engines;
    /** The engines' state as bytes, per user ({@code state} holds the features-only path's bytes). */
    private Map<String, byte[]> engineBytes;

    @Setup
    public void setUp() {
        config = FeatureConfig.defaults();
        names = EventTaxonomy.defaults().canonicalNames().stream().sorted().toList();
        segments = SegmentRules.compileAll(SegmentRules.defaults());
        encoded = new ArrayList<>();
        for (UnifiedEvent e : events(2_000, 7)) {
            encoded.add(codec.encode(e));
        }
        pass = encodedEvents(passUsers);
        state = new HashMap<>();
        engines = new HashMap<>();
        engineBytes = new HashMap<>();
        rules = Ruleset.of(config, names, Duration.ofDays(90), segmentSet.equals("shipped") ? SegmentRules.defaults()
                : io.cohortflow.core.testing.GeneratedSegments.of(Integer.parseInt(segmentSet), 1), Scorer.NONE);
        UserFeatures f = new UserFeatures(config);
        List<UnifiedEvent> some = events(1, 7);
        some.forEach(f::add);
        snapshot = f.snapshot(some.get(some.size() - 1).timestamp(), names);
        bundle = ModelBundle.load(new ModelRegistry(
                        Repository.root().resolve("model-registry/src/test/resources/current-registry").toUri()),
                "bundle", 1, ModelManifest.schemaHash(FeatureSnapshot.MODEL_FEATURES));
    }

    public static List<UnifiedEvent> events(int users, int days) {
        IngestMapper mapper = new IngestMapper(EventTaxonomy.defaults(), IngestMapper.loadMappings(null), 32 * 1024,
                Duration.ofHours(1), Duration.ofDays(3650));
        List<UnifiedEvent> events = new ArrayList<>();
        for (Delivery d : new Simulator(SimulatorConfig.of(5, users, days, Instant.parse("2026-03-02T00:00:00Z")))) {
            events.addAll(mapper.map(new RawEvent(d.payload(), d.source(), d.deliveredAt())).events());
        }
        events.sort(Comparator.comparingLong(UnifiedEvent::timestamp));
        return events;
    }

    @Benchmark
    public int perEvent() {
        return perEvent(Scorer.NONE);
    }

    @Benchmark
    public int perEventScored() {
        return perEvent(bundle);
    }

    private int perEvent(Scorer scorer) {
        UnifiedEvent event = read.decode(encoded.get(next++ % encoded.size()));
        byte[] bytes = state.get(event.resolvedId());
        UserFeatures features = bytes == null ? new UserFeatures(config) : UserFeatures.fromBytes(bytes, config);
        features.add(event);
        FeatureSnapshot s = features.snapshot(event.timestamp(), names);
        Scores scores = scorer.score(s);
        Map<String, Object> vars = SegmentRules.variables(s, scores.scores(), scores.persona());
        int in = 0;
        for (SegmentRules.Compiled segment : segments) {
            if (SegmentRules.matches(segment, vars)) {
                in++;
            }
        }
        state.put(event.resolvedId(), features.toBytes());
        return in;
    }

    /**
     * The engine as the job runs it on the heap state backend: decode the event, take the user's engine (objects,
     * no bytes), apply the event (features, snapshot, every rule, changes and profile), keep it.
     */
    @Benchmark
    public int engineApply() {
        UnifiedEvent event = read.decode(encoded.get(next++ % encoded.size()));
        UserSegments user = engines.computeIfAbsent(event.resolvedId(), id -> new UserSegments());
        return published(user.apply(event.resolvedId(), event, rules, 0));
    }

    /**
     * The outcome's changes and its profile, built: the engine builds a profile only when asked for
     * ({@code StepProfile}), and the job's {@code LatestProfiles} asks for those it writes, which are fewer than one
     * per step (each change's, and a user's latest per checkpoint). Every step's is built here: the path measured does
     * at least the job's work.
     */
    private static int published(io.cohortflow.core.engine.Outcome outcome) {
        return outcome.changes().size() + (outcome.profile().isPresent() ? 1 : 0);
    }

    /**
     * The people {@link #enginePass} replays: the simulation of {@link #events(int, int)} over 7 days. The suite's
     * quick run takes fewer.
     */
    @org.openjdk.jmh.annotations.Param({"2000"})
    public int passUsers;
    private List<byte[]> pass;

    /**
     * {@link #engineApply} over whole passes: every event of {@link #passUsers} people's 7 days, in time order, applied
     * to fresh engines (first events, the moments windows move, changes and profiles), so every invocation does the
     * same work. One invocation is one pass: per event is the score over {@link #passEvents}. engineApply cycles
     * through its events without end, so its iterations sample different parts of them (at 1,000 segments they ranged
     * from 55 to 520 µs in one run) and, after the first pass, replay events older than their users' clocks.
     */
    @Benchmark
    public long enginePass() {
        Map<String, UserSegments> fresh = new HashMap<>();
        long changes = 0;
        for (byte[] bytes : pass) {
            UnifiedEvent event = read.decode(bytes);
            UserSegments user = fresh.computeIfAbsent(event.resolvedId(), id -> new UserSegments());
            changes += published(user.apply(event.resolvedId(), event, rules, 0));
        }
        return changes;
    }

    /** How many events one {@link #enginePass} applies for {@code users} people. */
    public static int passEvents(int users) {
        return events(users, 7).size();
    }

    private List<byte[]> encodedEvents(int users) {
        if (users == 2_000) {
            return encoded; // setUp's
        }
        List<byte[]> bytes = new ArrayList<>();
        for (UnifiedEvent e : events(users, 7)) {
            bytes.add(codec.encode(e));
        }
        return bytes;
    }

    /** {@link #engineApply} with the state read from and written to bytes on every event, as RocksDB does. */
    @Benchmark
    public int engineApplySerialized() throws java.io.IOException {
        UnifiedEvent event = read.decode(encoded.get(next++ % encoded.size()));
        byte[] bytes = engineBytes.get(event.resolvedId());
        UserSegments user = bytes == null ? new UserSegments()
                : UserSegments.readFrom(new org.apache.flink.core.memory.DataInputDeserializer(bytes));
        int changes = published(user.apply(event.resolvedId(), event, rules, 0));
        org.apache.flink.core.memory.DataOutputSerializer out = new org.apache.flink.core.memory.DataOutputSerializer(512);
        user.writeTo(out);
        engineBytes.put(event.resolvedId(), out.getCopyOfBuffer());
        return changes;
    }

    @Benchmark
    public Scores scoreOnly() {
        return bundle.score(snapshot);
    }

    @Benchmark
    public int featuresOnly() {
        UnifiedEvent event = read.decode(encoded.get(next++ % encoded.size()));
        byte[] bytes = state.get(event.resolvedId());
        UserFeatures features = bytes == null ? new UserFeatures(config) : UserFeatures.fromBytes(bytes, config);
        features.add(event);
        byte[] out = features.toBytes();
        state.put(event.resolvedId(), out);
        return out.length;
    }

    @Benchmark
    public int rulesOnly() {
        Map<String, Object> vars = SegmentRules.variables(snapshot, Map.of(), "");
        int in = 0;
        for (SegmentRules.Compiled segment : segments) {
            if (SegmentRules.matches(segment, vars)) {
                in++;
            }
        }
        return in;
    }
}
