package io.cohortflow.collector.bench;

import io.cohortflow.collector.Collector;
import io.cohortflow.collector.CollectorOptions;
import io.cohortflow.collector.WriteKeys;
import io.cohortflow.kafka.local.LocalKafkaBroker;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.serialization.ByteArraySerializer;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The collector under load, against its ceiling, in one run on one machine with a local broker:
 * <ol>
 *   <li>a bare Kafka producer sending the same records the collector would write (acks=all, idempotent): the ceiling;</li>
 *   <li>batches of 100 calls over HTTP with {@code connections} connections kept busy: sustained calls/s and request
 *       latency p50/p99. The load generator is wrk, in C and in its own process, when it is installed
 *       ({@code apt-get install wrk}), else a non-blocking Vert.x client in this JVM, which then competes with the
 *       collector for the same cores and lowers the ratio;</li>
 *   <li>single calls paced at {@code rate} requests/s (open loop: a request's latency counts from when it was due):
 *       p50/p99.</li>
 * </ol>
 * Every phase first runs unmeasured (a third of {@code seconds}, at least 5 s), so that all are measured with the JIT
 * done and the broker warm. The first two phases then alternate for five rounds, and the ratio is the median of the
 * rounds' own ratios: this machine's speed moves between rounds, a round's two phases sit side by side.
 * Args: {@code seconds} per phase (default 15), {@code connections} (default 16), {@code rate} (default 2000).
 * A benchmark that prints its figures, not a test. Run it with
 * {@code mvn -q -pl collector exec:exec -Dexec.classpathScope=test -Dexec.executable=java
 * -Dexec.args="-cp %classpath io.cohortflow.collector.bench.CollectorLoadBenchmark 15 16 2000"}.
 */
public final class CollectorLoadBenchmark {
    private static final String KEY = "wk_bench";
    private static final String TOPIC = "events.raw.bench";
    private static final java.util.concurrent.atomic.AtomicReference<Throwable> FIRST_FAILURE =
            new java.util.concurrent.atomic.AtomicReference<>();

    public static void main(String[] args) throws Exception {
        int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 15;
        int connections = args.length > 1 ? Integer.parseInt(args[1]) : 16;
        int rate = args.length > 2 ? Integer.parseInt(args[2]) : 2_000;
        try (LocalKafkaBroker broker = LocalKafkaBroker.start()) {
            broker.createTopics(List.of(new NewTopic(TOPIC, 4, (short) 1)));
            String call = "{\"type\":\"track\",\"event\":\"Product Viewed\",\"anonymousId\":\"anon_%d\",\"messageId\":\"m-%d\","
                    + "\"timestamp\":\"2026-12-02T10:00:00Z\",\"properties\":{\"product_id\":\"p-42\",\"price\":89.5,"
                    + "\"category\":\"Men's Running Shoes\"}}";
            int warmUp = Math.max(5, seconds / 3);
            try (Collector collector = Collector.start(CollectorOptions.local(broker.bootstrapServers(), TOPIC, 0),
                    WriteKeys.ofDigests(Map.of()).with(KEY, "web"))) {
                Vertx vertx = Vertx.vertx();
                HttpClient client = vertx.createHttpClient(new HttpClientOptions().setDefaultHost("127.0.0.1")
                        .setDefaultPort(collector.port()).setKeepAlive(true), new PoolOptions().setHttp1MaxSize(connections));
                try {
                    boolean wrk = wrkInstalled();
                    Phase http = wrk ? s -> batchesWithWrk(collector.port(), call, connections, s)
                            : s -> batches(client, call, connections, s);
                    // Unmeasured first, so that every phase is measured with the JIT done and the broker warm: on 2
                    // cores the compiler alone takes half a core in a phase's first seconds.
                    warmUp(client, call); // single calls: the paced phase below sends them
                    bareProducer(broker, call, warmUp);
                    http.run(warmUp);
                    // Alternating rounds: the bare producer's rate moves by a third or more from one run to the next on
                    // this machine, so one pair is not a ratio.
                    double[] ceilings = new double[ROUNDS];
                    Result[] rounds = new Result[ROUNDS];
                    for (int r = 0; r < ROUNDS; r++) {
                        ceilings[r] = bareProducer(broker, call, seconds);
                        rounds[r] = http.run(seconds);
                        System.out.printf("  round %d: bare producer %,.0f records/s, batches over HTTP %,.0f calls/s (%.2f)%n",
                                r + 1, ceilings[r], rounds[r].callsPerSecond, rounds[r].callsPerSecond / ceilings[r]);
                    }
                    // The ratio is the median of the rounds' own ratios: the machine's speed moves between rounds (one
                    // round can run both twice as fast), a round's two phases are a minute apart at most.
                    double[] ratios = new double[ROUNDS];
                    for (int r = 0; r < ROUNDS; r++) {
                        ratios[r] = rounds[r].callsPerSecond / ceilings[r];
                    }
                    double ratio = median(ratios);
                    double ceiling = median(ceilings);
                    Result batches = Arrays.stream(rounds).sorted(java.util.Comparator.comparingDouble(Result::callsPerSecond))
                            .toList().get(ROUNDS / 2);
                    paced(vertx, client, call, rate, warmUp, 20_000_000L);
                    Result singles = paced(vertx, client, call, rate, seconds, 10_000_000L);
                    System.out.printf("%nCollectorLoadBenchmark (%d s per phase, %d rounds, %d connections, %d cores)%n",
                            seconds, ROUNDS, connections, Runtime.getRuntime().availableProcessors());
                    System.out.printf("  load generator for batches: %s%n", wrk ? "wrk (1 thread, its own process)"
                            : "a Vert.x client in this JVM (install wrk for one outside it: apt-get install wrk)");
                    System.out.printf("  bare producer (ceiling):   %,10.0f records/s (median)%n", ceiling);
                    System.out.printf("  batches of 100 over HTTP:  %,10.0f calls/s (median); %.2f of the ceiling (median of the rounds' ratios); request p50 %.1f ms, p99 %.1f ms (%d requests, %d failed)%n",
                            batches.callsPerSecond, ratio, batches.p50, batches.p99,
                            batches.requests, batches.failed);
                    System.out.printf("  single calls at %,d/s:     %,10.0f calls/s; request p50 %.1f ms, p99 %.1f ms (%d requests, %d failed)%n",
                            rate, singles.callsPerSecond, singles.p50, singles.p99, singles.requests, singles.failed);
                    String metrics = new String(java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest
                                    .newBuilder(java.net.URI.create("http://127.0.0.1:" + collector.port() + "/metrics")).build(),
                            java.net.http.HttpResponse.BodyHandlers.ofByteArray()).body(), StandardCharsets.UTF_8);
                    metrics.lines().filter(l -> l.startsWith("cohortflow_collector_requests_total")
                            || l.startsWith("cohortflow_collector_calls_accepted_total"))
                            .forEach(l -> System.out.println("  collector: " + l));
                } finally {
                    client.close();
                    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
                }
            }
        }
        System.exit(0);
    }

    private static final int ROUNDS = 5;

    record Result(double callsPerSecond, double p50, double p99, long requests, long failed) {
    }

    /** One measured phase of {@code seconds}. */
    private interface Phase {
        Result run(int seconds) throws Exception;
    }

    private static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted[sorted.length / 2];
    }

    /**
     * The ceiling: one thread sending, as fast as the producer takes them, the records the collector writes for these
     * calls: the same key, the call with its {@code receivedAt}, the {@code source} and {@code received-at} headers,
     * and the collector's producer settings (acks=all, idempotent, linger 2 ms).
     */
    private static double bareProducer(LocalKafkaBroker broker, String call, int seconds) throws Exception {
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.<String, Object>of(
                "bootstrap.servers", broker.bootstrapServers(), "acks", "all", "enable.idempotence", true, "linger.ms", 2),
                new ByteArraySerializer(), new ByteArraySerializer())) {
            byte[][] keys = new byte[10_000][];
            byte[][] values = new byte[10_000][];
            long now = System.currentTimeMillis();
            String receivedAt = ",\"receivedAt\":\"" + java.time.Instant.ofEpochMilli(now) + "\"}";
            byte[] source = "web".getBytes(StandardCharsets.UTF_8);
            byte[] received = Long.toString(now).getBytes(StandardCharsets.UTF_8);
            for (int i = 0; i < keys.length; i++) {
                keys[i] = ("anon_" + i).getBytes(StandardCharsets.UTF_8);
                String value = String.format(call, i, i);
                values[i] = (value.substring(0, value.length() - 1) + receivedAt).getBytes(StandardCharsets.UTF_8);
            }
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
            long start = System.nanoTime();
            long sent = 0;
            AtomicLong acked = new AtomicLong();
            while (System.nanoTime() < end) {
                int i = (int) (sent % keys.length);
                producer.send(new ProducerRecord<>(TOPIC, null, keys[i], values[i], List.of(
                        new RecordHeader("source", source), new RecordHeader("received-at", received))),
                        (m, e) -> acked.incrementAndGet());
                sent++;
            }
            producer.flush();
            return acked.get() / ((System.nanoTime() - start) / 1e9);
        }
    }

    private static void warmUp(HttpClient client, String call) throws Exception {
        for (int i = 0; i < 200; i++) {
            send(client, "/v1/track", Buffer.buffer(String.format(call, i, -i - 1))).toCompletionStage().toCompletableFuture()
                    .get(10, TimeUnit.SECONDS);
        }
    }

    /** Request bodies made before the clock starts, so that the generator spends its CPU on sending. */
    private static Buffer[] BATCHES;

    /** {@code connections} requests in flight at all times, each a batch of 100 calls. */
    private static Result batches(HttpClient client, String call, int connections, int seconds) throws Exception {
        BATCHES = new Buffer[256];
        for (int b = 0; b < BATCHES.length; b++) {
            StringBuilder batch = new StringBuilder("{\"batch\":[");
            for (int i = 0; i < 100; i++) {
                long n = 1_000_000L + b * 100L + i;
                batch.append(i == 0 ? "" : ",").append(String.format(call, n % 10_000, n));
            }
            BATCHES[b] = Buffer.buffer(batch.append("]}").toString());
        }
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        long[] latencies = new long[5_000_000];
        AtomicInteger count = new AtomicInteger();
        AtomicLong failed = new AtomicLong();
        AtomicLong sequence = new AtomicLong(1_000_000);
        CountDownLatch done = new CountDownLatch(connections);
        long start = System.nanoTime();
        for (int c = 0; c < connections; c++) {
            loop(client, end, latencies, count, failed, sequence, done);
        }
        done.await(seconds + 60L, TimeUnit.SECONDS);
        double elapsed = (System.nanoTime() - start) / 1e9;
        long ok = count.get() - failed.get();
        return summary(latencies, count.get(), failed.get(), ok * 100 / elapsed);
    }

    private static void loop(HttpClient client, long end, long[] latencies, AtomicInteger count,
                             AtomicLong failed, AtomicLong sequence, CountDownLatch done) {
        if (System.nanoTime() >= end) {
            done.countDown();
            return;
        }
        Buffer body = BATCHES[(int) (sequence.incrementAndGet() % BATCHES.length)];
        long sent = System.nanoTime();
        send(client, "/v1/batch", body).onComplete(result -> {
            int i = count.getAndIncrement();
            if (i < latencies.length) {
                latencies[i] = System.nanoTime() - sent;
            }
            if (result.failed() || result.result() != 200) {
                failed.incrementAndGet();
            }
            loop(client, end, latencies, count, failed, sequence, done);
        });
    }

    private static boolean wrkInstalled() throws InterruptedException {
        try {
            Process p = new ProcessBuilder("wrk", "--version").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            p.waitFor(10, TimeUnit.SECONDS);
            return true;
        } catch (java.io.IOException e) {
            return false;
        }
    }

    /**
     * Batches of 100 calls from wrk, a load generator in C in its own process, with {@code connections} connections
     * kept busy (closed loop). Its Lua script posts one batch body and prints the figures this reads back.
     */
    private static Result batchesWithWrk(int port, String call, int connections, int seconds) throws Exception {
        java.nio.file.Path dir = java.nio.file.Files.createTempDirectory("collector-bench");
        StringBuilder batch = new StringBuilder("{\"batch\":[");
        for (int i = 0; i < 100; i++) {
            batch.append(i == 0 ? "" : ",").append(String.format(call, (1_000_000L + i) % 10_000, 1_000_000L + i));
        }
        java.nio.file.Path body = java.nio.file.Files.writeString(dir.resolve("batch.json"), batch.append("]}"));
        java.nio.file.Path script = java.nio.file.Files.writeString(dir.resolve("batch.lua"), String.join("\n",
                "wrk.method = \"POST\"",
                "wrk.headers[\"Content-Type\"] = \"application/json\"",
                "wrk.headers[\"Authorization\"] = \"Basic " + Base64.getEncoder().encodeToString((KEY + ":")
                        .getBytes(StandardCharsets.UTF_8)) + "\"",
                "local f = io.open(\"" + body + "\", \"rb\")",
                "wrk.body = f:read(\"*a\")",
                "f:close()",
                "done = function(summary, latency, requests)",
                "  local e = summary.errors",
                "  io.write(string.format(\"RESULT %d %d %d %d %d\\n\", summary.requests, summary.duration,",
                "    latency:percentile(50), latency:percentile(99), e.status + e.connect + e.read + e.write + e.timeout))",
                "end", ""));
        Process wrk = new ProcessBuilder("wrk", "-t1", "-c" + connections, "-d" + seconds + "s", "--timeout", "20s",
                "-s", script.toString(), "http://127.0.0.1:" + port + "/v1/batch").redirectErrorStream(true).start();
        String out = new String(wrk.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        boolean exited = wrk.waitFor(seconds + 60L, TimeUnit.SECONDS);
        java.nio.file.Files.delete(script);
        java.nio.file.Files.delete(body);
        java.nio.file.Files.delete(dir);
        if (!exited || wrk.exitValue() != 0) {
            throw new IllegalStateException("wrk failed:\n" + out);
        }
        String[] f = out.lines().filter(l -> l.startsWith("RESULT ")).findFirst()
                .orElseThrow(() -> new IllegalStateException("wrk printed no result:\n" + out)).split(" ");
        long requests = Long.parseLong(f[1]);
        long failed = Long.parseLong(f[5]);
        double elapsed = Long.parseLong(f[2]) / 1e6;
        return new Result((requests - failed) * 100 / elapsed, Long.parseLong(f[3]) / 1e3, Long.parseLong(f[4]) / 1e3,
                requests, failed);
    }

    /** Single calls at {@code rate}/s, each timed from when it was due; messageIds from {@code first} on. */
    private static Result paced(Vertx vertx, HttpClient client, String call, int rate, int seconds, long first)
            throws Exception {
        // Every request starts on the client's own event loop, as in a Vert.x application: started from this thread,
        // about one in 20,000 was answered by the collector (its metrics count it) but never completed here.
        io.vertx.core.Context loop = vertx.getOrCreateContext();
        int total = rate * seconds;
        Buffer[] bodies = new Buffer[total];
        for (int i = 0; i < total; i++) {
            long n = first + i;
            bodies[i] = Buffer.buffer(String.format(call, n % 10_000, n));
        }
        long[] latencies = new long[total];
        AtomicInteger count = new AtomicInteger();
        AtomicLong failed = new AtomicLong();
        CountDownLatch done = new CountDownLatch(total);
        long start = System.nanoTime();
        for (int i = 0; i < total; i++) {
            long due = start + (long) (i * 1e9 / rate);
            long wait = due - System.nanoTime();
            if (wait > 0) {
                TimeUnit.NANOSECONDS.sleep(wait);
            }
            Buffer body = bodies[i];
            loop.runOnContext(v -> send(client, "/v1/track", body).onComplete(result -> {
                latencies[count.getAndIncrement()] = System.nanoTime() - due;
                if (result.failed() || result.result() != 200) {
                    failed.incrementAndGet();
                }
                done.countDown();
            }));
        }
        double elapsed = (System.nanoTime() - start) / 1e9;
        if (!done.await(60, TimeUnit.SECONDS)) {
            System.out.printf("  (%d single calls got no answer within 60 s)%n", done.getCount());
        }
        return summary(latencies, count.get(), failed.get(), (count.get() - failed.get()) / elapsed);
    }

    private static io.vertx.core.Future<Integer> send(HttpClient client, String path, Buffer body) {
        return client.request(new RequestOptions().setMethod(HttpMethod.POST).setURI(path).setIdleTimeout(20_000)
                        .putHeader("Authorization", "Basic " + Base64.getEncoder().encodeToString((KEY + ":").getBytes(StandardCharsets.UTF_8)))
                        .putHeader("Content-Type", "application/json"))
                .compose(request -> request.send(body)).compose(response -> response.body().map(b -> response.statusCode()))
                .onFailure(e -> {
                    if (FIRST_FAILURE.compareAndSet(null, e)) {
                        System.out.println("  first failed request (" + path + "): " + e);
                    }
                });
    }

    private static Result summary(long[] latencies, int count, long failed, double callsPerSecond) {
        long[] sorted = Arrays.copyOf(latencies, Math.min(count, latencies.length));
        Arrays.sort(sorted);
        double p50 = sorted.length == 0 ? 0 : sorted[(int) (sorted.length * 0.50)] / 1e6;
        double p99 = sorted.length == 0 ? 0 : sorted[Math.min(sorted.length - 1, (int) (sorted.length * 0.99))] / 1e6;
        return new Result(callsPerSecond, p50, p99, count, failed);
    }
}
