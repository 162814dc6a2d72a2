package io.cohortflow.segmentation.functions;

import io.cohortflow.core.engine.Outcome;
import io.cohortflow.core.engine.Ruleset;
import io.cohortflow.core.engine.StepProfile;
import io.cohortflow.core.engine.UserSegments;
import io.cohortflow.core.event.EventTaxonomy;
import io.cohortflow.core.feature.FeatureConfig;
import io.cohortflow.core.scoring.Scorer;
import io.cohortflow.core.segment.ChangeType;
import io.cohortflow.core.segment.SegmentChange;
import io.cohortflow.core.segment.SegmentProfile;
import io.cohortflow.core.segment.SegmentProfileCodec;
import io.cohortflow.core.segment.SegmentRules;
import io.cohortflow.core.testing.Events;
import io.cohortflow.jobs.types.JsonRecordSerializer;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.groups.Tuple.tuple;

class LatestProfilesTest {
    private static final long T0 = 1_772_445_600_000L; // 2026-03-02T10:00:00Z
    private static final long HOUR = 3_600_000L;

    @Test
    void aUsersFirstProfileGoesAtOnceAndHerLaterOnesWaitTheLastTakingTheirPlaceUntilTheCheckpoint() throws Exception {
        try (var harness = harness(Duration.ofSeconds(1), 100)) {
            harness.processElement(update("a", 1, true), 11);
            harness.processElement(update("b", 1, true), 12);
            assertThat(harness.extractOutputValues()).as("the first of each user since the last flush")
                    .extracting(SegmentProfile::userId).containsExactly("a", "b");
            harness.processElement(update("a", 2, true), 13);
            harness.processElement(update("a", 3, true), 14);
            assertThat(harness.extractOutputValues()).as("a's later ones wait").hasSize(2);

            harness.prepareSnapshotPreBarrier(1);

            assertThat(harness.extractOutputStreamRecords()).extracting(r -> r.getValue().userId(),
                    r -> r.getValue().asOf(), r -> r.getTimestamp())
                    .as("a's latest, with its element's time")
                    .containsExactly(tuple("a", 1L, 11L), tuple("b", 1L, 12L), tuple("a", 3L, 14L));
            harness.processElement(update("a", 4, true), 15);
            assertThat(harness.extractOutputValues()).as("after the flush, a's next goes at once").hasSize(4);
        }
    }

    @Test
    void aProfileWithAChangeATombstoneOrAMergeGoesAtOnceAndTheOlderOneOfItsUserIsDropped() throws Exception {
        try (var harness = harness(Duration.ofSeconds(1), 100)) {
            harness.processElement(update("a", 1, true), 1);
            harness.processElement(update("b", 1, true), 1);
            harness.processElement(update("b", 2, true), 2);
            harness.processElement(update("a", 2, true), 2);
            harness.processElement(update("a", 3, false), 3);
            assertThat(harness.extractOutputValues()).extracting(SegmentProfile::userId, SegmentProfile::asOf)
                    .as("a's profile of 2 waited and is dropped for the one of 3")
                    .containsExactly(tuple("a", 1L), tuple("b", 1L), tuple("a", 3L));

            harness.processElement(new ProfileUpdate(StepProfile.of(SegmentProfile.tombstone("b")), false), 3);
            harness.prepareSnapshotPreBarrier(1);

            assertThat(harness.extractOutputValues()).extracting(SegmentProfile::userId, SegmentProfile::isTombstone)
                    .as("b's waiting profile is not written after its tombstone")
                    .containsExactly(tuple("a", false), tuple("b", false), tuple("a", false), tuple("b", true));
        }
    }

