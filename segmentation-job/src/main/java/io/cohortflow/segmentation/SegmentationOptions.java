package io.cohortflow.segmentation;

import io.cohortflow.core.event.EventTaxonomy;
import io.cohortflow.core.feature.FeatureConfig;
import io.cohortflow.core.segment.SegmentDefinition;
import io.cohortflow.core.segment.SegmentRules;
import io.cohortflow.jobs.options.JobArgs;
import io.cohortflow.jobs.options.KafkaOptions;

import java.io.Serializable;
import java.time.Duration;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Options of the segmentation job, parsed once from the command line. Besides {@link KafkaOptions}:
 * <pre>
 * --group-id ID            consumer group and transactional-id prefix (default cohortflow-segmentation)
 * --max-parallelism N      fixed for the life of the job's state (default 128)
 * --out-of-orderness D     how far behind the newest event an event may arrive and still be in order (default 5min)
 * --idleness D             a partition silent this long stops holding the watermark back (default 1min)
 * --segments FILE          the starting segment definitions (default: the shipped conf/segments.yaml)
 * --features FILE          feature settings (default: the shipped conf/features.yaml)
 * --taxonomy FILE          the tracking plan, for the event names of count features (default: shipped)
 * --merge-memory D         how long an id merged away forwards stragglers to its user (default 90d)
 * --erasure-memory D       how long an erased id's erasure time is kept, to drop a handoff of before it still in
 *                          flight (default 7d); nothing else of the id is kept
 * --registry URI           the model registry: its current bundle scores from the start (default: none; models
 *                          then come only from models.published announcements, which name their registry)
 * --model NAME             the bundle's name in the registry (default bundle)
 * --profile-flush D        while the job is behind, how long a profile that moved no membership may wait to be
 *                          replaced by its user's next one (default 1s; also flushed at every checkpoint; 0 writes each
 *                          at once); exactly-once, it waits for the checkpoint, whose commit makes it visible
 * --profile-behind D       how far before the wall clock a profile's time must lie for it to wait (default 15min: a
 *                          catch-up, a replay; live profiles go at once)
 * </pre>
 */
public record SegmentationOptions(KafkaOptions kafka, String groupId, int maxParallelism, Duration outOfOrderness,
                                  Duration idleness, String segmentsLocation, String featuresLocation,
                                  String taxonomyLocation, Duration mergeMemory, String registry, String model,
                                  Duration erasureMemory, Duration profileFlush, Duration profileBehind)
        implements Serializable {
    public static final Duration DEFAULT_ERASURE_MEMORY = Duration.ofDays(7);

    public static final Set<String> KEYS;

    static {
        Set<String> keys = new HashSet<>(KafkaOptions.KEYS);
        keys.addAll(Set.of("group-id", "max-parallelism", "out-of-orderness", "idleness", "segments", "features",
                "taxonomy", "merge-memory", "registry", "model", "erasure-memory",
                "profile-flush", "profile-behind"));
        KEYS = Set.copyOf(keys);
    }

    public static SegmentationOptions parse(String[] args) {
        JobArgs a = JobArgs.parse(args, KEYS);
        SegmentationOptions options = new SegmentationOptions(
                KafkaOptions.from(a),
                a.string("group-id", "cohortflow-segmentation"),
                a.integer("max-parallelism", 128),
                a.duration("out-of-orderness", Duration.ofMinutes(5)),
                a.duration("idleness", Duration.ofMinutes(1)),
                a.string("segments", null),
                a.string("features", null),
                a.string("taxonomy", null),
                a.duration("merge-memory", Duration.ofDays(90)),
                a.string("registry", null),
                a.string("model", io.cohortflow.registry.ModelBundle.NAME),
                a.duration("erasure-memory", DEFAULT_ERASURE_MEMORY),
                a.duration("profile-flush", Duration.ofSeconds(1)),
                a.duration("profile-behind", Duration.ofMinutes(15)));
        SegmentRules.compileAll(options.segments()); // an invalid starting set fails the submission, with the reason
        return options;
    }

    public List<SegmentDefinition> segments() {
        return segmentsLocation == null ? SegmentRules.defaults() : SegmentRules.load(segmentsLocation);
    }

    public FeatureConfig features() {
        return featuresLocation == null ? FeatureConfig.defaults() : FeatureConfig.load(featuresLocation);
    }

    public List<String> eventNames() {
        EventTaxonomy taxonomy = taxonomyLocation == null ? EventTaxonomy.defaults() : EventTaxonomy.load(taxonomyLocation);
        return taxonomy.canonicalNames().stream().sorted().toList();
    }

    public Map<String, String> summary() {
        Map<String, String> summary = new LinkedHashMap<>();
        summary.put("bootstrap-servers", kafka.bootstrapServers());
        summary.put("group-id", groupId);
        summary.put("delivery-guarantee", kafka.deliveryGuarantee().name());
        summary.put("max-parallelism", String.valueOf(maxParallelism));
        summary.put("out-of-orderness", outOfOrderness.toString());
        summary.put("idleness", idleness.toString());
        summary.put("segments", segmentsLocation == null ? "conf/segments.yaml (shipped)" : segmentsLocation);
        summary.put("models", registry == null ? "from models.published only" : model + " in " + registry);
        summary.put("erasure-memory", erasureMemory.toString());
        summary.put("profile-flush", profileFlush.toString());
        summary.put("profile-behind", profileBehind.toString());
        return summary;
    }
}
