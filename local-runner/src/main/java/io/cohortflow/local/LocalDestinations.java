package io.cohortflow.local;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.cohortflow.activation.Destination;
import io.cohortflow.activation.Undelivered;
import io.cohortflow.collector.Webhooks;
import io.cohortflow.core.segment.SegmentChange;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;

/**
 * The local run's destinations: one real HTTP server (the JDK's) standing in for every destination of
 * conf/destinations, at a path per destination id, so that the activation job delivers on the local machine as it
 * would to an ad platform or a CRM. Each destination's secret is made for the run. The server checks the auth a
 * destination declares (the HMAC signature with the collector's verifier, or the bearer token) and answers every
 * n-th authenticated request 503 on purpose, so that the run exercises the job's retries.
 *
 * <p>It keeps the books: every change the feed shows that a destination takes is owed to it ({@link #owe}); a change
 * is settled when the server accepts a request carrying it, or when activation.dlq names it. A change accepted twice
 * (a retry whose first answer was lost, a replay after a restore) counts as delivered twice, with the same id.
 *
 * <p>The campaign audience's entries become "Complete The Look" creatives, as the seed's ad platform makes them: the
 * look is the first product of the audience call (the cart's first item, else the last viewed), and the complement
 * the dearest of the others (the cart's other items and the viewed products) in another category.
 */
final class LocalDestinations implements AutoCloseable {
    private static final ObjectMapper JSON = JsonMapper.builder().build();
    /** How many settled change ids are remembered to recognise a redelivery. */
    private static final int REMEMBERED = 500_000;

    /** A creative the ad platform made for someone who entered the campaign's audience. */
    record Creative(String userId, String look, String complement, String emailSha256, String cause) {
        String line() {
            String match = emailSha256 == null ? "by user id"
                    : "matched by email sha256 " + emailSha256.substring(0, Math.min(8, emailSha256.length())) + "…";
            return "\"Complete The Look\" for " + userId + ": " + (look == null ? "no products on the profile"
                    : look + (complement == null ? "" : " + " + complement)) + "  (" + match + "; " + cause + ")";
        }
    }

    /** One destination's books. */
    record Tally(long owed, long delivered, long deadLettered, long pending, long redelivered, long requests,
                 long failedOnPurpose, long refused) {
    }

    private final List<Destination> destinations;
    private final Map<String, String> secrets = new TreeMap<>();
    private final Map<String, String> secretOf = new TreeMap<>();
    private final int failEvery;
    private final AtomicLong requests = new AtomicLong();
    private final String campaignAudience;
    private final Predicate<String> printFor;
    private final PrintStream out;
    private final HttpServer server;
    private final ExecutorService executor = Executors.newFixedThreadPool(8, r -> {
        Thread t = new Thread(r, "local-destinations");
        t.setDaemon(true);
        return t;
    });

    private final Map<String, Book> books = new ConcurrentHashMap<>();
    private final List<Creative> creatives = java.util.Collections.synchronizedList(new ArrayList<>());
    private final Map<String, AtomicLong> deadLetterReasons = new ConcurrentHashMap<>();
    private volatile long lastRequestNanos = System.nanoTime();

