package io.cohortflow.activation;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.stream.Collectors;

/**
 * Delivers activations to one destination over HTTP, at least once: batches them (size and linger), keeps the
 * destination's rate limit, retries a failed batch (5xx, 429 honouring Retry-After, 408, timeouts, connection errors)
 * with exponential backoff and jitter, and gives a change up as a dead letter after the configured attempts or age, or
 * at once when the destination refuses it (any other 4xx). Nothing is dropped: every submitted activation's future
 * completes with an {@link Outcome}, delivered or not.
 *
 * <p><b>Per-user order.</b> A user's activation is not sent until their previous one has its outcome, so an EXIT never
 * reaches the destination before the ENTER it follows (if the ENTER is dead-lettered, the EXIT still goes: the
 * destination then learns the user is out).
 *
 * <p><b>Idempotency.</b> Each request carries an {@code Idempotency-Key}: the change id when it holds one change,
 * else a name-based UUID of its change ids; a retry sends the same key. In the segment format each message's
 * {@code messageId} is derived from its change id as well.
 *
 * <p><b>Auth.</b> Bearer: {@code Authorization: Bearer <secret>}. HMAC: {@code X-Signature-Timestamp} (Unix seconds)
 * and {@code X-Signature}, the hex HMAC-SHA256 of {@code timestamp + "." + body}, made afresh at every attempt (the
 * collector's {@code hmac-sha256} webhook scheme, so one cohortflow can feed another).
 *
 * <p>Thread-safe; callbacks run on the HTTP client's and the scheduler's threads, which belong to the caller. What is
 * queued or in flight when the caller stops is the caller's to submit again (the job's async operator keeps it in its
 * checkpointed queue).
 */
public final class DestinationClient {
    /** What became of one activation. */
    public record Outcome(Activation activation, boolean delivered, int attempts, int status, String reason,
                          long firstAttemptMillis, long doneMillis, String payload) {
    }

    /** Counts for the destination's metrics. */
    public interface Listener {
        /** A batch arrived; latency from the change's making (its processing time) to the destination's answer. */
        void delivered(int changes, long latencyMillis);

        /** A request failed (any status but 2xx, or no answer). */
        void failed(int changes, String why);

        /** A failed batch is tried again. */
        void retried(int changes);

        /** Changes given up, each to the dead-letter topic. */
        void deadLettered(int changes, String reason);
    }

    private static final DateTimeFormatter HTTP_DATE = DateTimeFormatter.RFC_1123_DATE_TIME;

    private final Destination destination;
    private final byte[] secret;
    private final HttpClient http;
    private final ScheduledExecutorService scheduler;
    private final Listener listener;
    private final LongSupplier wallClock;
    /** User id -> the future of their latest submitted activation (the tail of their chain). */
    private final Map<String, CompletableFuture<Outcome>> tails = new HashMap<>();
    private List<Pending> batch = new ArrayList<>();
    private long batchGeneration;
    /** The earliest time (nanoTime) the next request may start: the rate limit. */
    private long nextRequestNanos = Long.MIN_VALUE;
    /** Requests in flight, at most the destination's concurrency; the rest wait here in order. */
    private int inFlight;
    /** Set when the owner stops: from then on nothing is sent, scheduled or completed (see {@link #close}). */
    private volatile boolean closed;
    private final java.util.ArrayDeque<Runnable> waitingForSlot = new java.util.ArrayDeque<>();

    private record Pending(Activation activation, CompletableFuture<Outcome> result) {
    }

    /**
     * @param secret the token or HMAC secret (null with no auth); the caller reads it from the environment variable
     *               the destination names
     */
    public DestinationClient(Destination destination, String secret, HttpClient http,
                             ScheduledExecutorService scheduler, Listener listener, LongSupplier wallClock) {
        if (destination.auth() != Destination.Auth.NONE && (secret == null || secret.isEmpty())) {
            throw new IllegalArgumentException("destination " + destination.id() + " needs its secret in "
                    + destination.secretEnv());
        }
        this.destination = destination;
        this.secret = secret == null ? null : secret.getBytes(StandardCharsets.UTF_8);
        this.http = http;
        this.scheduler = scheduler;
        this.listener = listener;
        this.wallClock = wallClock;
    }

