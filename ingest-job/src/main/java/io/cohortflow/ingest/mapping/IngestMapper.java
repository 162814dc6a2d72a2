package io.cohortflow.ingest.mapping;

import io.cohortflow.core.config.ConfFiles;
import io.cohortflow.core.event.EventTaxonomy;

import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Maps any raw payload onto the universal schema: a source with a mapping in conf/sources/ goes through it, every
 * other source (web, ios, android, server, ...) is read as Segment-spec JSON. Never throws on input.
 */
public final class IngestMapper implements Serializable {
    private static final long serialVersionUID = 1L;

    /** The shipped source mappings, on the classpath of every jar. */
    public static final List<String> SHIPPED_SOURCES = List.of("stripe", "zendesk", "hubspot", "salesforce",
            "online-retail");

    private final PayloadParser parser;
    private final SegmentSpecMapper segment;
    private final Map<String, WebhookMapper> webhooks;

    /** The most a batch record may take by default; each call in it is held to the per-call cap on its own. */
    public static final int DEFAULT_MAX_BATCH_BYTES = 4 * 1024 * 1024;

    public IngestMapper(EventTaxonomy taxonomy, List<SourceMapping> mappings, int maxEventBytes,
                        Duration futureTolerance, Duration pastTolerance) {
        this(taxonomy, mappings, maxEventBytes, DEFAULT_MAX_BATCH_BYTES, futureTolerance, pastTolerance);
    }

    public IngestMapper(EventTaxonomy taxonomy, List<SourceMapping> mappings, int maxEventBytes, int maxBatchBytes,
                        Duration futureTolerance, Duration pastTolerance) {
        EventNormalizer normalizer = new EventNormalizer(taxonomy, futureTolerance, pastTolerance);
        this.parser = new PayloadParser(maxEventBytes, maxBatchBytes);
        this.segment = new SegmentSpecMapper(normalizer, maxEventBytes);
        Map<String, WebhookMapper> bySource = new HashMap<>();
        for (SourceMapping mapping : mappings) {
            if (bySource.put(mapping.source(), new WebhookMapper(mapping, normalizer)) != null) {
                throw new IllegalArgumentException("two mappings for source " + mapping.source());
            }
        }
        this.webhooks = Map.copyOf(bySource);
    }

    /** The shipped mappings, or every *.yaml in {@code dir} when given. */
    public static List<SourceMapping> loadMappings(String dir) {
        if (dir == null) {
            return SHIPPED_SOURCES.stream()
                    .map(s -> ConfFiles.read(ConfFiles.defaultLocation("sources/" + s + ".yaml"), SourceMapping.class))
                    .toList();
        }
        try (Stream<Path> files = Files.list(Path.of(dir))) {
            return files.filter(f -> f.toString().endsWith(".yaml")).sorted()
                    .map(f -> ConfFiles.read(f.toString(), SourceMapping.class)).toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list source mappings in " + dir, e);
        }
    }

    public MappingOutcome map(RawEvent raw) {
        WebhookMapper webhook = webhooks.get(raw.source());
        PayloadParser.Parsed parsed = parser.parse(raw.payload(), webhook != null && webhook.manyRows());
        if (parsed.rejected() != null) {
            return new MappingOutcome().reject(parsed.rejected().reason(), parsed.rejected().detail(), null);
        }
        return webhook != null ? webhook.map(parsed.json(), raw) : segment.map(parsed.json(), raw);
    }
}