    /** The counts and open ids of one destination. Methods synchronised on the book. */
    private static final class Book {
        long owed;
        long delivered;
        long deadLettered;
        long redelivered;
        final AtomicLong requests = new AtomicLong();
        final AtomicLong failedOnPurpose = new AtomicLong();
        final AtomicLong refused = new AtomicLong();
        /** Owed and not settled yet. */
        final Set<String> pending = new java.util.HashSet<>();
        /** Settled before the feed showed them (the feed and the job read segments.changes independently). */
        final Set<String> early = new java.util.HashSet<>();
        /** Recently settled, to tell a redelivery. */
        final Map<String, Boolean> settled = new LinkedHashMap<>(1024, 0.75f, false) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
                return size() > REMEMBERED;
            }
        };

        synchronized void owe(String changeId) {
            if (early.remove(changeId)) {
                owed++;
            } else if (!settled.containsKey(changeId) && pending.add(changeId)) {
                owed++; // (a change shown twice is owed once)
            }
        }

        /** Whether this is the change's first outcome here (not a redelivery). */
        synchronized boolean settle(String changeId, boolean deliveredNow) {
            if (settled.put(changeId, deliveredNow) != null) {
                if (deliveredNow) {
                    redelivered++;
                }
                pending.remove(changeId);
                return false;
            }
            if (deliveredNow) {
                delivered++;
            } else {
                deadLettered++;
            }
            if (!pending.remove(changeId)) {
                early.add(changeId);
            }
            return true;
        }

        synchronized Tally tally() {
            return new Tally(owed, delivered, deadLettered, pending.size(), redelivered, requests.get(),
                    failedOnPurpose.get(), refused.get());
        }
    }

    /**
     * @param failEvery        every how many requests one is answered 503 on purpose (0: none)
     * @param campaignAudience the segment whose entries get a "Complete The Look" creative
     * @param printFor         whose creatives to print as they come
     */
    LocalDestinations(List<Destination> destinations, int failEvery, String campaignAudience,
                      Predicate<String> printFor, PrintStream out) throws IOException {
        this.destinations = List.copyOf(destinations);
        this.failEvery = failEvery;
        this.campaignAudience = campaignAudience;
        this.printFor = printFor;
        this.out = out;
        SecureRandom random = new SecureRandom();
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 64);
        server.setExecutor(executor);
        for (Destination destination : this.destinations) {
            books.put(destination.id(), new Book());
            if (destination.auth() != Destination.Auth.NONE) {
                byte[] secret = new byte[24];
                random.nextBytes(secret);
                String value = HexFormat.of().formatHex(secret);
                secrets.put(destination.secretEnv(), value);
                secretOf.put(destination.id(), value);
            }
            server.createContext("/" + destination.id(), exchange -> answer(destination, exchange));
        }
        server.start();
    }

    /** Where each destination is reached here, by destination id. */
    Map<String, URI> endpoints() {
        Map<String, URI> endpoints = new TreeMap<>();
        for (Destination destination : destinations) {
            endpoints.put(destination.id(), URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/"
                    + destination.id()));
        }
        return endpoints;
    }

    /** The secrets made for the run, by the environment variable the destination files name. */
    Map<String, String> secrets() {
        return Map.copyOf(secrets);
    }

    List<Destination> destinations() {
        return destinations;
    }

    /** A change on segments.changes: owed to every destination that takes it. */
    void owe(SegmentChange change) {
        for (Destination destination : destinations) {
            if (destination.takes(change)) {
                books.get(destination.id()).owe(change.changeId());
            }
        }
    }

    /** A record of activation.dlq: the change is settled, given up. */
    void deadLettered(Undelivered undelivered) {
        Book book = books.get(undelivered.destination());
        if (book != null) {
            book.settle(undelivered.changeId(), false);
        }
        String reason = undelivered.reason() == null ? "?" : undelivered.reason().replaceAll("\\s*\\(.*", "");
        deadLetterReasons.computeIfAbsent(reason, r -> new AtomicLong()).incrementAndGet();
    }

    /** Changes owed and not settled yet, over all destinations. */
    long pending() {
        return books.values().stream().mapToLong(b -> b.tally().pending()).sum();
    }

    Duration quietFor() {
        return Duration.ofNanos(System.nanoTime() - lastRequestNanos);
    }

    Map<String, Tally> tallies() {
        Map<String, Tally> tallies = new TreeMap<>();
        books.forEach((id, book) -> tallies.put(id, book.tally()));
        return tallies;
    }

    List<Creative> creatives() {
        synchronized (creatives) {
            return List.copyOf(creatives);
        }
    }

    Map<String, Long> deadLetterReasons() {
        Map<String, Long> reasons = new TreeMap<>();
        deadLetterReasons.forEach((reason, n) -> reasons.put(reason, n.get()));
        return reasons;
    }

    private void answer(Destination destination, HttpExchange exchange) throws IOException {
        lastRequestNanos = System.nanoTime();
        Book book = books.get(destination.id());
        book.requests.incrementAndGet();
        byte[] body = exchange.getRequestBody().readAllBytes();
        String refusal = checkAuth(destination, exchange, body);
        if (refusal != null) {
            book.refused.incrementAndGet();
            reply(exchange, 401, "{\"error\":\"" + refusal.replace("\"", "'") + "\"}");
            return;
        }
        if (failEvery > 0 && requests.incrementAndGet() % failEvery == 0) {
            book.failedOnPurpose.incrementAndGet();
            reply(exchange, 503, "{\"error\":\"unavailable (on purpose: the local run exercises retries)\"}");
            return;
        }
        JsonNode json;
        try {
            json = JSON.readTree(body);
        } catch (IOException e) {
            reply(exchange, 400, "{\"error\":\"not JSON\"}");
            return;
        }
        if (destination.format() == Destination.Format.SEGMENT) {
            acceptSegmentBatch(book, json.path("batch"));
        } else {
            for (JsonNode change : json.path("changes")) {
                book.settle(change.path("changeId").asText(), true);
            }
        }
        reply(exchange, 200, "{\"ok\":true}");
    }

    private String checkAuth(Destination destination, HttpExchange exchange, byte[] body) {
        String secret = secretOf.get(destination.id());
        return switch (destination.auth()) {
            case NONE -> null;
            case BEARER -> MessageDigest.isEqual(("Bearer " + secret).getBytes(StandardCharsets.UTF_8),
                    String.valueOf(exchange.getRequestHeaders().getFirst("Authorization")).getBytes(StandardCharsets.UTF_8))
                    ? null : "bad bearer token";
            case HMAC -> Webhooks.none().verify(new Webhooks.Source(destination.id(), Webhooks.Scheme.HMAC_SHA256,
                    secret.getBytes(StandardCharsets.UTF_8)), new Webhooks.Delivery("POST",
                    exchange.getRequestURI().toString(), exchange.getRequestHeaders()::getFirst, body, Instant.now()));
        };
    }

    /** Segment's batch: an identify (with the hashed contacts) and a track per change, ids made from the change id. */
    private void acceptSegmentBatch(Book book, JsonNode batch) {
        Map<String, String> emails = new TreeMap<>();
        for (JsonNode message : batch) {
            if (message.path("type").asText().equals("identify") && message.at("/traits/email_sha256").isTextual()) {
                emails.put(changeId(message), message.at("/traits/email_sha256").asText());
            }
        }
        for (JsonNode message : batch) {
            if (!message.path("type").asText().equals("track")) {
                continue;
            }
            String changeId = changeId(message);
            boolean first = book.settle(changeId, true);
            JsonNode properties = message.path("properties");
            if (first && message.path("event").asText().equals("Audience Entered")
                    && properties.path("audience_key").asText().equals(campaignAudience)) {
                Creative creative = creative(message.path("userId").asText(), properties.path("products"),
                        emails.get(changeId), properties.path("cause").asText());
                creatives.add(creative);
                if (printFor.test(creative.userId())) {
                    out.println("  [ad platform] " + creative.line());
                }
            }
        }
    }

    /** The change a Segment message was made from: its messageId is the change id with a suffix. */
    private static String changeId(JsonNode message) {
        String messageId = message.path("messageId").asText();
        for (String suffix : List.of("-track", "-identify")) {
            if (messageId.endsWith(suffix)) {
                return messageId.substring(0, messageId.length() - suffix.length());
            }
        }
        return messageId;
    }

    private static Creative creative(String userId, JsonNode products, String email, String cause) {
        JsonNode look = products.size() > 0 ? products.get(0) : null;
        JsonNode complement = null;
        for (int i = 1; look != null && i < products.size(); i++) {
            JsonNode product = products.get(i);
            if (!product.path("category").asText().equals(look.path("category").asText()) && (complement == null
                    || product.path("price").asDouble() > complement.path("price").asDouble())) {
                complement = product;
            }
        }
        return new Creative(userId, describe(look), describe(complement), email, cause);
    }

    private static String describe(JsonNode product) {
        if (product == null) {
            return null;
        }
        String name = product.path("name").asText(product.path("product_id").asText());
        return product.path("price").isNumber()
                ? String.format(Locale.ROOT, "%s ($%.0f)", name, product.path("price").asDouble()) : name;
    }

    private static void reply(HttpExchange exchange, int status, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().add("Content-Type", "application/json");
        try {
            exchange.sendResponseHeaders(status, bytes.length);
            try (OutputStream o = exchange.getResponseBody()) {
                o.write(bytes);
            }
        } catch (IOException clientGone) {
            // the client gave up waiting: what it sent is counted all the same
        }
    }

    void printSummary(PrintStream to) {
        to.printf("activation-job (conf/destinations, delivered to the run's receiver, which answers every %d%s request "
                + "503 on purpose):%n", failEvery, failEvery == 2 ? "nd" : failEvery == 3 ? "rd" : "th");
        tallies().forEach((id, t) -> to.printf("  %-14s owed %,6d  delivered %,6d  dead-lettered %,d  pending %,d  "
                        + "(%,d requests: %,d answered 503 and retried%s; %,d changes delivered twice, same id)%n", id,
                t.owed(), t.delivered(), t.deadLettered(), t.pending(), t.requests(), t.failedOnPurpose(),
                t.refused() == 0 ? "" : String.format(", %,d refused as unauthenticated", t.refused()), t.redelivered()));
        to.printf("  activation.dlq: %s%n", deadLetterReasons().isEmpty() ? "empty" : deadLetterReasons());
        List<Creative> made = creatives();
        to.printf("  \"Complete The Look\" creatives for %s: %,d%s%n", campaignAudience, made.size(),
                made.stream().filter(c -> printFor.test(c.userId())).findFirst()
                        .map(c -> ", e.g. " + c.userId() + ": " + c.look() + " + " + c.complement()).orElse(""));
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