    /** Queues an activation behind the user's previous one; the future completes with its outcome, never exceptionally. */
    public CompletableFuture<Outcome> submit(Activation activation) {
        String user = activation.change().userId();
        CompletableFuture<Outcome> mine;
        synchronized (this) {
            CompletableFuture<Outcome> previous = tails.get(user);
            mine = previous == null ? enqueue(activation)
                    : previous.thenCompose(done -> enqueue(activation));
            tails.put(user, mine);
        }
        mine.whenComplete((outcome, error) -> {
            synchronized (this) {
                tails.remove(user, mine);
            }
        });
        return mine;
    }

    private CompletableFuture<Outcome> enqueue(Activation activation) {
        CompletableFuture<Outcome> result = new CompletableFuture<>();
        if (closed) {
            return result;
        }
        List<Pending> full = null;
        synchronized (this) {
            batch.add(new Pending(activation, result));
            if (batch.size() >= destination.batchSize()) {
                full = takeBatch();
            } else if (batch.size() == 1) {
                long generation = batchGeneration;
                scheduler.schedule(() -> flushIfStill(generation), destination.linger().toMillis(), TimeUnit.MILLISECONDS);
            }
        }
        if (full != null) {
            send(full);
        }
        return result;
    }

    private void flushIfStill(long generation) {
        if (closed) {
            return;
        }
        List<Pending> due = null;
        synchronized (this) {
            if (generation == batchGeneration && !batch.isEmpty()) {
                due = takeBatch();
            }
        }
        if (due != null) {
            send(due);
        }
    }

    private List<Pending> takeBatch() {
        List<Pending> taken = batch;
        batch = new ArrayList<>();
        batchGeneration++;
        return taken;
    }

    private void send(List<Pending> pending) {
        List<Activation> activations = pending.stream().map(Pending::activation).toList();
        byte[] body;
        try {
            body = Payloads.body(destination, activations);
        } catch (RuntimeException e) {
            finish(pending, null, 1, 0, "cannot build the payload: " + e.getMessage(), wallClock.getAsLong());
            return;
        }
        String key = pending.size() == 1 ? activations.get(0).change().changeId()
                : UUID.nameUUIDFromBytes(activations.stream().map(a -> a.change().changeId())
                        .collect(Collectors.joining(",")).getBytes(StandardCharsets.UTF_8)).toString();
        attempt(new Attempt(pending, body, key, wallClock.getAsLong(), System.nanoTime()), 1);
    }

    /** One batch on its way: the same body and key at every attempt. */
    private record Attempt(List<Pending> pending, byte[] body, String idempotencyKey, long firstMillis, long firstNanos) {
    }

    private void attempt(Attempt a, int number) {
        if (closed) {
            return;
        }
        long wait = reserveRequestSlot();
        if (wait > 0) {
            scheduler.schedule(() -> whenFree(() -> request(a, number)), wait, TimeUnit.NANOSECONDS);
        } else {
            whenFree(() -> request(a, number)); // request() never throws: it ends every failure in an outcome
        }
    }

    /** Runs {@code send} now if fewer than the concurrency are in flight, else when one finishes. */
    private void whenFree(Runnable send) {
        synchronized (this) {
            if (inFlight >= destination.concurrency()) {
                waitingForSlot.add(send);
                return;
            }
            inFlight++;
        }
        send.run();
    }

    /** A request finished: its slot goes to the next waiting one, if any. */
    private void released() {
        Runnable next;
        synchronized (this) {
            next = waitingForSlot.poll();
            if (next == null) {
                inFlight--;
                return;
            }
        }
        next.run();
    }

