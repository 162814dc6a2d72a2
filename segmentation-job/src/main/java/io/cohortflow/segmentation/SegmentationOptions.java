package io.cohortflow.segmentation;

import io.cohortflow.jobs.options.JobArgs;
import io.cohortflow.jobs.options.KafkaOptions;

import java.io.Serializable;
import java.time.Duration;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * Options of the segmentation job, parsed once from the command line.
 *
 * <p>Besides {@link KafkaOptions}: {@code --group-id} (default cohortflow-segmentation), {@code --max-parallelism}
 * (default 128), {@code --out-of-orderness} (default 5min: how far behind the newest event an event may arrive and
 * still be in order), {@code --idleness} (default 1min: a partition silent this long stops holding the watermark back).
 */
public record SegmentationOptions(KafkaOptions kafka, String groupId, int maxParallelism, Duration outOfOrderness,
                                  Duration idleness) implements Serializable {

    public static final Set<String> KEYS;

    static {
        Set<String> keys = new HashSet<>(KafkaOptions.KEYS);
        keys.addAll(Set.of("group-id", "max-parallelism", "out-of-orderness", "idleness"));
        KEYS = Set.copyOf(keys);
    }

    public static SegmentationOptions parse(String[] args) {
        JobArgs a = JobArgs.parse(args, KEYS);
        return new SegmentationOptions(
                KafkaOptions.from(a),
                a.string("group-id", "cohortflow-segmentation"),
                a.integer("max-parallelism", 128),
                a.duration("out-of-orderness", Duration.ofMinutes(5)),
                a.duration("idleness", Duration.ofMinutes(1)));
    }

    public Map<String, String> summary() {
        return Map.of("bootstrap-servers", kafka.bootstrapServers(), "group-id", groupId,
                "delivery-guarantee", kafka.deliveryGuarantee().name(), "max-parallelism", String.valueOf(maxParallelism),
                "out-of-orderness", outOfOrderness.toString(), "idleness", idleness.toString());
    }
}
