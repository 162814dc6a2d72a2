package io.cohortflow.ingest;

import io.cohortflow.core.event.EventTaxonomy;
import io.cohortflow.ingest.mapping.IngestMapper;
import io.cohortflow.jobs.options.JobArgs;
import io.cohortflow.jobs.options.KafkaOptions;

import java.io.Serializable;
import java.time.Duration;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * Options of the ingest job, parsed once from the command line.
 *
 * <p>Besides {@link KafkaOptions}: {@code --group-id} (default cohortflow-ingest), {@code --max-parallelism}
 * (default 128; fixed for the life of the job's state), {@code --taxonomy} (path to a taxonomy.yaml; default the
 * shipped one), {@code --sources} (a directory of source mappings; default the shipped conf/sources), {@code --max-event-bytes} (default 32768), {@code --future-tolerance} (default 1h: how far past its
 * receive time an event may claim to be), {@code --past-tolerance} (default 3650d).
 */
public record IngestOptions(KafkaOptions kafka, String groupId, int maxParallelism, String taxonomyLocation,
                            String sourcesDir, int maxEventBytes, Duration futureTolerance, Duration pastTolerance)
        implements Serializable {

    public static final Set<String> KEYS;

    static {
        Set<String> keys = new HashSet<>(KafkaOptions.KEYS);
        keys.addAll(Set.of("group-id", "max-parallelism", "taxonomy", "sources", "max-event-bytes", "future-tolerance",
                "past-tolerance"));
        KEYS = Set.copyOf(keys);
    }

    public static IngestOptions parse(String[] args) {
        JobArgs a = JobArgs.parse(args, KEYS);
        return new IngestOptions(
                KafkaOptions.from(a),
                a.string("group-id", "cohortflow-ingest"),
                a.integer("max-parallelism", 128),
                a.string("taxonomy", null),
                a.string("sources", null),
                a.integer("max-event-bytes", 32 * 1024),
                a.duration("future-tolerance", Duration.ofHours(1)),
                a.duration("past-tolerance", Duration.ofDays(3650)));
    }

    public EventTaxonomy taxonomy() {
        return taxonomyLocation == null ? EventTaxonomy.defaults() : EventTaxonomy.load(taxonomyLocation);
    }

    /** The mapper for these options: the taxonomy, the source mappings and the validation limits. */
    public IngestMapper mapper() {
        return new IngestMapper(taxonomy(), IngestMapper.loadMappings(sourcesDir), maxEventBytes, futureTolerance,
                pastTolerance);
    }

    /** For the web UI's job parameters. */
    public Map<String, String> summary() {
        return Map.of("bootstrap-servers", kafka.bootstrapServers(), "group-id", groupId,
                "delivery-guarantee", kafka.deliveryGuarantee().name(), "max-parallelism", String.valueOf(maxParallelism));
    }
}
