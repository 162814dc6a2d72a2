package io.cohortflow.segmentation;

import io.cohortflow.core.engine.Outcome;
import io.cohortflow.core.engine.Ruleset;
import io.cohortflow.core.engine.UserSegments;
import io.cohortflow.core.event.EventTaxonomy;
import io.cohortflow.core.event.EventType;
import io.cohortflow.core.event.UnifiedEvent;
import io.cohortflow.core.event.UnifiedEventCodec;
import io.cohortflow.core.feature.FeatureConfig;
import io.cohortflow.core.identity.IdentityLink;
import io.cohortflow.core.scoring.Scorer;
import io.cohortflow.core.segment.SegmentRules;
import io.cohortflow.ingest.mapping.IngestMapper;
import io.cohortflow.ingest.mapping.RawEvent;
import io.cohortflow.simulator.Delivery;
import io.cohortflow.simulator.Simulator;
import io.cohortflow.simulator.SimulatorConfig;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The job reads events keeping of their maps only what the engine reads ({@link SegmentationJob#EVENTS},
 * {@link UserSegments#EVENT_FIELDS_READ}). Over simulated histories (every source the simulator sends, mapped by
 * ingest's mapper; identifies carrying identity links as stitching marks them), engines fed the events so read decide
 * exactly as engines fed whole events: the same changes, profiles, hand-offs and wake-ups at every step. A property,
 * trait or context key the engine reads but the list lacks shows here as a different feature, trait or link.
 */
class EventFieldsReadTest {
    @Test
    void theEngineDecidesTheSameOnEventsKeepingOnlyWhatItReads() {
        IngestMapper mapper = new IngestMapper(EventTaxonomy.defaults(), IngestMapper.loadMappings(null), 32 * 1024,
                Duration.ofHours(1), Duration.ofDays(3650));
        List<UnifiedEvent> events = new ArrayList<>();
        for (Delivery d : new Simulator(SimulatorConfig.of(23, 300, 20, Instant.parse("2026-03-02T00:00:00Z")))) {
            for (UnifiedEvent e : mapper.map(new RawEvent(d.payload(), d.source(), d.deliveredAt())).events()) {
                boolean links = e.type() == EventType.IDENTIFY && e.anonymousId() != null && e.userId() != null;
                events.add(links ? IdentityLink.annotate(e, e.anonymousId()) : e);
            }
        }
        events.sort(Comparator.comparingLong(UnifiedEvent::timestamp));
        FeatureConfig config = FeatureConfig.defaults();
        Ruleset rules = Ruleset.of(config, EventTaxonomy.defaults().canonicalNames().stream().sorted().toList(),
                Duration.ofDays(90), SegmentRules.defaults(), Scorer.NONE);
        UnifiedEventCodec binary = new UnifiedEventCodec.Binary();
        UnifiedEventCodec whole = new UnifiedEventCodec();
        Map<String, UserSegments> fedWhole = new HashMap<>();
        Map<String, UserSegments> fedKept = new HashMap<>();
        long wholeBytes = 0;
        long keptBytes = 0;
        int changes = 0;
        int traits = 0;
        int links = 0;
        for (UnifiedEvent event : events) {
            byte[] record = binary.encode(event);
            UnifiedEvent all = whole.decode(record);
            UnifiedEvent kept = SegmentationJob.EVENTS.decode(record);
            wholeBytes += record.length;
            keptBytes += binary.encode(kept).length;
            String id = event.resolvedId();
            Outcome expected = fedWhole.computeIfAbsent(id, k -> new UserSegments()).apply(id, all, rules, 0);
            Outcome actual = fedKept.computeIfAbsent(id, k -> new UserSegments()).apply(id, kept, rules, 0);
            assertThat(actual.changes()).as("changes of %s", event.messageId()).isEqualTo(expected.changes());
            assertThat(actual.profile()).as("profile after %s", event.messageId()).isEqualTo(expected.profile());
            assertThat(actual.handoffs()).as("hand-offs of %s", event.messageId()).isEqualTo(expected.handoffs());
            assertThat(actual.wakeUp()).as("wake-up after %s", event.messageId()).isEqualTo(expected.wakeUp());
            changes += expected.changes().size();
            traits += expected.profile().map(p -> p.traits().isEmpty() ? 0 : 1).orElse(0);
            links += IdentityLink.of(kept).isPresent() ? 1 : 0;
        }
        assertThat(changes).as("changes made").isGreaterThan(1_000);
        assertThat(traits).as("profiles with traits (products, cart, contact details)").isGreaterThan(1_000);
        assertThat(links).as("identity links kept").isGreaterThan(50);
        assertThat(keptBytes).as("what the job carries of the events").isLessThan(wholeBytes * 3 / 4);
    }
}
