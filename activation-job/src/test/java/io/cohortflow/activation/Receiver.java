package io.cohortflow.activation;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiFunction;
import java.util.function.IntFunction;

/**
 * A real HTTP server (the JDK's) standing in for a destination: it records every request (headers, body, when) and
 * answers as its script says for the n-th request: accept, fail with a status, answer slowly, or not in time.
 */
final class Receiver implements AutoCloseable {
    /** How to answer one request. */
    record Answer(int status, long delayMillis, Map<String, String> headers) {
        static Answer ok() {
            return new Answer(200, 0, Map.of());
        }

        static Answer status(int status) {
            return new Answer(status, 0, Map.of());
        }

        static Answer slow(long millis) {
            return new Answer(200, millis, Map.of());
        }
    }

    /** One request as received, and the status it was answered with. */
    record Request(int number, Map<String, String> headers, byte[] body, long receivedAt, int status) {
        String header(String name) {
            return headers.get(name.toLowerCase(java.util.Locale.ROOT));
        }

        String text() {
            return new String(body, StandardCharsets.UTF_8);
        }
    }

    private final HttpServer server;
    private final List<Request> requests = new ArrayList<>();
    private final AtomicInteger count = new AtomicInteger();

    Receiver(IntFunction<Answer> script) throws IOException {
        this((n, body) -> script.apply(n));
    }

    /** {@code script} answers the n-th request (from 1), given its body. */
    Receiver(BiFunction<Integer, byte[], Answer> script) throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.setExecutor(Executors.newFixedThreadPool(16));
        server.createContext("/", exchange -> answer(exchange, script));
        server.start();
    }

    private void answer(HttpExchange exchange, BiFunction<Integer, byte[], Answer> script) throws IOException {
        int number = count.incrementAndGet();
        byte[] body = exchange.getRequestBody().readAllBytes();
        Map<String, String> headers = new TreeMap<>();
        exchange.getRequestHeaders().forEach((k, v) -> headers.put(k.toLowerCase(java.util.Locale.ROOT), v.get(0)));
        Answer answer = script.apply(number, body);
        if (answer.delayMillis() > 0) {
            try {
                Thread.sleep(answer.delayMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        synchronized (requests) {
            requests.add(new Request(number, headers, body, System.currentTimeMillis(), answer.status()));
        }
        answer.headers().forEach((k, v) -> exchange.getResponseHeaders().add(k, v));
        byte[] reply = (answer.status() / 100 == 2 ? "{\"ok\":true}" : "{\"error\":\"scripted " + answer.status() + "\"}")
                .getBytes(StandardCharsets.UTF_8);
        try {
            exchange.sendResponseHeaders(answer.status(), reply.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(reply);
            }
        } catch (IOException clientGone) {
            // the client timed out and closed: what it sent is still recorded
        }
    }

    URI uri(String path) {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + path);
    }

    List<Request> requests() {
        synchronized (requests) {
            return List.copyOf(requests);
        }
    }

    /** The requests answered 2xx. */
    List<Request> accepted() {
        return requests().stream().filter(r -> r.status() / 100 == 2).toList();
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
