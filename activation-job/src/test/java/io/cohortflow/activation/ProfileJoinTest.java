package io.cohortflow.activation;

import io.cohortflow.core.segment.ChangeType;
import io.cohortflow.core.segment.SegmentChange;
import io.cohortflow.core.segment.SegmentProfile;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedTwoInputStreamOperatorTestHarness;
import org.apache.flink.streaming.util.ProcessFunctionTestHarnesses;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.groups.Tuple.tuple;

class ProfileJoinTest {
    private KeyedTwoInputStreamOperatorTestHarness<String, SegmentChange, SegmentProfile, Activation> harness;

    @BeforeEach
    void setUp() throws Exception {
        List<Destination> destinations = List.of(destination("ads", Set.of("audience")), destination("all", Set.of("*")));
        harness = ProcessFunctionTestHarnesses.forKeyedCoProcessFunction(
                new ProfileJoin(destinations, Duration.ofSeconds(5), Duration.ofDays(1)),
                SegmentChange::userId, SegmentProfile::userId, Types.STRING);
    }

    @AfterEach
    void tearDown() throws Exception {
        harness.close();
    }

    @Test
    void aChangeWaitsForTheProfileOfItsTimeAndFansOutToEveryDestinationThatTakesIt() throws Exception {
        SegmentChange enter = DestinationClientTest.change("u1", "audience", ChangeType.ENTER, 0);
        SegmentChange other = DestinationClientTest.change("u1", "other", ChangeType.ENTER, 1);
        harness.processElement1(new StreamRecord<>(enter));
        harness.processElement1(new StreamRecord<>(other));
        assertThat(harness.extractOutputValues()).as("no profile of its time yet").isEmpty();

        harness.processElement2(new StreamRecord<>(profile("u1", enter.eventTime(), "audience")));
        assertThat(harness.extractOutputValues()).as("the profile covers the first change only")
                .extracting(Activation::destination, a -> a.change().segmentId(), a -> a.profile().asOf())
                .containsExactly(tuple("ads", "audience", enter.eventTime()), tuple("all", "audience", enter.eventTime()));
        harness.processElement2(new StreamRecord<>(profile("u1", other.eventTime(), "audience", "other")));
        assertThat(harness.extractOutputValues()).hasSize(3).last()
                .satisfies(a -> assertThat(a.change().segmentId()).isEqualTo("other"));

        // A change whose profile is already there goes at once.
        SegmentChange exit = DestinationClientTest.change("u1", "audience", ChangeType.EXIT, 1);
        harness.processElement2(new StreamRecord<>(profile("u1", exit.eventTime(), "other")));
        harness.processElement1(new StreamRecord<>(exit));
        assertThat(harness.extractOutputValues()).hasSize(5);
    }

    /**
     * One step of the segmentation job that ENTERs and EXITs a segment (a moment a window moved, then the user's event)
     * publishes one profile, after both: the ENTER goes with it when the EXIT comes, in order, without the wait,
     * whichever topic comes first.
     */
    @Test
    void anEnterUndoneInItsStepGoesWithTheProfileAfterItsExit() throws Exception {
        SegmentChange enter = DestinationClientTest.change("u1", "audience", ChangeType.ENTER, 0);
        SegmentChange exit = DestinationClientTest.change("u1", "audience", ChangeType.EXIT, 1);
        harness.processElement2(new StreamRecord<>(profile("u1", exit.eventTime())));
        harness.processElement1(new StreamRecord<>(enter));
        assertThat(harness.extractOutputValues()).as("alone, the profile does not cover it").isEmpty();
        harness.processElement1(new StreamRecord<>(exit));
        assertThat(harness.extractOutputValues()).filteredOn(a -> a.destination().equals("ads"))
                .extracting(a -> a.change().type(), a -> a.profile().asOf())
                .containsExactly(tuple(ChangeType.ENTER, exit.eventTime()), tuple(ChangeType.EXIT, exit.eventTime()));
        assertThat(harness.numProcessingTimeTimers()).as("nothing waits").isZero();

        SegmentChange again = DestinationClientTest.change("u2", "audience", ChangeType.ENTER, 2);
        SegmentChange gone = DestinationClientTest.change("u2", "audience", ChangeType.EXIT, 3);
        harness.processElement1(new StreamRecord<>(again));
        harness.processElement1(new StreamRecord<>(gone));
        assertThat(harness.extractOutputValues()).hasSize(4);
        harness.processElement2(new StreamRecord<>(profile("u2", gone.eventTime())));
        assertThat(harness.extractOutputValues()).filteredOn(a -> a.change().userId().equals("u2"))
                .filteredOn(a -> a.destination().equals("ads")).extracting(a -> a.change().type())
                .as("the profile after both, come last").containsExactly(ChangeType.ENTER, ChangeType.EXIT);
        assertThat(harness.numProcessingTimeTimers()).isZero();
    }