    private synchronized long reserveRequestSlot() {
        if (destination.requestsPerSecond() <= 0) {
            return 0;
        }
        long now = System.nanoTime();
        long at = nextRequestNanos == Long.MIN_VALUE ? now : Math.max(now, nextRequestNanos);
        nextRequestNanos = at + (long) (1e9 / destination.requestsPerSecond());
        return at - now;
    }

    private void request(Attempt a, int number) {
        if (closed) {
            return;
        }
        CompletableFuture<HttpResponse<String>> response;
        try {
            // Building the request can throw too (a secret that is no valid header value): the slot and the batch's
            // outcome must not be lost with it.
            response = http.sendAsync(build(a), HttpResponse.BodyHandlers.ofString());
        } catch (RuntimeException e) {
            released();
            giveUpOnError(a, number, 0, "cannot send: " + describe(e));
            return;
        }
        response.whenComplete((r, error) -> {
            if (closed) {
                return; // the owner has stopped: a restored instance sends this batch again
            }
            try {
                answered(a, number, r, error);
            } catch (RuntimeException unexpected) { // never leave a change without an outcome
                finish(a.pending(), a, number, r == null ? 0 : r.statusCode(),
                        "internal error after the answer: " + unexpected, wallClock.getAsLong());
            } finally {
                released(); // after this batch's outcome: the next send runs on this thread
            }
        });
    }

    private HttpRequest build(Attempt a) {
        HttpRequest.Builder request = HttpRequest.newBuilder(destination.endpoint())
                .timeout(destination.timeout())
                .header("Content-Type", "application/json")
                .header("Idempotency-Key", a.idempotencyKey())
                .header("User-Agent", "cohortflow-activation/1")
                .POST(HttpRequest.BodyPublishers.ofByteArray(a.body()));
        switch (destination.auth()) {
            case BEARER -> request.header("Authorization", "Bearer " + new String(secret, StandardCharsets.UTF_8));
            case HMAC -> {
                String timestamp = Long.toString(wallClock.getAsLong() / 1000);
                request.header("X-Signature-Timestamp", timestamp);
                request.header("X-Signature", sign(timestamp, a.body()));
            }
            case NONE -> { }
        }
        return request.build();
    }

    /** A request that could not even be made is not retried (it would fail the same way): its changes are given up. */
    private void giveUpOnError(Attempt a, int number, int status, String why) {
        listener.failed(a.pending().size(), why);
        finish(a.pending(), a, number, status, why, wallClock.getAsLong());
    }

    private void answered(Attempt a, int number, HttpResponse<String> r, Throwable error) {
        if (error != null) {
            retryOrGiveUp(a, number, 0, describe(error), -1);
        } else if (r.statusCode() / 100 == 2) {
            finish(a.pending(), a, number, r.statusCode(), null, wallClock.getAsLong());
        } else if (r.statusCode() == 429 || r.statusCode() == 408 || r.statusCode() / 100 == 5) {
            retryOrGiveUp(a, number, r.statusCode(), "HTTP " + r.statusCode() + excerpt(r.body()),
                    retryAfterNanos(r.headers().firstValue("Retry-After").orElse(null)));
        } else {
            listener.failed(a.pending().size(), "HTTP " + r.statusCode());
            finish(a.pending(), a, number, r.statusCode(), "refused: HTTP " + r.statusCode() + excerpt(r.body()),
                    wallClock.getAsLong());
        }
    }

