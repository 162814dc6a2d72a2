package io.cohortflow.collector;

import com.segment.analytics.Analytics;
import com.segment.analytics.Callback;
import com.segment.analytics.messages.AliasMessage;
import com.segment.analytics.messages.GroupMessage;
import com.segment.analytics.messages.IdentifyMessage;
import com.segment.analytics.messages.Message;
import com.segment.analytics.messages.PageMessage;
import com.segment.analytics.messages.ScreenMessage;
import com.segment.analytics.messages.TrackMessage;
import io.cohortflow.core.config.TopicsConfig;
import io.cohortflow.core.event.EventType;
import io.cohortflow.core.event.UnifiedEvent;
import io.cohortflow.ingest.IngestJob;
import io.cohortflow.ingest.IngestOptions;
import io.cohortflow.kafka.local.LocalKafkaBroker;
import io.cohortflow.testkit.KafkaTestSupport;
import io.cohortflow.testkit.MiniClusters;
import io.cohortflow.testkit.SharedKafka;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.zip.GZIPOutputStream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The collector over real HTTP in front of a real broker: Segment's own Java library posting every call type, the
 * ingest job taking them to events.unified, and the API's edges (key forms, gzip, limits, rate limit, CORS, Kafka
 * down) with the JDK's HTTP client.
 */
@ExtendWith(SharedKafka.class)
class CollectorITCase {
    @RegisterExtension
    static final MiniClusterExtension FLINK = MiniClusters.extension();

    private static final String KEY = "wk_test_" + Long.toHexString(System.nanoTime());
    private final HttpClient http = HttpClient.newHttpClient();

    @Test
    void segmentsJavaLibrarySendsEveryCallTypeAndEachArrivesInEventsUnified(LocalKafkaBroker broker) throws Exception {
        TopicsConfig topics = KafkaTestSupport.uniqueTopics(broker, "collector-sdk");
        Instant at = Instant.now().minusSeconds(30);
        try (Collector collector = start(broker, topics, CollectorOptions::withRateLimit, 0)) {
            List<Throwable> failures = new ArrayList<>();
            CountDownLatch delivered = new CountDownLatch(6);
            Analytics analytics = Analytics.builder(KEY).endpoint("http://127.0.0.1:" + collector.port())
                    .flushQueueSize(6).retries(1)
                    .callback(new Callback() {
                        @Override
                        public void success(Message message) {
                            delivered.countDown();
                        }

                        @Override
                        public void failure(Message message, Throwable throwable) {
                            failures.add(throwable);
                            delivered.countDown();
                        }
                    }).build();
            Date when = Date.from(at);
            analytics.enqueue(TrackMessage.builder("Product Viewed").messageId("sdk-track").anonymousId("sdk-anon")
                    .timestamp(when).properties(Map.of("product_id", "p-42", "price", 89.5)));
            analytics.enqueue(IdentifyMessage.builder().messageId("sdk-identify").anonymousId("sdk-anon")
                    .userId("sdk-user").timestamp(when).traits(Map.of("plan", "pro")));
            analytics.enqueue(PageMessage.builder("Home").messageId("sdk-page").userId("sdk-user").timestamp(when));
            analytics.enqueue(ScreenMessage.builder("Cart").messageId("sdk-screen").userId("sdk-user").timestamp(when));
            analytics.enqueue(GroupMessage.builder("acme").messageId("sdk-group").userId("sdk-user").timestamp(when));
            analytics.enqueue(AliasMessage.builder("sdk-old-id").messageId("sdk-alias").userId("sdk-user").timestamp(when));
            analytics.flush();
            assertThat(delivered.await(60, TimeUnit.SECONDS)).as("the SDK heard back").isTrue();
            analytics.shutdown();
            assertThat(failures).as("the SDK saw no failure").isEmpty();
        }

        runIngest(broker, topics);
        Map<String, UnifiedEvent> unified = KafkaTestSupport.readUserActions(broker.bootstrapServers(),
                topics.name(TopicsConfig.UNIFIED)).stream().collect(Collectors.toMap(UnifiedEvent::messageId, e -> e));
        assertThat(unified).containsKeys("sdk-track", "sdk-identify", "sdk-page", "sdk-screen", "sdk-group", "sdk-alias");
        UnifiedEvent track = unified.get("sdk-track");
        assertThat(track.type()).isEqualTo(EventType.TRACK);
        assertThat(track.event()).isEqualTo("product_view");
        assertThat(track.anonymousId()).isEqualTo("sdk-anon");
        assertThat(track.source()).as("the write key's source").isEqualTo("web");
        assertThat(track.properties()).containsEntry("product_id", "p-42").containsEntry("price", 89.5);
        // Skew-corrected by ingest (timestamp + receivedAt - sentAt): within the few seconds the SDK took to send.
        assertThat(track.timestamp()).isBetween(at.toEpochMilli(), at.toEpochMilli() + 10_000);
        assertThat(unified.get("sdk-identify").userId()).isEqualTo("sdk-user");
        assertThat(unified.get("sdk-identify").traits()).containsEntry("plan", "pro");
        assertThat(unified.get("sdk-alias").previousId()).isEqualTo("sdk-old-id");
        assertThat(unified.get("sdk-screen").type()).isEqualTo(EventType.SCREEN);
        assertThat(unified.get("sdk-group").type()).isEqualTo(EventType.GROUP);
    }

