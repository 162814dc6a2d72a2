package io.cohortflow.activation;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.cohortflow.collector.Webhooks;
import io.cohortflow.core.segment.Cause;
import io.cohortflow.core.segment.ChangeType;
import io.cohortflow.core.segment.SegmentChange;
import io.cohortflow.core.segment.SegmentProfile;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** The delivery client against a real HTTP server that answers as each test scripts it. */
class DestinationClientTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long T0 = Instant.parse("2026-03-02T10:00:00Z").toEpochMilli();

    private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private final List<String> events = new ArrayList<>();
    private Receiver receiver;

    @AfterEach
    void tearDown() {
        scheduler.shutdownNow();
        if (receiver != null) {
            receiver.close();
        }
    }

    @Test
    void aSegmentFormatBatchIsSignedWithTheCollectorsHmacSchemeAndCarriesTheProducts() throws Exception {
        receiver = new Receiver(n -> Receiver.Answer.ok());
        Destination ads = destination("ads", Destination.Format.SEGMENT, Destination.Auth.HMAC, 2, 8);
        DestinationClient client = client(ads, "s3cret");
        SegmentProfile profile = new SegmentProfile("user_jane", T0, List.of("bundle"), Map.of(), Map.of(), null,
                "bundle@v2", null, Map.of(
                        "cart_items", List.of(Map.of("product_id", "shoe-1", "name", "Trail shoe", "category",
                                "Men's Running Shoes", "price", 120.0)),
                        "viewed_products", List.of(Map.of("product_id", "jacket-2", "name", "Shell jacket",
                                "category", "Jackets", "price", 180.0), Map.of("product_id", "shoe-1")),
                        "email_sha256", "86e0b9e56c17cc4d12387e1949b85053fbe73bc3ce5a1188713a9d300cc6133d"),
                Map.of());
        var first = client.submit(new Activation("ads", change("user_jane", "bundle", ChangeType.ENTER, 0), profile));
        var second = client.submit(new Activation("ads", change("u2", "bundle", ChangeType.ENTER, 0), null));
        assertThat(first.get(10, TimeUnit.SECONDS).delivered()).isTrue();
        assertThat(second.get(10, TimeUnit.SECONDS).delivered()).isTrue();

        Receiver.Request request = receiver.requests().get(0);
        assertThat(receiver.requests()).as("two changes, batch size 2: one request").hasSize(1);
        Webhooks.Source source = new Webhooks.Source("ads", Webhooks.Scheme.HMAC_SHA256,
                "s3cret".getBytes(StandardCharsets.UTF_8));
        assertThat(Webhooks.none().verify(source, new Webhooks.Delivery("POST", receiver.uri("/v1/batch").toString(),
                request::header, request.body(), Instant.now()))).as("the collector's verifier accepts it").isNull();
        assertThat(Webhooks.none().verify(new Webhooks.Source("ads", Webhooks.Scheme.HMAC_SHA256,
                "other".getBytes(StandardCharsets.UTF_8)), new Webhooks.Delivery("POST", "", request::header,
                request.body(), Instant.now()))).isNotNull();

        JsonNode batch = JSON.readTree(request.body()).get("batch");
        assertThat(batch).hasSize(4);
        assertThat(batch.get(0).get("type").asText()).isEqualTo("identify");
        assertThat(batch.get(0).at("/traits/bundle").asBoolean()).isTrue();
        assertThat(batch.get(0).at("/traits/email_sha256").asText()).hasSize(64);
        JsonNode track = batch.get(1);
        assertThat(track.get("event").asText()).isEqualTo("Audience Entered");
        assertThat(track.at("/properties/audience_key").asText()).isEqualTo("bundle");
        assertThat(track.at("/context/personas/computation_class").asText()).isEqualTo("audience");
        List<String> products = new ArrayList<>();
        track.at("/properties/products").forEach(p -> products.add(p.get("product_id").asText()));
        assertThat(products).as("the cart, then what was viewed, once each").containsExactly("shoe-1", "jacket-2");
        assertThat(track.get("messageId").asText()).startsWith(first.get().activation().change().changeId());
        assertThat(request.header("Idempotency-Key")).isNotBlank()
                .isNotEqualTo(first.get().activation().change().changeId());
    }

    @Test
    void failuresAreRetriedWithTheSameKeyAndRetryAfterIsHonoured() throws Exception {
        receiver = new Receiver(n -> switch (n) {
            case 1 -> Receiver.Answer.status(503);
            case 2 -> new Receiver.Answer(429, 0, Map.of("Retry-After", "1"));
            default -> Receiver.Answer.ok();
        });
        DestinationClient client = client(destination("hook", Destination.Format.WEBHOOK, Destination.Auth.BEARER, 1, 5),
                "tok");
        var outcome = client.submit(new Activation("hook", change("u1", "s", ChangeType.ENTER, 0), null))
                .get(20, TimeUnit.SECONDS);
        assertThat(outcome.delivered()).isTrue();
        assertThat(outcome.attempts()).isEqualTo(3);
        List<Receiver.Request> requests = receiver.requests();
        assertThat(requests).extracting(r -> r.header("Idempotency-Key")).containsOnly(outcome.activation().change().changeId());
        assertThat(requests).extracting(r -> r.header("Authorization")).containsOnly("Bearer tok");
        assertThat(requests.get(2).receivedAt() - requests.get(1).receivedAt()).as("Retry-After: 1").isGreaterThanOrEqualTo(950);
        assertThat(events).contains("failed", "retried", "delivered");
    }

    @Test
    void aRefusalIsDeadLetteredAtOnceAndAnUnreachableDestinationAfterItsAttempts() throws Exception {
        receiver = new Receiver(n -> Receiver.Answer.status(400));
        DestinationClient client = client(destination("hook", Destination.Format.WEBHOOK, Destination.Auth.NONE, 1, 5), null);
        var refused = client.submit(new Activation("hook", change("u1", "s", ChangeType.ENTER, 0), null))
                .get(10, TimeUnit.SECONDS);
        assertThat(refused.delivered()).isFalse();
        assertThat(refused.attempts()).isEqualTo(1);
        assertThat(refused.status()).isEqualTo(400);
        assertThat(refused.reason()).startsWith("refused: HTTP 400").contains("scripted 400");
        assertThat(JSON.readTree(refused.payload()).at("/changes/0/changeId").asText())
                .isEqualTo(refused.activation().change().changeId());

        Destination nowhere = destination("hook", Destination.Format.WEBHOOK, Destination.Auth.NONE, 1, 3)
                .at(URI.create("http://127.0.0.1:1/none"));
        var unreachable = client(nowhere, null)
                .submit(new Activation("hook", change("u1", "s", ChangeType.ENTER, 0), null)).get(20, TimeUnit.SECONDS);
        assertThat(unreachable.delivered()).isFalse();
        assertThat(unreachable.attempts()).isEqualTo(3);
        assertThat(unreachable.reason()).startsWith("gave up after 3 attempts: ");
    }

    @Test
    void aSlowAnswerPastTheTimeoutIsRetriedAndAUsersExitWaitsForTheirEnter() throws Exception {
        receiver = new Receiver(n -> n <= 2 ? Receiver.Answer.slow(1_500) : Receiver.Answer.ok());
        Destination hook = destination("hook", Destination.Format.WEBHOOK, Destination.Auth.NONE, 1, 6);
        DestinationClient client = client(hook, null);
        CompletableFuture<DestinationClient.Outcome> enter =
                client.submit(new Activation("hook", change("u1", "s", ChangeType.ENTER, 0), null));
        CompletableFuture<DestinationClient.Outcome> exit =
                client.submit(new Activation("hook", change("u1", "s", ChangeType.EXIT, 1), null));
        CompletableFuture<DestinationClient.Outcome> other =
                client.submit(new Activation("hook", change("u2", "s", ChangeType.ENTER, 0), null));
        assertThat(enter.get(20, TimeUnit.SECONDS).delivered()).isTrue();
        assertThat(exit.get(20, TimeUnit.SECONDS).delivered()).isTrue();
        assertThat(other.get(20, TimeUnit.SECONDS).delivered()).isTrue();
        List<String> u1 = new ArrayList<>();
        for (Receiver.Request r : receiver.requests()) {
            JsonNode item = JSON.readTree(r.body()).at("/changes/0");
            if (item.get("userId").asText().equals("u1")) {
                u1.add(item.get("type").asText());
            }
        }
        // The ENTER timed out (the destination got it, the client did not hear back) and went again: a duplicate
        // with the same Idempotency-Key. The EXIT went only once the ENTER was through.
        assertThat(u1).startsWith("ENTER").endsWith("EXIT");
        assertThat(u1.indexOf("EXIT")).isGreaterThan(u1.lastIndexOf("ENTER"));
        assertThat(enter.get().attempts()).isGreaterThan(1);
    }

    @Test
    void aClosedClientSendsNothingMore() throws Exception {
        receiver = new Receiver(n -> Receiver.Answer.status(503));
        DestinationClient client = client(destination("hook", Destination.Format.WEBHOOK, Destination.Auth.NONE, 1, 50),
                null);
        var enter = client.submit(new Activation("hook", change("u1", "s", ChangeType.ENTER, 0), null));
        var exit = client.submit(new Activation("hook", change("u1", "s", ChangeType.EXIT, 1), null));
        long deadline = System.currentTimeMillis() + 10_000;
        while (receiver.requests().size() < 2 && System.currentTimeMillis() < deadline) {
            Thread.sleep(10);
        }
        client.close();
        int seen = receiver.requests().size();
        Thread.sleep(1_000); // retries were due every 50-100 ms
        assertThat(receiver.requests().size()).as("at most the request in flight at close").isLessThanOrEqualTo(seen + 1);
        assertThat(receiver.requests()).allSatisfy(r -> assertThat(r.text()).contains("ENTER"));
        assertThat(enter).as("left to the owner's successor").isNotDone();
        assertThat(exit).isNotDone();
    }

    @Test
    void theRateLimitSpacesRequests() throws Exception {
        receiver = new Receiver(n -> Receiver.Answer.ok());
        Destination limited = new Destination("hook", Destination.Format.WEBHOOK, receiver.uri("/hook"),
                Destination.Auth.NONE, null, Set.of("*"), Set.of(ChangeType.ENTER, ChangeType.EXIT), 1,
                Duration.ofMillis(10), 10, 4, 3, Duration.ofMinutes(1), Duration.ofMillis(50), Duration.ofSeconds(1),
                Duration.ofSeconds(2), List.of());
        DestinationClient client = client(limited, null);
        List<CompletableFuture<DestinationClient.Outcome>> all = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            all.add(client.submit(new Activation("hook", change("u" + i, "s", ChangeType.ENTER, 0), null)));
        }
        CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).get(20, TimeUnit.SECONDS);
        List<Receiver.Request> requests = receiver.requests();
        long span = requests.get(requests.size() - 1).receivedAt() - requests.get(0).receivedAt();
        assertThat(span).as("6 requests at 10/s take at least 0.5 s").isGreaterThanOrEqualTo(450);
    }

    private DestinationClient client(Destination destination, String secret) {
        return new DestinationClient(destination, secret, http, scheduler, new DestinationClient.Listener() {
            @Override
            public void delivered(int changes, long latencyMillis) {
                record("delivered");
            }

            @Override
            public void failed(int changes, String why) {
                record("failed");
            }

            @Override
            public void retried(int changes) {
                record("retried");
            }

            @Override
            public void deadLettered(int changes, String reason) {
                record("deadLettered");
            }
        }, System::currentTimeMillis);
    }

    private synchronized void record(String event) {
        events.add(event);
    }

    private Destination destination(String id, Destination.Format format, Destination.Auth auth, int batchSize,
                                    int attempts) {
        return new Destination(id, format, receiver.uri("/v1/batch"), auth, auth == Destination.Auth.NONE ? null : "SECRET",
                Set.of("*"), Set.of(ChangeType.ENTER, ChangeType.EXIT), batchSize, Duration.ofMillis(200), 0, 8, attempts,
                Duration.ofMinutes(1), Duration.ofMillis(50), Duration.ofSeconds(2), Duration.ofSeconds(1),
                List.of("traits", "scores"));
    }

    static SegmentChange change(String user, String segment, ChangeType type, long ordinal) {
        return SegmentChange.of(user, segment, segment, type, T0 + ordinal * 60_000, ordinal, System.currentTimeMillis(),
                Cause.rule(segment, "v1"), Map.of(), "none");
    }
}
