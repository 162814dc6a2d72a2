package io.cohortflow.collector;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * The collector's metrics, as Prometheus text on {@code GET /metrics}, named like the jobs' {@code cohortflow} group:
 * requests by route and status, calls accepted, body bytes, refusals by reason, and how long Kafka took to
 * acknowledge a request (a histogram).
 */
final class CollectorMetrics {
    private static final double[] PRODUCE_BUCKETS_MS = {1, 2, 5, 10, 20, 50, 100, 200, 500, 1_000, 2_000, 5_000, 10_000};

    private final ConcurrentHashMap<String, LongAdder> requests = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, LongAdder> refusals = new ConcurrentHashMap<>();
    private final LongAdder callsAccepted = new LongAdder();
    private final LongAdder bytes = new LongAdder();
    private final LongAdder[] produceBuckets = new LongAdder[PRODUCE_BUCKETS_MS.length + 1];
    private final LongAdder produceCount = new LongAdder();
    private final LongAdder produceMicros = new LongAdder();

    CollectorMetrics() {
        for (int i = 0; i < produceBuckets.length; i++) {
            produceBuckets[i] = new LongAdder();
        }
    }

    void request(String route, int status) {
        requests.computeIfAbsent(route + '\u0000' + status, k -> new LongAdder()).increment();
    }

    void refused(String reason) {
        refusals.computeIfAbsent(reason, k -> new LongAdder()).increment();
    }

    long callsAccepted() {
        return callsAccepted.sum();
    }

    void accepted(int calls, long bodyBytes, long produceNanos) {
        callsAccepted.add(calls);
        bytes.add(bodyBytes);
        double ms = produceNanos / 1e6;
        int bucket = 0;
        while (bucket < PRODUCE_BUCKETS_MS.length && ms > PRODUCE_BUCKETS_MS[bucket]) {
            bucket++;
        }
        produceBuckets[bucket].increment();
        produceCount.increment();
        produceMicros.add(produceNanos / 1_000);
    }

    /** Prometheus text exposition format 0.0.4. */
    String render() {
        StringBuilder out = new StringBuilder();
        out.append("# HELP cohortflow_collector_requests_total HTTP requests by route and status\n")
                .append("# TYPE cohortflow_collector_requests_total counter\n");
        sorted(requests).forEach((key, n) -> {
            String[] parts = key.split("\u0000");
            out.append("cohortflow_collector_requests_total{route=\"").append(parts[0]).append("\",status=\"")
                    .append(parts[1]).append("\"} ").append(n).append('\n');
        });
        out.append("# HELP cohortflow_collector_refusals_total requests refused, by reason\n")
                .append("# TYPE cohortflow_collector_refusals_total counter\n");
        sorted(refusals).forEach((reason, n) -> out.append("cohortflow_collector_refusals_total{reason=\"")
                .append(reason).append("\"} ").append(n).append('\n'));
        out.append("# HELP cohortflow_collector_calls_accepted_total calls acknowledged by Kafka\n")
                .append("# TYPE cohortflow_collector_calls_accepted_total counter\n")
                .append("cohortflow_collector_calls_accepted_total ").append(callsAccepted.sum()).append('\n');
        out.append("# HELP cohortflow_collector_bytes_total body bytes of accepted requests, decompressed\n")
                .append("# TYPE cohortflow_collector_bytes_total counter\n")
                .append("cohortflow_collector_bytes_total ").append(bytes.sum()).append('\n');
        out.append("# HELP cohortflow_collector_produce_seconds time from a request's first send to Kafka's last ack\n")
                .append("# TYPE cohortflow_collector_produce_seconds histogram\n");
        long cumulative = 0;
        for (int i = 0; i < produceBuckets.length; i++) {
            cumulative += produceBuckets[i].sum();
            String le = i < PRODUCE_BUCKETS_MS.length ? Double.toString(PRODUCE_BUCKETS_MS[i] / 1000) : "+Inf";
            out.append("cohortflow_collector_produce_seconds_bucket{le=\"").append(le).append("\"} ")
                    .append(cumulative).append('\n');
        }
        out.append("cohortflow_collector_produce_seconds_sum ").append(produceMicros.sum() / 1e6).append('\n')
                .append("cohortflow_collector_produce_seconds_count ").append(produceCount.sum()).append('\n');
        return out.toString();
    }

    private static Map<String, Long> sorted(Map<String, LongAdder> counters) {
        Map<String, Long> sorted = new TreeMap<>();
        counters.forEach((k, v) -> sorted.put(k, v.sum()));
        return sorted;
    }
}