    @Test
    void theApiEdgesKeyFormsGzipLimitsAndCors(LocalKafkaBroker broker) throws Exception {
        TopicsConfig topics = KafkaTestSupport.uniqueTopics(broker, "collector-http");
        try (Collector collector = start(broker, topics, CollectorOptions::withRateLimit, 0)) {
            String base = "http://127.0.0.1:" + collector.port();
            String now = Instant.now().toString();
            // The key in the body, a trailing slash, no type (the route gives it).
            HttpResponse<String> bodyKey = post(base + "/v1/track/", null, false, "{\"writeKey\":\"" + KEY
                    + "\",\"event\":\"Product Viewed\",\"messageId\":\"h-1\",\"anonymousId\":\"dev-1\",\"timestamp\":\"" + now + "\"}");
            assertThat(bodyKey.statusCode()).isEqualTo(200);
            assertThat(bodyKey.body()).isEqualTo("{\"success\":true}");
            // Basic auth, gzip, a batch with an envelope context.
            HttpResponse<String> gzipped = post(base + "/v1/batch", KEY, true, "{\"context\":{\"library\":{\"name\":\"curl\"}},"
                    + "\"sentAt\":\"" + now + "\",\"batch\":[{\"type\":\"page\",\"messageId\":\"h-2\",\"anonymousId\":\"dev-2\"},"
                    + "{\"type\":\"track\",\"event\":\"X\",\"messageId\":\"h-3\",\"userId\":\"u-3\",\"context\":{\"ip\":\"1.2.3.4\"}},"
                    + "\"not a call\"]}");
            assertThat(gzipped.statusCode()).isEqualTo(200);
            // analytics.js's short route and its text/plain body; a receive time of its own is not trusted here.
            assertThat(http.send(HttpRequest.newBuilder(URI.create(base + "/v1/t")).header("Content-Type", "text/plain")
                    .header(Collector.RECEIVED_AT_REQUEST_HEADER, "5")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"writeKey\":\"" + KEY + "\",\"event\":\"Y\","
                            + "\"messageId\":\"h-4\",\"anonymousId\":\"dev-4\"}")).build(),
                    HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(200);

            Map<String, ConsumerRecord<byte[], byte[]>> raw = KafkaTestSupport.readAllCommitted(broker.bootstrapServers(),
                    topics.name(TopicsConfig.RAW)).stream().collect(Collectors.toMap(
                    r -> new String(r.value(), StandardCharsets.UTF_8).contains("\"messageId\"")
                            ? new String(r.value(), StandardCharsets.UTF_8).replaceAll(".*\"messageId\":\"([^\"]+)\".*", "$1")
                            : "not-a-call", Function.identity()));
            assertThat(raw).containsOnlyKeys("h-1", "h-2", "h-3", "h-4", "not-a-call");
            assertThat(new String(raw.get("h-4").value(), StandardCharsets.UTF_8)).contains("\"type\":\"track\"");
            assertThat(Long.parseLong(new String(raw.get("h-4").headers().lastHeader(Collector.RECEIVED_AT_HEADER).value(),
                    StandardCharsets.UTF_8))).as("the collector's clock, not the header").isGreaterThan(1_000_000L);
            String first = new String(raw.get("h-1").value(), StandardCharsets.UTF_8);
            assertThat(first).contains("\"type\":\"track\"").doesNotContain("writeKey").doesNotContain(KEY);
            assertThat(new String(raw.get("h-1").key(), StandardCharsets.UTF_8)).isEqualTo("dev-1");
            assertThat(new String(raw.get("h-1").headers().lastHeader(Collector.SOURCE_HEADER).value(), StandardCharsets.UTF_8))
                    .isEqualTo("web");
            assertThat(Long.parseLong(new String(raw.get("h-1").headers().lastHeader(Collector.RECEIVED_AT_HEADER).value(),
                    StandardCharsets.UTF_8))).isCloseTo(System.currentTimeMillis(), org.assertj.core.data.Offset.offset(60_000L));
            assertThat(new String(raw.get("h-3").value(), StandardCharsets.UTF_8))
                    .contains("\"sentAt\":\"" + now + "\"").contains("\"library\"").contains("\"ip\":\"1.2.3.4\"");
            assertThat(new String(raw.get("h-3").key(), StandardCharsets.UTF_8)).isEqualTo("u-3");

            // Refusals, each with a JSON error.
            assertThat(post(base + "/v1/track", null, false, "{\"event\":\"X\"}").statusCode()).as("no key").isEqualTo(401);
            assertThat(post(base + "/v1/track", "wk_unknown", false, "{\"event\":\"X\"}").statusCode()).as("unknown key").isEqualTo(401);
            HttpResponse<String> notJson = post(base + "/v1/track", KEY, false, "{\"event\":");
            assertThat(notJson.statusCode()).isEqualTo(400);
            assertThat(notJson.body()).startsWith("{\"success\":false,\"error\":\"the body is not JSON");
            assertThat(post(base + "/v1/track", KEY, false, "[1,2]").statusCode()).as("not an object").isEqualTo(400);
            assertThat(post(base + "/v1/batch", KEY, false, "{\"batch\":5}").statusCode()).isEqualTo(400);
            String big = "{\"event\":\"X\",\"messageId\":\"big\",\"userId\":\"u\",\"properties\":{\"blob\":\"" + "x".repeat(40_000) + "\"}}";
            assertThat(post(base + "/v1/track", KEY, false, big).statusCode()).as("a call over 32 KB").isEqualTo(413);
            assertThat(post(base + "/v1/track", KEY, true, big).statusCode()).as("the limit is after decompression").isEqualTo(413);
            String huge = "{\"batch\":[" + String.join(",", java.util.Collections.nCopies(20, big)) + "]}";
            assertThat(post(base + "/v1/batch", KEY, false, huge).statusCode()).as("a batch over 500 KB").isEqualTo(413);
            assertThat(post(base + "/v1/purchase", KEY, false, "{}").statusCode()).isEqualTo(404);

            // CORS: the preflight a browser sends before a POST with Basic auth.
            HttpResponse<String> preflight = http.send(HttpRequest.newBuilder(URI.create(base + "/v1/batch"))
                    .method("OPTIONS", HttpRequest.BodyPublishers.noBody())
                    .header("Origin", "https://shop.example.com")
                    .header("Access-Control-Request-Method", "POST")
                    .header("Access-Control-Request-Headers", "authorization,content-type").build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(preflight.statusCode()).isBetween(200, 204);
            assertThat(preflight.headers().firstValue("Access-Control-Allow-Origin")).isPresent();
            assertThat(preflight.headers().firstValue("Access-Control-Allow-Headers").orElse("").toLowerCase())
                    .contains("authorization").contains("content-type");
            assertThat(http.send(HttpRequest.newBuilder(URI.create(base + "/readyz")).build(),
                    HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(200);
        }
    }

    @Test
    void aSignedStripeWebhookReachesEventsUnifiedAndForgedOrStaleOnesAre401(LocalKafkaBroker broker) throws Exception {
        TopicsConfig topics = KafkaTestSupport.uniqueTopics(broker, "collector-webhooks");
        // Trusting X-Received-At, as for a replay: the delivery keeps the receive time it was sent with.
        CollectorOptions options = CollectorOptions.local(broker.bootstrapServers(), topics.name(TopicsConfig.RAW), 0)
                .trustingReceivedAt();
        Webhooks webhooks = Webhooks.load(io.cohortflow.core.config.ConfFiles.defaultLocation("collector/webhooks.yaml"),
                Map.of("STRIPE_WEBHOOK_SECRET", "whsec_test")::get);
        Instant now = Instant.now();
        long replayedReceivedAt = now.minusSeconds(90).toEpochMilli();
        byte[] charge = ("{\"id\":\"evt_it_1\",\"created\":" + now.getEpochSecond() + ",\"type\":\"charge.succeeded\","
                + "\"data\":{\"object\":{\"id\":\"ch_1\",\"amount\":4900,\"currency\":\"eur\","
                + "\"metadata\":{\"user_id\":\"u-stripe\"}}}}").getBytes(StandardCharsets.UTF_8);
        try (Collector collector = Collector.start(options, WriteKeys.ofDigests(Map.of()), webhooks)) {
            String url = "http://127.0.0.1:" + collector.port() + "/v1/webhooks/stripe";
            assertThat(webhook(url, WebhooksTest.stripeHeader(now, charge), charge, "yesterday").statusCode())
                    .as("a receive time that is not epoch ms").isEqualTo(400);
            assertThat(webhook(url, WebhooksTest.stripeHeader(now, charge), charge, Long.toString(replayedReceivedAt))
                    .statusCode()).isEqualTo(200);
            byte[] forged = new String(charge, StandardCharsets.UTF_8).replace("4900", "1").getBytes(StandardCharsets.UTF_8);
            HttpResponse<String> tampered = webhook(url, WebhooksTest.stripeHeader(now, charge), forged);
            assertThat(tampered.statusCode()).isEqualTo(401);
            assertThat(tampered.body()).contains("does not match");
            assertThat(webhook(url, WebhooksTest.stripeHeader(now.minusSeconds(3600), charge), charge).statusCode())
                    .as("stale: a replay").isEqualTo(401);
            assertThat(webhook(url.replace("stripe", "zendesk"), "x", charge).statusCode()).as("no secret set").isEqualTo(404);
            assertThat(webhook(url.replace("stripe", "mailchimp"), "x", charge).statusCode()).as("no mapping").isEqualTo(404);

            String metrics = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + collector.port() + "/metrics"))
                    .build(), HttpResponse.BodyHandlers.ofString()).body();
            assertThat(metrics).contains("cohortflow_collector_requests_total{route=\"webhooks/stripe\",status=\"200\"} 1",
                    "cohortflow_collector_requests_total{route=\"webhooks/stripe\",status=\"401\"} 2",
                    "cohortflow_collector_requests_total{route=\"webhooks/stripe\",status=\"400\"} 1",
                    "cohortflow_collector_refusals_total{reason=\"bad_signature\"} 2",
                    "cohortflow_collector_calls_accepted_total 1", "cohortflow_collector_produce_seconds_count 1");
        }
        runIngest(broker, topics);
        List<UnifiedEvent> unified = KafkaTestSupport.readUserActions(broker.bootstrapServers(), topics.name(TopicsConfig.UNIFIED));
        assertThat(unified).singleElement().satisfies(e -> {
            assertThat(e.source()).isEqualTo("stripe");
            assertThat(e.userId()).isEqualTo("u-stripe");
            assertThat(e.messageId()).isEqualTo("evt_it_1");
            assertThat(e.receivedAt()).isEqualTo(replayedReceivedAt);
            assertThat(e.numberProperty("amount", 0)).isEqualTo(49.0);
        });
    }