    @Test
    void aProfileOfTheSameTimeFromBeforeARulesChangeDoesNotCoverIt() throws Exception {
        // A rules change re-evaluates u1 at her unchanged clock: the profile she had is as of that time too.
        SegmentChange enter = DestinationClientTest.change("u1", "audience", ChangeType.ENTER, 0);
        harness.processElement2(new StreamRecord<>(profile("u1", enter.eventTime())));
        harness.processElement1(new StreamRecord<>(enter));
        assertThat(harness.extractOutputValues()).as("the old profile does not show her in it").isEmpty();
        harness.processElement2(new StreamRecord<>(profile("u1", enter.eventTime(), "audience")));
        assertThat(harness.extractOutputValues()).extracting(a -> a.profile().segments())
                .containsOnly(List.of("audience"));
    }

    @Test
    void afterTheWaitAChangeGoesWithWhatThereIsAndLaterOnesStayBehindIt() throws Exception {
        harness.setProcessingTime(1_000);
        harness.processElement2(new StreamRecord<>(profile("u1", 0)));
        SegmentChange first = DestinationClientTest.change("u1", "audience", ChangeType.ENTER, 0);
        SegmentChange second = DestinationClientTest.change("u1", "audience", ChangeType.EXIT, 1);
        harness.processElement1(new StreamRecord<>(first));
        harness.processElement1(new StreamRecord<>(second));
        harness.setProcessingTime(5_999);
        assertThat(harness.extractOutputValues()).isEmpty();
        harness.setProcessingTime(6_000);
        assertThat(harness.extractOutputValues()).filteredOn(a -> a.destination().equals("ads"))
                .extracting(a -> a.change().type(), a -> a.profile().asOf())
                .containsExactly(tuple(ChangeType.ENTER, 0L), tuple(ChangeType.EXIT, 0L));
        assertThat(harness.numProcessingTimeTimers()).isZero();

        SegmentChange stranger = DestinationClientTest.change("u2", "audience", ChangeType.ENTER, 0);
        harness.processElement1(new StreamRecord<>(stranger));
        harness.setProcessingTime(20_000);
        assertThat(harness.extractOutputValues()).last().satisfies(a -> {
            assertThat(a.change().userId()).isEqualTo("u2");
            assertThat(a.profile()).as("no profile came: none").isNull();
        });
    }

    @Test
    void anErasureExitGoesAtOnceAndTheTombstoneDropsTheProfileKept() throws Exception {
        SegmentChange enter = DestinationClientTest.change("u1", "audience", ChangeType.ENTER, 0);
        harness.processElement2(new StreamRecord<>(profile("u1", enter.eventTime(), "audience")));
        harness.processElement1(new StreamRecord<>(enter));
        SegmentChange erased = SegmentChange.of("u1", "audience", "audience", ChangeType.EXIT, enter.eventTime(), 1,
                0, new io.cohortflow.core.segment.Cause("privacy", "req-1", null), Map.of(), "none");
        harness.processElement1(new StreamRecord<>(erased));
        assertThat(harness.extractOutputValues()).filteredOn(a -> a.destination().equals("ads"))
                .extracting(a -> a.change().type(), a -> a.profile().asOf())
                .as("no newer profile awaited: it goes with the last one, whose ids take her out of the audience")
                .containsExactly(tuple(ChangeType.ENTER, enter.eventTime()), tuple(ChangeType.EXIT, enter.eventTime()));

        harness.processElement2(new StreamRecord<>(SegmentProfile.tombstone("u1")));
        SegmentChange later = DestinationClientTest.change("u1", "audience", ChangeType.ENTER, 2);
        harness.setProcessingTime(10_000);
        harness.processElement1(new StreamRecord<>(later));
        harness.setProcessingTime(20_000);
        assertThat(harness.extractOutputValues()).last().satisfies(a -> {
            assertThat(a.change()).isEqualTo(later);
            assertThat(a.profile()).as("nothing of her was kept after the tombstone").isNull();
        });
    }

    private static SegmentProfile profile(String user, long asOf, String... segments) {
        return new SegmentProfile(user, asOf, List.of(segments), Map.of(), Map.of(), null, "none", null, Map.of(), Map.of());
    }

    private static Destination destination(String id, Set<String> segments) {
        return new Destination(id, Destination.Format.WEBHOOK, URI.create("http://localhost:1/"), Destination.Auth.NONE,
                null, segments, Set.of(ChangeType.ENTER, ChangeType.EXIT), 1, Duration.ofMillis(10), 0, 1, 1,
                Duration.ofMinutes(1), Duration.ofMillis(10), Duration.ofSeconds(1), Duration.ofSeconds(1), List.of());
    }
}