    @Test
    void whatWaitsIsWrittenAfterTheFlushIntervalWhenTooManyWaitOrWereWrittenAndAtTheEndOfTheInput()
            throws Exception {
        try (var harness = harness(Duration.ofSeconds(1), 3)) {
            harness.setProcessingTime(0);
            harness.processElement(update("a", 1, true), 1);
            harness.processElement(update("a", 2, true), 2);
            harness.setProcessingTime(999);
            assertThat(harness.extractOutputValues()).hasSize(1);
            harness.setProcessingTime(1_000);
            assertThat(harness.extractOutputValues()).as("after a second of processing time").hasSize(2);

            harness.processElement(update("a", 3, true), 3);
            harness.processElement(update("a", 4, true), 4);
            harness.processElement(update("b", 3, true), 3);
            assertThat(harness.extractOutputValues()).hasSize(4);
            harness.processElement(update("c", 3, true), 3);
            assertThat(harness.extractOutputValues()).extracting(SegmentProfile::userId, SegmentProfile::asOf)
                    .as("three users written since the flush: what waits is written")
                    .endsWith(tuple("b", 3L), tuple("a", 4L), tuple("c", 3L));

            harness.processElement(update("d", 5, true), 5);
            harness.processElement(update("d", 6, true), 6);
            harness.endInput();
            assertThat(harness.extractOutputValues()).as("the end of a bounded input").hasSize(8)
                    .last().extracting(SegmentProfile::asOf).isEqualTo(6L);
        }
    }

    @Test
    void withNoFlushIntervalEveryProfileIsWrittenAsItComes() throws Exception {
        try (var harness = harness(Duration.ZERO, 100)) {
            harness.processElement(update("a", 1, true), 1);
            harness.processElement(update("a", 2, true), 2);
            assertThat(harness.extractOutputValues()).extracting(SegmentProfile::asOf).containsExactly(1L, 2L);
        }
    }

    /**
     * Simulated users' steps through the engine, as the segmentation function publishes them, with checkpoints at
     * random places (about 300 steps of 40 users apart): at every checkpoint the latest profile written of each user is the latest published, each user's
     * profiles keep their order, and every change that has, among the profiles published in its checkpoint, one of its
     * user as of its time or later with the membership it left (what activation's join waits for), still has one among
     * those written. And profiles were spared.
     */
    @Test
    void atEveryCheckpointEachUsersLatestProfileIsTheOneEveryProfileWouldLeaveAndEveryChangeHasItsProfile()
            throws Exception {
        Ruleset rules = Ruleset.of(FeatureConfig.defaults(), EventTaxonomy.defaults().canonicalNames().stream()
                .sorted().toList(), Duration.ofDays(90), SegmentRules.defaults(), Scorer.NONE);
        String[] names = {"product_view", "add_to_cart", "order_completed", "page_view", "email_opened",
                "checkout_started", "product_search"};
        Random random = new Random(7);
        int users = 40;
        List<UserSegments> engines = new ArrayList<>();
        long[] clocks = new long[users];
        for (int user = 0; user < users; user++) {
            engines.add(new UserSegments());
            clocks[user] = T0;
        }
        Map<String, SegmentProfile> published = new HashMap<>();
        Map<String, SegmentProfile> written = new HashMap<>();
        Map<String, List<Long>> publishedTimes = new HashMap<>();
        List<SegmentChange> changesOfCheckpoint = new ArrayList<>();
        int publishedCount = 0;
        int checkpoints = 0;
        int changes = 0;
        int writtenCount = 0;
        int covered = 0;
        List<SegmentProfile> publishedOfCheckpoint = new ArrayList<>();
        try (var harness = harness(Duration.ofHours(1), 1_000)) {
            for (int step = 0; step < 6_000; step++) {
                int user = random.nextInt(users);
                String id = "user-" + user;
                clocks[user] += (long) (random.nextDouble() * random.nextDouble() * 8 * HOUR);
                Outcome outcome = random.nextInt(3) == 0
                        ? engines.get(user).advanceTo(id, clocks[user], rules, 0)
                        : engines.get(user).apply(id, event(id, names[random.nextInt(names.length)], clocks[user],
                                random), rules, 0);
                changesOfCheckpoint.addAll(outcome.changes());
                changes += outcome.changes().size();
                if (outcome.published().isPresent()) {
                    // As SegmentFunction.emit says it.
                    harness.processElement(ProfileUpdate.of(outcome.published().get(),
                            !outcome.changes().isEmpty()), clocks[user]);
                    SegmentProfile profile = outcome.profile().get();
                    published.put(id, profile);
                    publishedOfCheckpoint.add(profile);
                    publishedTimes.computeIfAbsent(id, k -> new ArrayList<>()).add(profile.asOf());
                    publishedCount++;
                }
                if (random.nextInt(300) == 0 || step == 5_999) {
                    harness.prepareSnapshotPreBarrier(++checkpoints);
                    List<SegmentProfile> ofCheckpoint = new ArrayList<>();
                    writtenCount += harness.extractOutputValues().size();
                    for (SegmentProfile profile : harness.extractOutputValues()) {
                        SegmentProfile before = written.put(profile.userId(), profile);
                        assertThat(before == null || before.asOf() <= profile.asOf()).as("order of %s", profile.userId())
                                .isTrue();
                        assertThat(publishedTimes.get(profile.userId())).contains(profile.asOf());
                        ofCheckpoint.add(profile);
                    }
                    harness.getOutput().clear();
                    assertThat(written).as("after checkpoint %d", checkpoints).isEqualTo(published);
                    for (SegmentChange change : changesOfCheckpoint) {
                        // A step that ENTERs and EXITs (moments a window moved, then its event) publishes one
                        // profile, after both: its ENTER has none, whether or not profiles wait here.
                        if (publishedOfCheckpoint.stream().anyMatch(profile -> covers(profile, change))) {
                            covered++;
                            assertThat(ofCheckpoint).as("the profile of %s", change)
                                    .anyMatch(profile -> covers(profile, change));
                        }
                    }
                    changesOfCheckpoint.clear();
                    publishedOfCheckpoint.clear();
                }
            }
        }
        assertThat(changes).as("the simulation moves memberships").isGreaterThan(200);
        assertThat(covered).as("changes with a profile").isGreaterThan(changes * 9 / 10);
        assertThat(checkpoints).isGreaterThan(10);
        assertThat(publishedCount).isGreaterThan(4_000);
        assertThat(writtenCount).as("profiles written of %d published", publishedCount)
                .isLessThan(publishedCount * 3 / 4);
    }