    /** A retryable failure: again after the backoff (or Retry-After), unless attempts or age are used up. */
    private void retryOrGiveUp(Attempt a, int number, int status, String why, long retryAfterNanos) {
        listener.failed(a.pending().size(), why);
        long backoff = Math.min(destination.maxBackoff().toNanos(),
                destination.backoff().toNanos() << Math.min(20, number - 1));
        long delay = backoff / 2 + ThreadLocalRandom.current().nextLong(backoff / 2 + 1); // equal jitter
        delay = Math.max(delay, retryAfterNanos);
        long age = System.nanoTime() + delay - a.firstNanos();
        if (number >= destination.maxAttempts() || age > destination.maxAge().toNanos()) {
            String limit = number >= destination.maxAttempts() ? number + " attempts"
                    : "retrying past the max age of " + destination.maxAge();
            finish(a.pending(), a, number, status, "gave up after " + limit + ": " + why, wallClock.getAsLong());
            return;
        }
        listener.retried(a.pending().size());
        scheduler.schedule(() -> {
            try {
                attempt(a, number + 1);
            } catch (RuntimeException unexpected) { // a scheduled task's exception would be lost with its changes
                finish(a.pending(), a, number, status, "internal error before attempt " + (number + 1) + ": "
                        + unexpected, wallClock.getAsLong());
            }
        }, delay, TimeUnit.NANOSECONDS);
    }

    /**
     * Stops: nothing more is sent, retried or completed, even for requests still in flight (their answers are
     * ignored). The owner's restored successor submits what had no outcome again, in order; without this, a stopped
     * client's queued sends could still go out and overtake a user's changes re-sent by the successor.
     */
    public void close() {
        closed = true;
        synchronized (this) {
            waitingForSlot.clear();
            batch.clear();
        }
    }

    /**
     * Tells the listener, then completes every change of the batch (a second call changes nothing): the counts are up
     * to date when an outcome is seen, and a listener that throws still leaves no change without its outcome.
     */
    private void finish(List<Pending> pending, Attempt a, int attempts, int status, String reason, long now) {
        long first = a == null ? now : a.firstMillis();
        try {
            if (reason == null) {
                long latency = pending.stream().mapToLong(p -> now - p.activation().change().processingTime())
                        .max().orElse(0);
                listener.delivered(pending.size(), latency);
            } else {
                listener.deadLettered(pending.size(), reason);
            }
        } finally {
            for (Pending p : pending) {
                p.result().complete(new Outcome(p.activation(), reason == null, attempts, status, reason, first, now,
                        reason == null ? null : payloadOf(p.activation())));
            }
        }
    }

    /** The body this change would have gone in alone, for its dead letter; a note when even that cannot be built. */
    private String payloadOf(Activation activation) {
        try {
            return new String(Payloads.body(destination, List.of(activation)), StandardCharsets.UTF_8);
        } catch (RuntimeException e) {
            return "(the payload cannot be built: " + e.getMessage() + ")";
        }
    }

    String sign(String timestamp, byte[] body) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret, "HmacSHA256"));
            mac.update((timestamp + ".").getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(mac.doFinal(body));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is part of every JDK", e);
        }
    }

    /** Retry-After as seconds or an HTTP date, in nanoseconds from now; -1 when absent or unreadable. */
    long retryAfterNanos(String header) {
        if (header == null || header.isBlank()) {
            return -1;
        }
        try {
            return Duration.ofSeconds(Math.max(0, Long.parseLong(header.trim()))).toNanos();
        } catch (NumberFormatException e) {
            try {
                long millis = ZonedDateTime.parse(header.trim(), HTTP_DATE).toInstant().toEpochMilli() - wallClock.getAsLong();
                return Math.max(0, millis) * 1_000_000L;
            } catch (DateTimeParseException unreadable) {
                return -1;
            }
        }
    }

    private static String describe(Throwable error) {
        Throwable cause = error instanceof java.util.concurrent.CompletionException && error.getCause() != null
                ? error.getCause() : error;
        String kind = cause instanceof java.net.http.HttpTimeoutException ? "timed out"
                : cause instanceof java.net.ConnectException ? "connection refused"
                : cause instanceof IOException ? "I/O error" : cause.getClass().getSimpleName();
        return kind + (cause.getMessage() == null ? "" : ": " + cause.getMessage());
    }

    private static String excerpt(String body) {
        if (body == null || body.isBlank()) {
            return "";
        }
        String line = body.strip().replaceAll("\\s+", " ");
        return " (" + (line.length() > 200 ? line.substring(0, 200) + "…" : line) + ")";
    }

}
