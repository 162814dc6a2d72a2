package io.cohortflow.simulator;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Writes deliveries as JSON lines, one file per source ({@code web.jsonl}, {@code stripe.jsonl}, ...), each line the
 * payload exactly as received. Malformed payloads are kept (the simulator's broken payloads contain no newline), so a
 * backfill of these files exercises the dead-letter path too.
 */
public final class JsonlDeliverySink implements DeliverySink {
    private final Path dir;
    private final Map<String, OutputStream> files = new LinkedHashMap<>();

    public JsonlDeliverySink(Path dir) {
        this.dir = dir;
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void send(Delivery delivery) {
        try {
            OutputStream out = files.computeIfAbsent(delivery.source(), this::open);
            out.write(delivery.payload());
            out.write('\n');
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private OutputStream open(String source) {
        try {
            return new BufferedOutputStream(Files.newOutputStream(dir.resolve(source + ".jsonl")), 1 << 16);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void flush() {
        try {
            for (OutputStream out : files.values()) {
                out.flush();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        flush();
        try {
            for (OutputStream out : files.values()) {
                out.close();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
