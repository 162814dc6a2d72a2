package io.cohortflow.activation.bench;

import io.cohortflow.activation.Activation;
import io.cohortflow.activation.Destination;
import io.cohortflow.activation.DestinationClient;
import io.cohortflow.activation.Payloads;
import io.cohortflow.core.segment.Cause;
import io.cohortflow.core.segment.ChangeType;
import io.cohortflow.core.segment.SegmentChange;
import com.sun.net.httpserver.HttpServer;

import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Deliveries per second from one {@link DestinationClient} to a local HTTP receiver (the JDK's server, answering 200 at
 * once), against a peer in the same run: a bare JDK HTTP client posting the same one-change bodies with the same
 * number of requests in flight (no batching, no per-user chains, no retries). So the ratio shows what the client's
 * bookkeeping costs, and what batching gains.
 *
 * <pre>
 * mvn -q -pl activation-job exec:exec -Dexec.classpathScope=test -Dexec.executable=java \
 *     -Dexec.args="-cp %classpath io.cohortflow.activation.bench.DeliveryBenchmark 20000"
 * </pre>
 */
public final class DeliveryBenchmark {
    /** Requests in flight at once, for the client and the bare peer alike. */
    private static final int CONCURRENCY = 16;
    private DeliveryBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        int changes = args.length > 0 ? Integer.parseInt(args[0]) : 20_000;
        int users = 500;
        AtomicLong received = new AtomicLong();
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.setExecutor(Executors.newFixedThreadPool(8));
        server.createContext("/", exchange -> {
            exchange.getRequestBody().readAllBytes();
            received.incrementAndGet();
            exchange.sendResponseHeaders(200, -1);
            exchange.close();
        });
        server.start();
        URI uri = URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/hook");
        List<Activation> activations = new ArrayList<>();
        for (int i = 0; i < changes; i++) {
            String user = "u" + (i % users);
            long ordinal = i / users;
            SegmentChange change = SegmentChange.of(user, "audience", "Audience",
                    ordinal % 2 == 0 ? ChangeType.ENTER : ChangeType.EXIT, 1_772_445_600_000L + ordinal, ordinal,
                    System.currentTimeMillis(), Cause.rule("audience", "v1"), Map.of("recency", 1.0), "none");
            activations.add(new Activation("hook", change, null));
        }
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        for (int round = 0; round < 2; round++) { // the first round warms up
            boolean report = round == 1;
            double peer = peer(http, uri, activations, CONCURRENCY);
            double single = client(http, uri, activations, Destination.Format.WEBHOOK, 1);
            double batched = client(http, uri, activations, Destination.Format.SEGMENT, 50);
            if (report) {
                System.out.printf("%,d changes of %d users to a local receiver:%n", changes, users);
                System.out.printf("  bare HTTP client, one change per request, %d in flight: %,.0f changes/s%n",
                        CONCURRENCY, peer);
                System.out.printf("  DestinationClient, webhook, batch 1:  %,.0f changes/s (%.2fx the bare client)%n",
                        single, single / peer);
                System.out.printf("  DestinationClient, segment, batch 50: %,.0f changes/s (%.2fx the bare client)%n",
                        batched, batched / peer);
            }
        }
        server.stop(0);
        System.exit(0);
    }

    private static double client(HttpClient http, URI uri, List<Activation> activations, Destination.Format format,
                                 int batch) throws Exception {
        ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
        Destination destination = new Destination("hook", format, uri, Destination.Auth.NONE, null, Set.of("*"),
                Set.of(ChangeType.ENTER, ChangeType.EXIT), batch, Duration.ofMillis(20), 0, CONCURRENCY, 3, Duration.ofMinutes(1),
                Duration.ofMillis(50), Duration.ofSeconds(1), Duration.ofSeconds(10), List.of());
        DestinationClient client = new DestinationClient(destination, null, http, scheduler,
                new DestinationClient.Listener() {
                    @Override
                    public void delivered(int changes, long latencyMillis) {
                    }

                    @Override
                    public void failed(int changes, String why) {
                        System.out.println("  a request failed: " + why);
                    }

                    @Override
                    public void retried(int changes) {
                    }

                    @Override
                    public void deadLettered(int changes, String reason) {
                    }
                }, System::currentTimeMillis);
        long start = System.nanoTime();
        List<CompletableFuture<DestinationClient.Outcome>> all = new ArrayList<>(activations.size());
        for (Activation activation : activations) {
            all.add(client.submit(activation));
        }
        CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).get();
        double seconds = (System.nanoTime() - start) / 1e9;
        if (all.stream().anyMatch(f -> !f.join().delivered())) {
            throw new IllegalStateException("not every change was delivered");
        }
        scheduler.shutdownNow();
        return activations.size() / seconds;
    }

    private static double peer(HttpClient http, URI uri, List<Activation> activations, int inFlight) throws Exception {
        Destination destination = new Destination("hook", Destination.Format.WEBHOOK, uri, Destination.Auth.NONE, null,
                Set.of("*"), Set.of(ChangeType.ENTER, ChangeType.EXIT), 1, Duration.ofMillis(20), 0, 1, 1,
                Duration.ofMinutes(1), Duration.ofMillis(50), Duration.ofSeconds(1), Duration.ofSeconds(10), List.of());
        Semaphore slots = new Semaphore(inFlight);
        long start = System.nanoTime();
        List<CompletableFuture<HttpResponse<Void>>> all = new ArrayList<>(activations.size());
        for (Activation activation : activations) {
            slots.acquire();
            HttpRequest request = HttpRequest.newBuilder(uri).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofByteArray(Payloads.body(destination, List.of(activation)))).build();
            all.add(http.sendAsync(request, HttpResponse.BodyHandlers.discarding())
                    .whenComplete((r, e) -> slots.release()));
        }
        CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).get();
        return activations.size() / ((System.nanoTime() - start) / 1e9);
    }
}
