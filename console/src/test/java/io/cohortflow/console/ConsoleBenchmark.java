package io.cohortflow.console;

import io.cohortflow.console.api.Tokens;
import io.cohortflow.console.store.ConsoleStore;
import io.cohortflow.console.store.PreviewRows;
import io.cohortflow.console.api.Preview;
import io.cohortflow.core.event.EventTaxonomy;
import io.cohortflow.core.segment.SegmentDefinition;
import io.cohortflow.core.segment.SegmentProfileCodec;
import io.cohortflow.core.segment.SegmentRules;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeSet;

/**
 * The console's goals at scale: a profile lookup's p99 (goal ≤ 5 ms) and a preview's time (goal ≤ 2 s) with N
 * profiles in the store (default 1,000,000), with the memory and disk the store takes. Each figure is printed next
 * to a peer measured in the same run over the same data:
 * <ul>
 *   <li>lookup: the HTTP API ({@code GET /v1/profiles/{id}}, keep-alive, one client) against a bare RocksDB get
 *       of the same ids: what the API's resolution, JSON and HTTP add;</li>
 *   <li>preview: the store's parallel scan against the same decoding and evaluation over the same rows held in
 *       memory as byte arrays, on one thread: what the scan costs and what the cores give back.</li>
 * </ul>
 * <pre>
 * mvn -q -o -pl console exec:exec -Dexec.classpathScope=test -Dexec.executable=java \
 *   -Dexec.args="-Xmx4g -cp %classpath io.cohortflow.console.ConsoleBenchmark 1000000"
 * </pre>
 * The profiles are the simulated ones of the API test (plausible counts, carts, scores), written to the store as
 * the console's follower writes them from segments.profiles.
 */
public final class ConsoleBenchmark {
    private static final String[] CONDITIONS = {
            "recency_days <= 30 && (count_30d['add_to_cart'] >= 2 || cart_open) && !('api' in features_used_90d)",
            "'churn' in scores && scores['churn'] >= 0.7 && monetary_value_365d > 500.0",
            "count_7d['product_view'] >= 3 && count_24h['order_completed'] == 0",
            "events.then_within('product_view', 'add_to_cart', '2d')"};

