package io.cohortflow.local;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.cohortflow.simulator.Delivery;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.stream.Stream;

/**
 * Raw records from files, for a local run on data of one's own instead of the simulator: a JSON-lines file (one
 * record per non-blank line, as an SDK or webhook would post it), or a directory with one record per file (any
 * bytes: binary payloads, or JSON with newlines), taken in file-name order. Each becomes a delivery into events.raw
 * with the given source header, received now, keyed as the collector keys it (the anonymousId, else the userId, when
 * the record is JSON that has one) so that one device's records keep their order.
 */
final class RecordFiles implements Iterable<Delivery> {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path path;
    private final String source;

    RecordFiles(Path path, String source) {
        if (!Files.exists(path)) {
            throw new IllegalArgumentException("--input " + path + ": no such file or directory");
        }
        this.path = path;
        this.source = source;
    }

    @Override
    public Iterator<Delivery> iterator() {
        return Files.isDirectory(path) ? files() : lines();
    }

    private Iterator<Delivery> files() {
        List<Path> files;
        try (Stream<Path> list = Files.list(path)) {
            files = list.filter(Files::isRegularFile).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Iterator<Path> each = files.iterator();
        return new Iterator<>() {
            @Override
            public boolean hasNext() {
                return each.hasNext();
            }

            @Override
            public Delivery next() {
                try {
                    return delivery(Files.readAllBytes(each.next()));
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
        };
    }

    private Iterator<Delivery> lines() {
        BufferedReader reader;
        try {
            reader = Files.newBufferedReader(path, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return new Iterator<>() {
            private String next = advance();

            private String advance() {
                try {
                    String line;
                    while ((line = reader.readLine()) != null) {
                        if (!line.isBlank()) {
                            return line;
                        }
                    }
                    reader.close();
                    return null;
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }

            @Override
            public boolean hasNext() {
                return next != null;
            }

            @Override
            public Delivery next() {
                if (next == null) {
                    throw new NoSuchElementException();
                }
                String line = next;
                next = advance();
                return delivery(line.getBytes(StandardCharsets.UTF_8));
            }
        };
    }

    private Delivery delivery(byte[] payload) {
        return new Delivery(key(payload), source, payload, System.currentTimeMillis(), "file");
    }

    /** The anonymousId, else the userId, of a JSON object; null for anything else (ingest judges it). */
    static String key(byte[] payload) {
        try {
            JsonNode node = JSON.readTree(payload);
            if (node != null && node.isObject()) {
                for (String field : new String[] {"anonymousId", "userId"}) {
                    JsonNode id = node.get(field);
                    if (id != null && (id.isTextual() || id.isNumber()) && !id.asText().isBlank()) {
                        return id.asText();
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            // not JSON: no key; ingest dead-letters it with its reason
        }
        return null;
    }
}