    /** As activation-job's {@code ProfileJoin.covers}: the user's state after the change, or later. */
    private static boolean covers(SegmentProfile profile, SegmentChange change) {
        return profile.userId().equals(change.userId()) && profile.asOf() >= change.eventTime()
                && Objects.equals(profile.model(), change.model())
                && profile.segments().contains(change.segmentId()) == (change.type() == ChangeType.ENTER);
    }

    private static io.cohortflow.core.event.UnifiedEvent event(String id, String name, long t, Random random) {
        Events event = Events.track(id, name, t);
        if (name.equals("product_view") || name.equals("add_to_cart")) {
            event.with("product_id", "p" + random.nextInt(20)).with("price", 9.99 * random.nextInt(30))
                    .with("category", random.nextBoolean() ? "Men's Running Shoes" : "Kitchen");
        }
        if (name.equals("order_completed")) {
            event.with("revenue", random.nextDouble() * 300);
        }
        return event.build();
    }

    private static ProfileUpdate update(String user, long asOf, boolean supersedable) {
        return new ProfileUpdate(StepProfile.of(new SegmentProfile(user, asOf, List.of(), Map.of(), Map.of(), null,
                null, null, Map.of(), Map.of())), supersedable);
    }

    private static OneInputStreamOperatorTestHarness<ProfileUpdate, SegmentProfile> harness(Duration flush,
                                                                                              int maxWaiting)
            throws Exception {
        var harness = new OneInputStreamOperatorTestHarness<>(new LatestProfiles(flush, maxWaiting),
                new JsonRecordSerializer<>(new ProfileUpdate.Codec()));
        harness.setup(new JsonRecordSerializer<>(new SegmentProfileCodec()));
        harness.open();
        return harness;
    }
}
