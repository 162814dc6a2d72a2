package io.cohortflow.console.api;

import io.cohortflow.core.segment.SegmentDefinition;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The running segment definitions as the segmentation job sees them: the starting file (conf/segments.yaml), then
 * segments.definitions, the last word per id winning, a deletion removing the id. Held in memory: a few hundred
 * definitions at most.
 */
public final class Definitions {
    /** A running definition and where its last word came from ({@code file} or {@code topic}). */
    public record Entry(SegmentDefinition definition, String source) {
    }

    private final Map<String, Entry> running = new TreeMap<>();

    private final List<SegmentDefinition> starting;

    public Definitions(List<SegmentDefinition> starting) {
        this.starting = List.copyOf(starting);
        reset();
    }

    /** Back to the starting file alone: the topic is about to be read again from its start. */
    public synchronized void reset() {
        running.clear();
        starting.forEach(d -> running.put(d.id(), new Entry(d, "file")));
    }

    public synchronized void apply(SegmentDefinition definition) {
        if (definition.deleted()) {
            running.remove(definition.id());
        } else {
            running.put(definition.id(), new Entry(definition, "topic"));
        }
    }

    public synchronized List<Entry> all() {
        return List.copyOf(running.values());
    }

    public synchronized Optional<Entry> get(String id) {
        return Optional.ofNullable(running.get(id));
    }
}
