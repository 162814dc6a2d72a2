package io.cohortflow.ingest;

import io.cohortflow.core.event.DeadLetter;
import io.cohortflow.ingest.mapping.IngestMapper;
import io.cohortflow.core.event.EventTaxonomy;
import io.cohortflow.ingest.mapping.IngestMapper;
import io.cohortflow.jobs.options.JobArgs;
import io.cohortflow.jobs.options.KafkaOptions;

import java.io.Serializable;
import java.time.Duration;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * Options of the ingest job, parsed once from the command line. Besides {@link KafkaOptions}:
 *
 * <pre>
 * --history-path URI        where the Parquet history goes (file:///..., s3://...); required
 * --group-id ID             consumer group and transactional-id prefix (default cohortflow-ingest)
 * --max-parallelism N       fixed for the life of the job's state (default 128)
 * --taxonomy FILE           tracking plan (default: the shipped conf/taxonomy.yaml)
 * --sources DIR             source mappings (default: the shipped conf/sources)
 * --max-event-bytes N       size cap of one call (default 32768), alone or in a batch
 * --max-batch-bytes N       size cap of a batch record (default 4194304); each call in it is judged on its own
 * --dlq-payload-bytes N     the most of a payload a dead letter carries (default 65536; then size and SHA-256)
 * --future-tolerance D      how far past its receive time an event may claim to be (default 1h)
 * --past-tolerance D        how far before its receive time a live call may be (default 3650d); history replayed by
 *                           a backfill is exempt
 * --dedupe-window D         redeliveries of a messageId within this are dropped (default 7d, processing time)
 * --out-of-orderness D      watermark bound on receive time (default 5min)
 * --idleness D              a partition silent this long stops holding the watermark back (default 1min)
 * --max-partition-drift D   how far (receive time) one raw partition may be read ahead of the slowest (default 4min;
 *                           below --out-of-orderness, so a replay keeps a user's events in order downstream)
 * --allowed-lateness D      an event that arrives later than this after it happened goes to events.late (default 1h;
 *                           a backfill of old history sets it beyond the age of that history)
 * --max-anonymous-ids N     cap of anonymous ids linked to one user (default 100, at most 5,000)
 * --identity-ttl D          how long an unused device link is kept (default 400d)
 * </pre>
 */
public record IngestOptions(KafkaOptions kafka, String historyPath, String groupId, int maxParallelism,
                            String taxonomyLocation, String sourcesDir, int maxEventBytes, int maxBatchBytes,
                            int deadLetterPayloadBytes, Duration futureTolerance,
                            Duration pastTolerance, Duration dedupeWindow, Duration outOfOrderness, Duration idleness,
                            Duration allowedLateness, int maxAnonymousIds, Duration identityTtl,
                            Duration maxPartitionDrift) implements Serializable {

    public static final Set<String> KEYS;

    static {
        Set<String> keys = new HashSet<>(KafkaOptions.KEYS);
        keys.addAll(Set.of("history-path", "group-id", "max-parallelism", "taxonomy", "sources", "max-event-bytes",
                "max-batch-bytes", "dlq-payload-bytes",
                "future-tolerance", "past-tolerance", "dedupe-window", "out-of-orderness", "idleness",
                "allowed-lateness", "max-anonymous-ids", "identity-ttl", "max-partition-drift"));
        KEYS = Set.copyOf(keys);
    }

    public static IngestOptions parse(String[] args) {
        JobArgs a = JobArgs.parse(args, KEYS);
        IngestOptions options = new IngestOptions(
                KafkaOptions.from(a),
                a.required("history-path"),
                a.string("group-id", "cohortflow-ingest"),
                a.integer("max-parallelism", 128),
                a.string("taxonomy", null),
                a.string("sources", null),
                a.integer("max-event-bytes", 32 * 1024),
                a.integer("max-batch-bytes", IngestMapper.DEFAULT_MAX_BATCH_BYTES),
                a.integer("dlq-payload-bytes", DeadLetter.DEFAULT_MAX_PAYLOAD_BYTES),
                a.duration("future-tolerance", Duration.ofHours(1)),
                a.duration("past-tolerance", Duration.ofDays(3650)),
                a.duration("dedupe-window", Duration.ofDays(7)),
                a.duration("out-of-orderness", Duration.ofMinutes(5)),
                a.duration("idleness", Duration.ofMinutes(1)),
                a.duration("allowed-lateness", Duration.ofHours(1)),
                a.integer("max-anonymous-ids", 100),
                a.duration("identity-ttl", Duration.ofDays(400)),
                a.duration("max-partition-drift", Duration.ofMinutes(4)));
        // Every record ingest writes must fit the one size limit of --max-record-bytes: a unified event or a dead
        // letter is at most about six times what it quotes (JSON escaping), plus its envelope.
        long largest = 6L * Math.max(options.maxEventBytes(), options.deadLetterPayloadBytes()) + 16 * 1024;
        if (largest > options.kafka().maxRecordBytes()) {
            throw new IllegalArgumentException("--max-event-bytes " + options.maxEventBytes() + " and --dlq-payload-bytes "
                    + options.deadLetterPayloadBytes() + " can make records of " + largest
                    + " bytes, over --max-record-bytes " + options.kafka().maxRecordBytes());
        }
        if (options.maxEventBytes() < 1 || options.deadLetterPayloadBytes() < 0) {
            throw new IllegalArgumentException("--max-event-bytes must be positive and --dlq-payload-bytes not negative");
        }
        if (options.maxAnonymousIds() < 1 || options.maxAnonymousIds() > io.cohortflow.core.privacy.PrivacyRequest.MAX_IDS) {
            // A person's devices are named in one follow-up privacy request, which takes at most that many ids.
            throw new IllegalArgumentException("--max-anonymous-ids must be 1 to "
                    + io.cohortflow.core.privacy.PrivacyRequest.MAX_IDS + ", got " + options.maxAnonymousIds());
        }
        if (options.maxPartitionDrift().compareTo(options.outOfOrderness()) >= 0) {
            throw new IllegalArgumentException("--max-partition-drift " + options.maxPartitionDrift()
                    + " must be below --out-of-orderness " + options.outOfOrderness()
                    + ": partitions read further apart than that put events out of order downstream");
        }
        return options;
    }

    public EventTaxonomy taxonomy() {
        return taxonomyLocation == null ? EventTaxonomy.defaults() : EventTaxonomy.load(taxonomyLocation);
    }

    /** The mapper for these options: the taxonomy, the source mappings and the validation limits. */
    public IngestMapper mapper() {
        return new IngestMapper(taxonomy(), IngestMapper.loadMappings(sourcesDir), maxEventBytes, maxBatchBytes,
                futureTolerance, pastTolerance);
    }

    /** For the web UI's job parameters. */
    public Map<String, String> summary() {
        Map<String, String> summary = new LinkedHashMap<>();
        summary.put("bootstrap-servers", kafka.bootstrapServers());
        summary.put("history-path", historyPath);
        summary.put("group-id", groupId);
        summary.put("delivery-guarantee", kafka.deliveryGuarantee().name());
        summary.put("max-parallelism", String.valueOf(maxParallelism));
        summary.put("dedupe-window", dedupeWindow.toString());
        summary.put("allowed-lateness", allowedLateness.toString());
        summary.put("max-anonymous-ids", String.valueOf(maxAnonymousIds));
        return summary;
    }
}
