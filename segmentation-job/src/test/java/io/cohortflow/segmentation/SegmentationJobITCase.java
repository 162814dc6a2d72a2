package io.cohortflow.segmentation;

import io.cohortflow.core.event.UnifiedEvent;
import io.cohortflow.core.identity.IdentityLink;
import io.cohortflow.core.identity.IdentityMerge;
import io.cohortflow.core.identity.IdentityMergeCodec;
import io.cohortflow.core.model.ModelPublishedCodec;
import io.cohortflow.core.segment.Cause;
import io.cohortflow.core.segment.ChangeType;
import io.cohortflow.core.segment.SegmentChange;
import io.cohortflow.core.segment.SegmentDefinitionCodec;
import io.cohortflow.core.segment.SegmentProfile;
import io.cohortflow.core.segment.StateHandoff;
import io.cohortflow.core.segment.StateHandoffCodec;
import io.cohortflow.core.testing.Events;
import io.cohortflow.jobs.types.JsonRecordTypeInfo;
import io.cohortflow.jobs.types.UnifiedEventTypeInfo;
import io.cohortflow.segmentation.functions.Scoring;
import io.cohortflow.testkit.MiniClusters;
import io.cohortflow.testkit.flink.BoundedSources;
import io.cohortflow.testkit.flink.CollectingSink;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Instant;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.groups.Tuple.tuple;

/**
 * The segmentation job's topology through its {@link SegmentationJob.Io} seam, with bounded sources and collecting
 * sinks instead of Kafka: what the job itself does, apart from the connectors.
 */
class SegmentationJobITCase {
    @RegisterExtension
    static final MiniClusterExtension FLINK = MiniClusters.extension();

    private static final long T0 = Instant.parse("2026-03-02T10:00:00Z").toEpochMilli();
    private static final long MIN = 60_000L;
    private static final long HOUR = 60 * MIN;
    private static final long DAY = 24 * HOUR;

    @Test
    void theSeedStoryWithNoKafka() throws Exception {
        List<UnifiedEvent> events = List.of(
                Events.track("anon_123xyz", "page_view", T0).build(),
                Events.track("anon_123xyz", "product_search", T0 + MIN).with("query", "trail running shoes").build(),
                Events.track("anon_123xyz", "product_view", T0 + 2 * MIN).with("category", "Men's Running Shoes").build(),
                Events.track("anon_123xyz", "add_to_cart", T0 + 4 * MIN).with("category", "Men's Running Shoes").build(),
                // Her login a day later: ingest's marker closes the device's stream (the linking event is user_jane's).
                IdentityLink.marker(Events.identify("user_jane", T0 + DAY).device("anon_123xyz").messageId("m-identify")
                        .build(), "anon_123xyz"));
        // Events ingest found too late, of another user: applied as corrections.
        List<UnifiedEvent> late = List.of(Events.track("u_late", "email_opened", T0).build(),
                Events.track("u_late", "email_opened", T0 + MIN).build());
        IdentityMerge merge = new IdentityMerge("anon_123xyz", "user_jane", IdentityMerge.Status.MERGED, "identify",
                "m-identify", T0 + DAY, 1);
        CollectingSink<SegmentChange> changes = new CollectingSink<>();
        CollectingSink<SegmentProfile> profiles = new CollectingSink<>();
        CollectingSink<StateHandoff> handoffs = new CollectingSink<>();
        SegmentationJob.Io io = new SegmentationJob.Io(
                BoundedSources.of(UnifiedEventTypeInfo.INSTANCE, events),
                BoundedSources.of(UnifiedEventTypeInfo.INSTANCE, late),
                BoundedSources.of(new JsonRecordTypeInfo<>(new IdentityMergeCodec()), List.of(merge)),
                BoundedSources.empty(new JsonRecordTypeInfo<>(new StateHandoffCodec())),
                BoundedSources.empty(new JsonRecordTypeInfo<>(new SegmentDefinitionCodec())),
                BoundedSources.empty(new JsonRecordTypeInfo<>(new ModelPublishedCodec())),
                BoundedSources.empty(new JsonRecordTypeInfo<>(new io.cohortflow.core.privacy.PrivacyRequestCodec())),
                changes, profiles, handoffs, new CollectingSink<>());
        // The Kafka options are parsed but unused: the Io replaces every connection.
        SegmentationOptions options = SegmentationOptions.parse(new String[] {"--bootstrap-servers", "unused:9092"});
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(MiniClusters.jobConfig());
        env.setParallelism(1); // one reader per bounded source: the events keep their order
        SegmentationJob.configure(env, options);
        new SegmentationJob(io, options, Scoring.none()).build(env);
        env.execute("segmentation through the Io seam");

        assertThat(changes.values()).filteredOn(c -> c.userId().equals("u_late"))
                .extracting(SegmentChange::segmentId, SegmentChange::type, c -> c.cause().kind())
                .startsWith(tuple("email_engaged_no_trial", ChangeType.ENTER, "late"));
        assertThat(changes.values()).filteredOn(c -> c.userId().equals("anon_123xyz"))
                .extracting(SegmentChange::segmentId, SegmentChange::type, SegmentChange::eventTime)
                .containsExactly(
                        tuple("high_intent_1h", ChangeType.ENTER, T0 + 4 * MIN),
                        tuple("high_intent_footwear", ChangeType.ENTER, T0 + 4 * MIN),
                        tuple("cart_abandoner", ChangeType.ENTER, T0 + 34 * MIN),
                        tuple("high_intent_1h", ChangeType.EXIT, T0 + HOUR + MIN),
                        tuple("high_intent_footwear", ChangeType.EXIT, T0 + HOUR + MIN),
                        tuple("cart_abandoner", ChangeType.EXIT, T0 + DAY));
        assertThat(changes.values().stream().filter(c -> c.userId().equals("anon_123xyz")).toList().get(5).cause()).isEqualTo(new Cause("identity", "merged into user_jane", null));
        assertThat(handoffs.values()).singleElement().satisfies(h -> {
            assertThat(h.fromId()).isEqualTo("anon_123xyz");
            assertThat(h.toId()).isEqualTo("user_jane");
            assertThat(h.linkId()).isEqualTo("m-identify");
        });
        assertThat(profiles.values()).filteredOn(p -> p.userId().equals("anon_123xyz")).last()
                .satisfies(p -> assertThat(p.mergedInto()).isEqualTo("user_jane"));
    }
}