    private ConsoleBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 1_000_000;
        Path dir = Files.createTempDirectory("console-bench");
        List<String> names = new ArrayList<>(new TreeSet<>(EventTaxonomy.defaults().canonicalNames()));
        List<SegmentRules.Compiled> shipped = SegmentRules.compileAll(SegmentRules.defaults());
        System.out.printf("console benchmark: %,d profiles, store in %s, %d cores, -Xmx%d MB%n", n, dir,
                Runtime.getRuntime().availableProcessors(), Runtime.getRuntime().maxMemory() >> 20);
        try (ConsoleStore store = ConsoleStore.open(dir, names)) {
            load(store, n, shipped);
        }
        // The console itself serves the lookups: a real broker (its topics empty), the store just written.
        Path tokens = Files.createTempFile("tokens", ".yaml");
        Files.writeString(tokens, "tokens:\n  - {name: bench, sha256: " + Tokens.sha256("bench") + ", access: read}\n");
        try (var broker = io.cohortflow.kafka.local.LocalKafkaBroker.start()) {
            broker.createTopics(io.cohortflow.core.config.TopicsConfig.defaults());
            try (Console console = Console.start(ConsoleOptions.local(broker.bootstrapServers(), dir, 0,
                    tokens.toString(), io.cohortflow.core.config.TopicsConfig.defaults()))) {
                lookups(console, n);
                previews(console.store(), n);
                footprint(console.store(), dir);
            }
        }
    }

    private static void load(ConsoleStore store, int n, List<SegmentRules.Compiled> shipped) throws Exception {
        long start = System.nanoTime();
        SimulatedProfiles simulated = new SimulatedProfiles(11, shipped);
        SegmentProfileCodec codec = new SegmentProfileCodec();
        int batchSize = 5000;
        for (int from = 0; from < n; from += batchSize) {
            try (ConsoleStore.Batch batch = store.batch()) {
                for (int i = from; i < Math.min(n, from + batchSize); i++) {
                    String id = id(i);
                    batch.profile(id, codec.encode(simulated.next(id, 1_760_000_000_000L + i).profile()));
                }
                store.commit(batch);
            }
            if ((from / batchSize) % 40 == 39) {
                System.out.printf("  loaded %,d profiles (%.0f s)%n", from + batchSize, seconds(start));
            }
        }
        store.flush();
        System.out.printf("loaded %,d profiles in %.1f s (%,.0f profiles/s: decode, encode the preview row, write)%n",
                n, seconds(start), n / seconds(start));
    }

    private static void lookups(Console console, int n) throws Exception {
        ConsoleStore store = console.store();
        int requests = 20_000;
        Random random = new Random(3);
        String[] ids = new String[requests];
        for (int i = 0; i < requests; i++) {
            ids[i] = id(random.nextInt(n));
        }
        // peer: the store's own get of the same ids
        long[] direct = new long[requests];
        for (int round = 0; round < 2; round++) { // the first round warms up
            for (int i = 0; i < requests; i++) {
                long t = System.nanoTime();
                if (store.profileJson(ids[i]).isEmpty()) {
                    throw new IllegalStateException("no profile " + ids[i]);
                }
                direct[i] = System.nanoTime() - t;
            }
        }
        long[] http = new long[requests];
        var client = java.net.http.HttpClient.newHttpClient();
        for (int round = 0; round < 2; round++) {
            for (int i = 0; i < requests; i++) {
                var request = java.net.http.HttpRequest.newBuilder(java.net.URI.create(
                        "http://127.0.0.1:" + console.port() + "/v1/profiles/" + ids[i]))
                        .header("Authorization", "Bearer bench").build();
                long t = System.nanoTime();
                var response = client.send(request, java.net.http.HttpResponse.BodyHandlers.ofString());
                http[i] = System.nanoTime() - t;
                if (response.statusCode() != 200) {
                    throw new IllegalStateException(ids[i] + ": " + response.statusCode() + " " + response.body());
                }
            }
        }
        Arrays.sort(direct);
        Arrays.sort(http);
        System.out.printf("lookup over HTTP: p50 %.3f ms, p99 %.3f ms, max %.3f ms (goal: p99 <= 5 ms) | peer, a bare"
                        + " RocksDB get: p50 %.3f ms, p99 %.3f ms | p99 ratio %.1fx%n", ms(http, 0.5), ms(http, 0.99),
                http[http.length - 1] / 1e6, ms(direct, 0.5), ms(direct, 0.99), ms(http, 0.99) / ms(direct, 0.99));
    }

    private static void previews(ConsoleStore store, int n) {
        int cores = Runtime.getRuntime().availableProcessors();
        // peer: the same rows as byte arrays in memory, decoded and evaluated on one thread
        List<byte[]> rows = new ArrayList<>(n);
        List<byte[]> histories = new ArrayList<>(n);
        for (int shard = 0; shard < ConsoleStore.SHARDS; shard++) {
            store.scanShard(shard, true, (key, value, events) -> {
                rows.add(value);
                histories.add(events);
            });
        }
        long[] scans = new long[3];
        for (int i = 0; i < scans.length; i++) { // where a preview's time goes: the store's scan alone
            long t = System.nanoTime();
            java.util.concurrent.atomic.AtomicLong bytes = new java.util.concurrent.atomic.AtomicLong();
            java.util.stream.IntStream.range(0, ConsoleStore.SHARDS).parallel().forEach(shard ->
                    store.scanShard(shard, false, (key, value, events) -> bytes.addAndGet(value.length)));
            scans[i] = System.nanoTime() - t;
            if (i == scans.length - 1) {
                System.out.printf("the store's scan alone, in parallel: median %.0f ms, %,d rows of %.0f bytes on"
                        + " average%n", median(scans) / 1e6, rows.size(), (double) bytes.get() / rows.size());
            }
        }
        try (Preview preview = new Preview(store, cores)) {
            for (String condition : CONDITIONS) {
                SegmentRules.Compiled compiled = SegmentRules.compile(
                        new SegmentDefinition("bench", "Bench", condition, null, false));
                long[] times = new long[5];
                long matched = 0;
                for (int i = 0; i < times.length + 1; i++) { // the first run warms up
                    long t = System.nanoTime();
                    matched = preview.run(compiled).matched();
                    if (i > 0) {
                        times[i - 1] = System.nanoTime() - t;
                    }
                }
                long[] peer = new long[3];
                long peerMatched = 0;
                for (int i = 0; i < peer.length; i++) {
                    long t = System.nanoTime();
                    peerMatched = inMemory(store.previewRows(), rows, histories, compiled);
                    peer[i] = System.nanoTime() - t;
                }
                if (peerMatched != matched) {
                    throw new IllegalStateException("the peer matched " + peerMatched + ", the preview " + matched);
                }
                Arrays.sort(times);
                Arrays.sort(peer);
                System.out.printf("preview of %,d profiles, %,d match: median %.0f ms, max %.0f ms (goal <= 2000 ms) |"
                                + " peer, in-memory rows on 1 thread: median %.0f ms | ratio %.2fx | %s%n", n, matched,
                        times[2] / 1e6, times[4] / 1e6, peer[1] / 1e6, (double) times[2] / peer[1], condition);
            }
        }
    }

    private static long inMemory(PreviewRows decoder, List<byte[]> rows, List<byte[]> histories,
                                 SegmentRules.Compiled compiled) {
        BitSet needed = PreviewRows.indexes(compiled.variables());
        Map<String, Integer> index = new HashMap<>();
        compiled.variables().forEach(v -> index.put(v, PreviewRows.index(v)));
        long matched = 0;
        for (int r = 0; r < rows.size(); r++) {
            Object[] values = decoder.decode(rows.get(r), histories.get(r), needed).values();
            if (SegmentRules.matches(compiled, name -> {
                Integer i = index.get(name);
                return i == null ? null : values[i];
            })) {
                matched++;
            }
        }
        return matched;
    }

    private static void footprint(ConsoleStore store, Path dir) throws Exception {
        System.gc();
        Runtime rt = Runtime.getRuntime();
        long heap = rt.totalMemory() - rt.freeMemory();
        long files;
        try (var walk = Files.walk(dir)) {
            files = walk.filter(Files::isRegularFile).mapToLong(f -> f.toFile().length()).sum();
        }
        String rss = Files.readAllLines(Path.of("/proc/self/status")).stream().filter(l -> l.startsWith("VmRSS"))
                .findFirst().orElse("VmRSS: ?").replaceAll("\\s+", " ");
        System.out.printf("footprint: store on disk %,d MB (SST files %,d MB); JVM heap after GC %,d MB (the"
                        + " benchmark's own row copy included); process %s%n", files >> 20, store.diskBytes() >> 20,
                heap >> 20, rss);
    }

    private static long median(long[] values) {
        long[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted[sorted.length / 2];
    }

    private static String id(int i) {
        return String.format("user_%07d", i);
    }

    private static double ms(long[] sorted, double q) {
        return sorted[Math.min(sorted.length - 1, (int) Math.ceil(q * sorted.length) - 1)] / 1e6;
    }

    private static double seconds(long start) {
        return (System.nanoTime() - start) / 1e9;
    }
}
