package io.cohortflow.collector;

import io.vertx.core.Context;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import io.vertx.ext.web.handler.CorsHandler;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The collector: Segment's Tracking API over HTTP, in front of events.raw, so that Segment's and RudderStack's SDKs
 * post to it by changing only their endpoint.
 *
 * <ul>
 *   <li>Routes: {@code POST /v1/track|identify|page|screen|group|alias|batch|import}, each with or without a
 *       trailing slash. A call becomes one record of events.raw ({@link Calls}), with the headers ingest reads:
 *       {@code source} (the write key's) and {@code received-at} (now, epoch ms).</li>
 *   <li>Write keys ({@link WriteKeys}) as HTTP Basic auth ({@code writeKey:}, empty password) or a {@code writeKey}
 *       field of the body. None, or an unknown one: 401.</li>
 *   <li>{@code Content-Encoding: gzip} (and deflate) bodies are decompressed; the limits apply after it: one call
 *       at most {@code --max-call-bytes}, a batch request at most {@code --max-batch-bytes}; over: 413. A body that
 *       is not a JSON object: 400. Every error has a JSON body {@code {"success": false, "error": ...}}.</li>
 *   <li>200 {@code {"success": true}} only once Kafka has acknowledged every record of the request ({@code acks=all},
 *       idempotent producer). Not within {@code --produce-timeout}, or refused: 503, and the client retries. A retry
 *       of a request partly written is harmless: ingest drops the calls it already has (same source and
 *       messageId).</li>
 *   <li>Rate limit per write key ({@code --rate-limit} calls/s): 429 with {@code Retry-After}.</li>
 *   <li>CORS for browser SDKs: any origin, preflight answered, {@code Authorization}, {@code Content-Type} and
 *       {@code Content-Encoding} allowed.</li>
 *   <li>Webhooks: {@code POST /v1/webhooks/<source>} for the sources of {@link Webhooks} (conf/collector/
 *       webhooks.yaml) that have a mapping and a secret: the delivery's signature is checked with the source's own
 *       scheme (401 when wrong or stale), and the body becomes one record with that source; an unknown or
 *       unconfigured source gets 404.</li>
 *   <li>Receive time: the collector's clock; with {@code --trust-received-at}, a request's {@code X-Received-At}
 *       header (for a trusted replay of old deliveries, such as the local run's simulator).</li>
 *   <li>{@code GET /healthz} (the process is up), {@code GET /readyz} (Kafka answered within the last few
 *       seconds), {@code GET /metrics} ({@link CollectorMetrics}, Prometheus text). Close drains: requests in flight
 *       are answered first.</li>
 * </ul>
 */
public final class Collector implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Collector.class);
    static final String SOURCE_HEADER = "source";
    static final String RECEIVED_AT_HEADER = "received-at";
    /** With {@code --trust-received-at}, a request's own receive time (epoch ms), for replays of old deliveries. */
    public static final String RECEIVED_AT_REQUEST_HEADER = "X-Received-At";
    /** The routing context's key for the route a request counts under in the metrics. */
    private static final String ROUTE = "cohortflow.route";

    private final CollectorOptions options;
    private final WriteKeys keys;
    private final Webhooks webhooks;
    private final CollectorMetrics metrics = new CollectorMetrics();
    private final RateLimiter limiter;
    private final Vertx vertx;
    private final KafkaProducer<byte[], byte[]> producer;
    private final Admin admin;
    private final AtomicBoolean kafkaReady = new AtomicBoolean();
    private final java.util.function.LongSupplier clock;
    private final List<HttpServer> servers = new java.util.concurrent.CopyOnWriteArrayList<>();
    private long readinessTimer;

    private Collector(CollectorOptions options, WriteKeys keys, Webhooks webhooks, java.util.function.LongSupplier clock) {
        this.options = options;
        this.clock = clock;
        this.keys = keys;
        this.webhooks = webhooks;
        this.limiter = new RateLimiter(options.rateLimit());
        this.vertx = Vertx.vertx();
        this.producer = new KafkaProducer<>(Map.<String, Object>of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, options.bootstrapServers(),
                ProducerConfig.ACKS_CONFIG, "all",
                ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true,
                ProducerConfig.LINGER_MS_CONFIG, 2,
                // send() runs on an event loop: metadata is fetched at start and kept warm, and a full buffer (Kafka
                // far behind) fails the request fast (503) rather than holding the loop.
                ProducerConfig.MAX_BLOCK_MS_CONFIG, 200,
                ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, (int) Math.max(options.produceTimeout().toMillis(), 1_000) + 1_000,
                ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) Math.max(options.produceTimeout().toMillis(), 1_000)),
                new ByteArraySerializer(), new ByteArraySerializer());
        this.admin = Admin.create(Map.of("bootstrap.servers", options.bootstrapServers(),
                "request.timeout.ms", 2_000, "default.api.timeout.ms", 2_000));
    }

    /** Starts the collector (no webhook sources) and returns once it listens. */
    public static Collector start(CollectorOptions options, WriteKeys keys) throws Exception {
        return start(options, keys, Webhooks.none());
    }

    /** Starts the collector and returns once it listens. */
    public static Collector start(CollectorOptions options, WriteKeys keys, Webhooks webhooks) throws Exception {
        return start(options, keys, webhooks, System::currentTimeMillis);
    }

    /**
     * Starts the collector with {@code clock} (epoch ms) as its receive time, and returns once it listens. The local
     * run passes the simulation's clock, so that a call someone posts by hand lands at the simulated now.
     */
    public static Collector start(CollectorOptions options, WriteKeys keys, Webhooks webhooks,
                                  java.util.function.LongSupplier clock) throws Exception {
        Collector collector = new Collector(options, keys, webhooks, clock);
        try {
            collector.listen();
        } catch (Exception e) {
            collector.close();
            throw e;
        }
        return collector;
    }

    private void listen() throws Exception {
        checkKafka();
        // One server per event loop, as many as cores, sharing the port: Vert.x hands each new connection to the next
        // one, so requests are parsed on every core (one loop was the bottleneck under load). Port 0 would give each
        // its own free port; Vert.x shares one free port among servers that ask for the same negative port.
        int loops = Math.max(1, Runtime.getRuntime().availableProcessors());
        deploy(options.port() == 0 ? -1 : options.port(), loops);
        if (servers.stream().mapToInt(HttpServer::actualPort).distinct().count() != 1) {
            throw new IllegalStateException("the collector's event loops listen on different ports: "
                    + servers.stream().map(HttpServer::actualPort).toList());
        }
        readinessTimer = vertx.setPeriodic(2_000, id -> vertx.executeBlocking(() -> {
            checkKafka();
            return null;
        }, false));
        LOG.info("collector listening on {}:{} with {} event loops, writing to {} ({} write keys, {} webhook sources)",
                options.host(), port(), loops, options.rawTopic(), keys.size(), webhooks.size());
    }

    /** Starts {@code instances} servers on {@code port}, each on its own event loop, and waits until they listen. */
    private void deploy(int port, int instances) throws Exception {
        vertx.deployVerticle(() -> new VerticleBase() {
                    @Override
                    public Future<?> start() {
                        HttpServer server = vertx.createHttpServer(new HttpServerOptions().setHost(options.host())
                                .setPort(port).setDecompressionSupported(true)).requestHandler(router());
                        servers.add(server);
                        return server.listen();
                    }
                }, new DeploymentOptions().setInstances(instances))
                .toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }

    /** The routes, for one server (a router belongs to the event loop of its server). */
    private Router router() {
        Router router = Router.router(vertx);
        router.route().handler(CorsHandler.create().addOrigin("*")
                .allowedMethods(Set.of(HttpMethod.POST, HttpMethod.OPTIONS, HttpMethod.GET))
                .allowedHeaders(Set.of("Authorization", "Content-Type", "Content-Encoding", "X-Requested-With"))
                .maxAgeSeconds(3600));
        router.get("/healthz").handler(ctx -> ctx.response().end("ok"));
        router.get("/readyz").handler(ctx -> {
            if (kafkaReady.get()) {
                ctx.response().end("ready");
            } else { // a probe's answer, not a refused request: not counted
                ctx.response().setStatusCode(503).end("Kafka is not reachable");
            }
        });
        router.get("/metrics").handler(ctx -> ctx.response()
                .putHeader("Content-Type", "text/plain; version=0.0.4; charset=utf-8").end(metrics.render()));
        // The body buffer sized from Content-Length up front (capped by the limit): no copies as it grows.
        BodyHandler bodies = BodyHandler.create(false).setBodyLimit(options.maxBatchBytes()).setPreallocateBodyBuffer(true);
        router.post("/v1/webhooks/:source").handler(bodies).handler(this::onWebhook);
        router.post("/v1/webhooks/:source/").handler(bodies).handler(this::onWebhook);
        router.post("/v1/:route").handler(bodies).handler(this::onCall);
        router.post("/v1/:route/").handler(bodies).handler(this::onCall);
        router.errorHandler(413, ctx -> error(ctx, 413, "too_large", "the body is larger than " + options.maxBatchBytes() + " bytes"));
        router.errorHandler(400, ctx -> error(ctx, 400, "bad_request", "bad request"));
        router.errorHandler(404, ctx -> error(ctx, 404, "no_route", "no such route: " + ctx.request().path()));
        router.errorHandler(405, ctx -> error(ctx, 405, "bad_method", "method not allowed"));
        router.errorHandler(500, ctx -> {
            LOG.error("request to {} failed", ctx.request().path(), ctx.failure());
            error(ctx, 500, "internal", "internal error");
        });
        return router;
    }

    /** Calls Kafka has acknowledged since the start. */
    public long callsAccepted() {
        return metrics.callsAccepted();
    }

    /** The port it listens on. */
    public int port() {
        return servers.get(0).actualPort();
    }

    private void checkKafka() {
        try {
            producer.partitionsFor(options.rawTopic()); // also keeps the topic's metadata warm
            admin.describeCluster().nodes().get(2, TimeUnit.SECONDS);
            kafkaReady.set(true);
        } catch (Exception e) {
            if (kafkaReady.getAndSet(false)) {
                LOG.warn("Kafka not reachable, not ready: {}", e.toString());
            }
        }
    }

    private void onCall(RoutingContext ctx) {
        String route = Calls.route(ctx.pathParam("route"));
        if (route == null) {
            error(ctx, 404, "no_route", "no such route: " + ctx.request().path());
            return;
        }
        ctx.put(ROUTE, route);
        long receivedAt = receivedAt(ctx);
        if (receivedAt < 0) {
            return;
        }
        byte[] body = ctx.body().buffer() == null ? new byte[0] : ctx.body().buffer().getBytes();
        if (Calls.SINGLE.contains(route) && body.length > options.maxCallBytes()) {
            error(ctx, 413, "too_large", "a call is larger than " + options.maxCallBytes() + " bytes");
            return;
        }
        Calls.Body parsed;
        try {
            parsed = Calls.parse(body);
        } catch (Calls.Refused e) {
            error(ctx, 400, "not_json", e.getMessage());
            return;
        }
        String presented = basicUser(ctx.request().getHeader("Authorization"));
        if (presented == null) {
            presented = Calls.writeKey(parsed);
        }
        String source = keys.source(presented).orElse(null);
        if (source == null) {
            error(ctx, 401, presented == null ? "no_key" : "unknown_key", presented == null
                    ? "no write key: use Basic auth (writeKey:) or a writeKey field" : "unknown write key");
            return;
        }
        long wait = limiter.acquire(source + '\u0000' + presented, Calls.count(route, parsed), System.nanoTime());
        if (wait > 0) {
            ctx.response().putHeader("Retry-After", Long.toString(wait));
            error(ctx, 429, "rate_limited", "rate limit of " + options.rateLimit() + " calls/s for this write key");
            return;
        }
        List<Calls.Call> calls;
        try {
            calls = Calls.split(route, parsed, receivedAt);
        } catch (Calls.Refused e) {
            error(ctx, 400, "bad_batch", e.getMessage());
            return;
        }
        produce(ctx, source, receivedAt, calls, body.length);
    }

    /** A webhook delivery: signed by its source, one record with that source. */
    private void onWebhook(RoutingContext ctx) {
        String name = ctx.pathParam("source");
        ctx.put(ROUTE, "webhooks/" + name);
        long receivedAt = receivedAt(ctx);
        if (receivedAt < 0) {
            return;
        }
        Webhooks.Source source = webhooks.source(name).orElse(null);
        if (source == null) {
            String why = webhooks.whyNot(name);
            error(ctx, 404, "no_source", why != null ? why : "no webhook source " + name);
            return;
        }
        byte[] body = ctx.body().buffer() == null ? new byte[0] : ctx.body().buffer().getBytes();
        String scheme = ctx.request().getHeader("X-Forwarded-Proto") != null
                ? ctx.request().getHeader("X-Forwarded-Proto") : ctx.request().scheme();
        String url = scheme + "://" + ctx.request().authority() + ctx.request().uri();
        String refused = webhooks.verify(source, new Webhooks.Delivery(ctx.request().method().name(), url,
                ctx.request()::getHeader, body, java.time.Instant.now()));
        if (refused != null) {
            error(ctx, 401, "bad_signature", name + ": " + refused);
            return;
        }
        produce(ctx, name, receivedAt, List.of(new Calls.Call(null, body)), body.length);
    }

    /**
     * The request's receive time: the clock's, or with {@code --trust-received-at} the request's
     * {@code X-Received-At} header when it has one. -1 when that header is not epoch ms (answered 400).
     */
    private long receivedAt(RoutingContext ctx) {
        String header = options.trustReceivedAt() ? ctx.request().getHeader(RECEIVED_AT_REQUEST_HEADER) : null;
        if (header == null) {
            return clock.getAsLong();
        }
        try {
            long millis = Long.parseLong(header.trim());
            if (millis >= 0) {
                return millis;
            }
        } catch (NumberFormatException e) {
            // answered below
        }
        error(ctx, 400, "bad_received_at", RECEIVED_AT_REQUEST_HEADER + " must be epoch milliseconds, not " + header);
        return -1;
    }

    /** Sends every call; answers 200 once all are acknowledged, 503 on the first failure or at the deadline. */
    private void produce(RoutingContext ctx, String source, long receivedAt, List<Calls.Call> calls, long bodyBytes) {
        Context context = vertx.getOrCreateContext();
        long started = System.nanoTime();
        AtomicInteger remaining = new AtomicInteger(calls.size());
        AtomicBoolean answered = new AtomicBoolean();
        long deadline = vertx.setTimer(Math.max(1, options.produceTimeout().toMillis()), id -> {
            if (answered.compareAndSet(false, true)) {
                error(ctx, 503, "kafka_timeout", "Kafka did not acknowledge within " + options.produceTimeout().toMillis()
                        + " ms; retry");
            }
        });
        byte[] sourceHeader = source.getBytes(StandardCharsets.UTF_8);
        byte[] receivedHeader = Long.toString(receivedAt).getBytes(StandardCharsets.UTF_8);
        // send() hands the record to the producer's buffer and returns: metadata is kept warm (checkKafka) and the
        // buffer is far larger than one request, so it does not hold the event loop; if it cannot take the record
        // within max.block.ms it throws, and the request gets 503.
        try {
            for (Calls.Call call : calls) {
                ProducerRecord<byte[], byte[]> record = new ProducerRecord<>(options.rawTopic(), null,
                        call.key() == null ? null : call.key().getBytes(StandardCharsets.UTF_8), call.payload(),
                        List.of(new RecordHeader(SOURCE_HEADER, sourceHeader),
                                new RecordHeader(RECEIVED_AT_HEADER, receivedHeader)));
                producer.send(record, (metadata, e) -> {
                    if (e != null) {
                        if (answered.compareAndSet(false, true)) {
                            context.runOnContext(v -> {
                                vertx.cancelTimer(deadline);
                                error(ctx, 503, "kafka_error", "Kafka refused the call (" + e.getClass().getSimpleName()
                                        + "); retry");
                            });
                        }
                    } else if (remaining.decrementAndGet() == 0 && answered.compareAndSet(false, true)) {
                        context.runOnContext(v -> {
                            vertx.cancelTimer(deadline);
                            metrics.accepted(calls.size(), bodyBytes, System.nanoTime() - started);
                            metrics.request(ctx.get(ROUTE), 200);
                            ctx.response().putHeader("Content-Type", "application/json").end("{\"success\":true}");
                        });
                    }
                });
            }
        } catch (RuntimeException e) {
            if (answered.compareAndSet(false, true)) {
                vertx.cancelTimer(deadline);
                error(ctx, 503, "kafka_down", "Kafka is not reachable (" + e.getClass().getSimpleName() + "); retry");
            }
        }
    }

    /** The user part of HTTP Basic credentials ({@code writeKey:}), or null. */
    static String basicUser(String authorization) {
        if (authorization == null || !authorization.regionMatches(true, 0, "Basic ", 0, 6)) {
            return null;
        }
        try {
            String decoded = new String(Base64.getDecoder().decode(authorization.substring(6).trim()), StandardCharsets.UTF_8);
            int colon = decoded.indexOf(':');
            String user = colon < 0 ? decoded : decoded.substring(0, colon);
            return user.isEmpty() ? null : user;
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    /** Answers {@code status} with a JSON error, counted under the request's route and {@code reason}. */
    private void error(RoutingContext ctx, int status, String reason, String message) {
        if (ctx.response().ended()) {
            return;
        }
        String route = ctx.get(ROUTE);
        metrics.request(route == null ? "other" : route, status);
        metrics.refused(reason);
        String json = "{\"success\":false,\"error\":" + quote(message) + "}";
        ctx.response().setStatusCode(status).putHeader("Content-Type", "application/json").end(json);
    }

    private static String quote(String text) {
        StringBuilder out = new StringBuilder("\"");
        for (char c : text.toCharArray()) {
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                default -> {
                    if (c < 0x20) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        return out.append('"').toString();
    }

    /** Stops taking requests, answers those in flight (up to 10 s), then closes Kafka. */
    @Override
    public void close() {
        try {
            if (!servers.isEmpty()) {
                vertx.cancelTimer(readinessTimer);
                Future.all(servers.stream().map(server -> server.shutdown(10, TimeUnit.SECONDS)).toList())
                        .toCompletionStage().toCompletableFuture().get(15, TimeUnit.SECONDS);
            }
        } catch (Exception e) {
            LOG.warn("collector shutdown: {}", e.toString());
        } finally {
            producer.close(java.time.Duration.ofSeconds(5));
            admin.close(java.time.Duration.ofSeconds(2));
            vertx.close().toCompletionStage().toCompletableFuture().orTimeout(10, TimeUnit.SECONDS).join();
        }
    }
}
