package io.cohortflow.local;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.cohortflow.collector.Collector;
import io.cohortflow.collector.Webhooks;
import io.cohortflow.simulator.Delivery;
import io.cohortflow.simulator.DeliverySink;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;

/**
 * Plays deliveries into the collector over HTTP, the way their senders post them:
 * <ul>
 *   <li>web: analytics.js's short routes ({@code /v1/t}, {@code /v1/p}, {@code /v1/i}, ...), one call a request,
 *       the write key in the body;</li>
 *   <li>ios, android: the mobile SDKs' {@code /v1/batch} (here one call a batch), the write key as Basic auth;</li>
 *   <li>stripe, zendesk, hubspot, salesforce: {@code /v1/webhooks/<source>}, signed at the moment of sending with
 *       the source's own scheme and secret ({@link Webhooks#sign}).</li>
 * </ul>
 * Each request carries the delivery's simulated receive time in {@code X-Received-At}, which the local run's
 * collector trusts ({@code --trust-received-at}).
 *
 * <p>Order: deliveries with the same key (a device's, else a person's) share a lane, and a lane has one request in
 * flight, so they reach events.raw in the order sent, as one device's SDK queue sends them. Lanes run in parallel,
 * so deliveries of different keys may overtake one another; two bounds keep that small. At most {@code window}
 * requests are in flight, and a delivery is not sent while one received more than {@code maxReorder} of simulated
 * time before it is still unanswered. Live, a collector stamps each call as it arrives, so its receive times are in
 * arrival order to within milliseconds; here the receive times are given and simulated hours pass in a wall-clock
 * second, so without the second bound one slow request would leave its delivery hours behind the others of its
 * partition, past ingest's receive-time watermark (which trails by 5 min), where it counts as late: 7,524 of 24,257
 * deliveries in LocalRunITCase's nightly run with deep lanes and no bound, none with the bounds.
 *
 * <p>Answers: 200 is taken. 400 and 413 are refusals (a body that is not a JSON object, or too big, as an SDK's
 * broken payload would be refused): counted by status, never retried, and ingest never sees them. 429 and 503 are
 * retried after a pause, as an SDK would (a webhook is signed again). Anything else fails the run: it means the run
 * itself is set up wrong.
 */
final class CollectorDeliverySink implements DeliverySink {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Set<String> SDK_ROUTES = Set.of("track", "identify", "page", "screen", "group", "alias");
    private static final int MAX_ATTEMPTS = 30;
    private static final Job STOP = new Job(new Delivery(null, "", new byte[0], 0, "stop"), -1);

    /** A delivery and the window slot it holds until it is answered. */
    private record Job(Delivery delivery, int slot) {
    }

    private final URI base;
    private final Map<String, String> writeKeys;
    private final Webhooks webhooks;
    private final AtomicLong clock;
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();
    private final List<BlockingQueue<Job>> lanes = new ArrayList<>();
    private final List<Thread> workers = new ArrayList<>();
    private final long maxReorderMillis;
    // The window: slot n % window holds delivery n until it is answered. Only the sending thread (send, flush)
    // touches next, oldest and slotReceivedAt; the lanes mark their slot done.
    private final long[] slotReceivedAt;
    private final AtomicIntegerArray slotDone;
    private long next;
    private long oldest;
    private final AtomicReference<Exception> failure = new AtomicReference<>();
    private final Map<Integer, LongAdder> refused = new ConcurrentHashMap<>();
    private final LongAdder retried = new LongAdder();
    private final LongAdder accepted = new LongAdder();

    /**
     * @param base       the collector, e.g. {@code http://127.0.0.1:8088}
     * @param writeKeys  the write key of each SDK source (web, ios, android)
     * @param webhooks   the webhook sources with their secrets, to sign with
     * @param clock      set to the receive time of each delivery handed over: the simulated now
     * @param lanes      requests in flight at most (one per lane)
     * @param window     deliveries handed over and not yet answered, at most
     * @param maxReorder how far (simulated receive time) a delivery may be sent ahead of one still unanswered
     */
    CollectorDeliverySink(URI base, Map<String, String> writeKeys, Webhooks webhooks, AtomicLong clock, int lanes,
                          int window, Duration maxReorder) {
        this.base = base;
        this.writeKeys = Map.copyOf(writeKeys);
        this.webhooks = webhooks;
        this.clock = clock;
        this.maxReorderMillis = maxReorder.toMillis();
        this.slotReceivedAt = new long[window];
        this.slotDone = new AtomicIntegerArray(window);
        for (int i = 0; i < lanes; i++) {
            BlockingQueue<Job> queue = new LinkedBlockingQueue<>();
            this.lanes.add(queue);
            Thread worker = new Thread(() -> drain(queue), "collector-lane-" + i);
            worker.setDaemon(true);
            worker.start();
            workers.add(worker);
        }
    }

    @Override
    public void send(Delivery delivery) {
        long receivedAt = delivery.deliveredAt();
        awaitWindow(() -> next - oldest < slotReceivedAt.length
                && (oldest == next || slotReceivedAt[slot(oldest)] >= receivedAt - maxReorderMillis));
        clock.accumulateAndGet(receivedAt, Math::max);
        int slot = slot(next);
        slotReceivedAt[slot] = receivedAt;
        slotDone.set(slot, 0);
        next++;
        // A broken payload has no key: any lane will do, in turn.
        int lane = delivery.key() == null ? (int) (next % lanes.size())
                : Math.floorMod(delivery.key().hashCode(), lanes.size());
        lanes.get(lane).add(new Job(delivery, slot));
    }

