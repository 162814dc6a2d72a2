package io.cohortflow.activation;

import io.cohortflow.jobs.options.JobArgs;
import io.cohortflow.jobs.options.KafkaOptions;

import java.io.Serializable;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Options of the activation job, parsed once from the command line. Besides {@link KafkaOptions}:
 * <pre>
 * --group-id ID            consumer group and transactional-id prefix (default cohortflow-activation)
 * --destinations DIR       the destination files (default conf/destinations)
 * --endpoint.ID=URL        calls destination ID at another URL than its file says (a staging receiver, the local run)
 * --profile-wait D         how long a change waits for the profile of its time (default 5s)
 * --profile-ttl D          how long a user's latest profile is kept for the join (default 1d)
 * --capacity N             changes in flight per destination and parallel instance (default 1000)
 * --max-parallelism N      fixed for the life of the job's state (default 128)
 * </pre>
 * Secrets come from the environment variables the destination files name.
 */
public record ActivationOptions(KafkaOptions kafka, String groupId, List<Destination> destinations,
                                Duration profileWait, Duration profileTtl, int capacity, int maxParallelism)
        implements Serializable {

    public static final Set<String> KEYS;

    static {
        Set<String> keys = new HashSet<>(KafkaOptions.KEYS);
        keys.addAll(Set.of("group-id", "destinations", "endpoint.*", "profile-wait", "profile-ttl", "capacity",
                "max-parallelism"));
        KEYS = Set.copyOf(keys);
    }

    public static ActivationOptions parse(String[] args) {
        JobArgs a = JobArgs.parse(args, KEYS);
        List<Destination> destinations = Destination.loadAll(Path.of(a.string("destinations", "conf/destinations")));
        Map<String, String> endpoints = a.withPrefix("endpoint.");
        for (String id : endpoints.keySet()) {
            if (destinations.stream().noneMatch(d -> d.id().equals(id))) {
                throw new IllegalArgumentException("--endpoint." + id + ": no such destination, known: "
                        + destinations.stream().map(Destination::id).toList());
            }
        }
        destinations = destinations.stream()
                .map(d -> endpoints.containsKey(d.id()) ? d.at(URI.create(endpoints.get(d.id()))) : d).toList();
        if (destinations.isEmpty()) {
            throw new IllegalArgumentException("no destinations: put a <id>.yaml per destination in --destinations");
        }
        int capacity = a.integer("capacity", 1000);
        if (capacity < 1) {
            throw new IllegalArgumentException("--capacity must be at least 1");
        }
        return new ActivationOptions(KafkaOptions.from(a), a.string("group-id", "cohortflow-activation"), destinations,
                a.duration("profile-wait", Duration.ofSeconds(5)), a.duration("profile-ttl", Duration.ofDays(1)),
                capacity, a.integer("max-parallelism", 128));
    }

    public Map<String, String> summary() {
        Map<String, String> summary = new LinkedHashMap<>();
        summary.put("bootstrap-servers", kafka.bootstrapServers());
        summary.put("group-id", groupId);
        summary.put("delivery-guarantee", kafka.deliveryGuarantee().name() + " (dead letters); destinations: at least once");
        summary.put("destinations", destinations.stream().map(d -> d.id() + " -> " + d.endpoint())
                .collect(Collectors.joining(", ")));
        summary.put("profile-wait", profileWait.toString());
        return summary;
    }
}