    @Test
    void aWriteKeyOverItsRateGets429WithRetryAfter(LocalKafkaBroker broker) throws Exception {
        TopicsConfig topics = KafkaTestSupport.uniqueTopics(broker, "collector-rate");
        try (Collector collector = start(broker, topics, CollectorOptions::withRateLimit, 5)) {
            String base = "http://127.0.0.1:" + collector.port();
            AtomicInteger ok = new AtomicInteger();
            HttpResponse<String> refused = null;
            for (int i = 0; i < 20 && refused == null; i++) {
                HttpResponse<String> response = post(base + "/v1/track", KEY, false,
                        "{\"event\":\"X\",\"messageId\":\"r-" + i + "\",\"userId\":\"u\"}");
                if (response.statusCode() == 429) {
                    refused = response;
                } else {
                    assertThat(response.statusCode()).isEqualTo(200);
                    ok.incrementAndGet();
                }
            }
            assertThat(refused).as("refused within 20 quick calls at 5/s").isNotNull();
            assertThat(ok.get()).isGreaterThanOrEqualTo(5);
            assertThat(refused.headers().firstValue("Retry-After")).hasValueSatisfying(v -> assertThat(Long.parseLong(v)).isPositive());
        }
    }

    /** A broker of its own, stopped mid-test: calls get 503 and readiness goes false, nothing hangs. */
    @Test
    void whenKafkaIsDownCallsGet503AndTheCollectorIsNotReady() throws Exception {
        LocalKafkaBroker own = LocalKafkaBroker.start();
        TopicsConfig topics = KafkaTestSupport.uniqueTopics(own, "collector-down");
        try (Collector collector = Collector.start(CollectorOptions.local(own.bootstrapServers(),
                topics.name(TopicsConfig.RAW), 0).withProduceTimeout(Duration.ofSeconds(2)), WriteKeys.ofDigests(Map.of()).with(KEY, "web"))) {
            String base = "http://127.0.0.1:" + collector.port();
            assertThat(post(base + "/v1/track", KEY, false, "{\"event\":\"X\",\"messageId\":\"d-1\",\"userId\":\"u\"}")
                    .statusCode()).isEqualTo(200);
            own.close();
            long started = System.nanoTime();
            HttpResponse<String> down = post(base + "/v1/track", KEY, false, "{\"event\":\"X\",\"messageId\":\"d-2\",\"userId\":\"u\"}");
            assertThat(down.statusCode()).isEqualTo(503);
            assertThat(down.body()).contains("retry");
            assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(10));
            long deadline = System.currentTimeMillis() + 20_000;
            int ready = 200;
            while (ready == 200 && System.currentTimeMillis() < deadline) {
                Thread.sleep(500);
                ready = http.send(HttpRequest.newBuilder(URI.create(base + "/readyz")).build(),
                        HttpResponse.BodyHandlers.ofString()).statusCode();
            }
            assertThat(ready).as("not ready while Kafka is down").isEqualTo(503);
        }
    }

    private HttpResponse<String> webhook(String url, String signature, byte[] body) throws Exception {
        return webhook(url, signature, body, null);
    }

    private HttpResponse<String> webhook(String url, String signature, byte[] body, String receivedAt) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url)).header("Content-Type", "application/json")
                .header("Stripe-Signature", signature);
        if (receivedAt != null) {
            request.header(Collector.RECEIVED_AT_REQUEST_HEADER, receivedAt);
        }
        return http.send(request.POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static Collector start(LocalKafkaBroker broker, TopicsConfig topics,
                                   java.util.function.BiFunction<CollectorOptions, Double, CollectorOptions> with,
                                   double rateLimit) throws Exception {
        CollectorOptions options = with.apply(CollectorOptions.local(broker.bootstrapServers(),
                topics.name(TopicsConfig.RAW), 0), rateLimit);
        return Collector.start(options, WriteKeys.ofDigests(Map.of()).with(KEY, "web"));
    }

    private HttpResponse<String> post(String url, String key, boolean gzip, String body) throws Exception {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url)).header("Content-Type", "application/json");
        if (key != null) {
            request.header("Authorization", "Basic " + Base64.getEncoder().encodeToString((key + ":").getBytes(StandardCharsets.UTF_8)));
        }
        if (gzip) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            try (GZIPOutputStream zip = new GZIPOutputStream(out)) {
                zip.write(bytes);
            }
            bytes = out.toByteArray();
            request.header("Content-Encoding", "gzip");
        }
        return http.send(request.POST(HttpRequest.BodyPublishers.ofByteArray(bytes)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static void runIngest(LocalKafkaBroker broker, TopicsConfig topics) throws Exception {
        List<String> args = new ArrayList<>(List.of("--bootstrap-servers", broker.bootstrapServers(),
                "--transaction-timeout", "60s", "--group-id", "it-" + topics.name(TopicsConfig.RAW),
                "--history-path", KafkaTestSupport.tempDir("collector-history-").toUri().toString()));
        args.addAll(KafkaTestSupport.topicArgs(topics));
        IngestOptions options = IngestOptions.parse(args.toArray(String[]::new));
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(MiniClusters.jobConfig());
        env.setParallelism(1);
        IngestJob.configure(env, options);
        IngestJob.fromOptions(options, true).build(env);
        env.execute("ingest of what the collector wrote");
    }
}