    /** Blocks until every delivery handed over has been answered. */
    @Override
    public void flush() {
        awaitWindow(() -> oldest == next);
    }

    /** Waits until {@code ready}, moving the window's start past the deliveries answered meanwhile. */
    private void awaitWindow(java.util.function.BooleanSupplier ready) {
        while (true) {
            rethrow();
            while (oldest < next && slotDone.get(slot(oldest)) == 1) {
                oldest++;
            }
            if (ready.getAsBoolean()) {
                return;
            }
            LockSupport.parkNanos(50_000);
        }
    }

    private int slot(long seq) {
        return (int) (seq % slotReceivedAt.length);
    }

    /** Deliveries the collector refused, by HTTP status. */
    Map<Integer, Long> refusedByStatus() {
        Map<Integer, Long> out = new TreeMap<>();
        refused.forEach((status, n) -> out.put(status, n.sum()));
        return out;
    }

    /** Deliveries the collector took (200). */
    long accepted() {
        return accepted.sum();
    }

    long refused() {
        return refused.values().stream().mapToLong(LongAdder::sum).sum();
    }

    /** Requests sent again after a 429 or 503. */
    long retried() {
        return retried.sum();
    }

    @Override
    public void close() {
        for (BlockingQueue<Job> lane : lanes) {
            lane.offer(STOP);
        }
        for (Thread worker : workers) {
            try {
                worker.join(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private void rethrow() {
        Exception e = failure.get();
        if (e != null) {
            throw new IllegalStateException("posting to the collector at " + base + " failed", e);
        }
    }

    private void drain(BlockingQueue<Job> queue) {
        while (true) {
            Job job;
            try {
                job = queue.take();
            } catch (InterruptedException e) {
                return;
            }
            if (job == STOP) {
                return;
            }
            try {
                if (failure.get() == null) {
                    post(job.delivery());
                }
            } catch (Exception e) {
                failure.compareAndSet(null, e);
            } finally {
                slotDone.set(job.slot(), 1);
            }
        }
    }

    private void post(Delivery delivery) throws IOException, InterruptedException {
        for (int attempt = 1; ; attempt++) {
            HttpResponse<String> response = http.send(request(delivery), HttpResponse.BodyHandlers.ofString());
            int status = response.statusCode();
            if (status == 200) {
                accepted.increment();
                return;
            }
            if (status == 400 || status == 413) {
                refused.computeIfAbsent(status, s -> new LongAdder()).increment();
                return;
            }
            if ((status == 429 || status == 503) && attempt < MAX_ATTEMPTS) {
                retried.increment();
                long pause = response.headers().firstValueAsLong("Retry-After").orElse(0) * 1000;
                Thread.sleep(Math.max(pause, Math.min(2_000, 100L * attempt)));
                continue;
            }
            throw new IllegalStateException("the collector answered " + status + " to a " + delivery.source()
                    + " delivery after " + attempt + " attempt(s): " + response.body());
        }
    }

    /** The request the delivery's sender would make. */
    HttpRequest request(Delivery delivery) {
        byte[] body = delivery.payload();
        String source = delivery.source();
        HttpRequest.Builder request;
        Webhooks.Source webhook = webhooks.source(source).orElse(null);
        if (webhook != null) {
            URI url = base.resolve("/v1/webhooks/" + source);
            request = HttpRequest.newBuilder(url).header("Content-Type", "application/json");
            Webhooks.sign(webhook, "POST", url.toString(), body, Instant.now()).forEach(request::header);
        } else {
            String key = writeKeys.get(source);
            if (key == null) {
                throw new IllegalArgumentException("no write key and no webhook secret for source " + source);
            }
            JsonNode call = parse(body);
            if (source.equals("web")) {
                // analytics.js: text/plain (no CORS preflight), the first letter of the type, the key in the body.
                String type = call != null && call.path("type").isTextual() ? call.path("type").asText() : "track";
                String route = SDK_ROUTES.contains(type) ? type.substring(0, 1) : "t";
                if (call != null && call.isObject()) {
                    ((com.fasterxml.jackson.databind.node.ObjectNode) call).put("writeKey", key);
                    body = bytes(call);
                }
                request = HttpRequest.newBuilder(base.resolve("/v1/" + route)).header("Content-Type", "text/plain");
            } else {
                // The mobile SDKs: /v1/batch with Basic auth.
                if (call != null && call.isObject()) {
                    body = ("{\"batch\":[" + new String(body, StandardCharsets.UTF_8) + "]}").getBytes(StandardCharsets.UTF_8);
                }
                request = HttpRequest.newBuilder(base.resolve("/v1/batch")).header("Content-Type", "application/json")
                        .header("Authorization", "Basic " + Base64.getEncoder()
                                .encodeToString((key + ":").getBytes(StandardCharsets.UTF_8)));
            }
        }
        return request.header(Collector.RECEIVED_AT_REQUEST_HEADER, Long.toString(delivery.deliveredAt()))
                .timeout(Duration.ofSeconds(30))
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build();
    }

    /** The payload as JSON, or null when it is not (it is posted as it is, and refused). */
    private static JsonNode parse(byte[] payload) {
        try {
            return JSON.readTree(payload);
        } catch (IOException e) {
            return null;
        }
    }

    private static byte[] bytes(JsonNode node) {
        try {
            return JSON.writeValueAsBytes(node);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
