package io.cohortflow.segmentation.functions;

import io.cohortflow.core.engine.Outcome;
import io.cohortflow.core.engine.Ruleset;
import io.cohortflow.core.engine.StepProfile;
import io.cohortflow.core.engine.UserSegments;
import io.cohortflow.core.event.EventTaxonomy;
import io.cohortflow.core.feature.FeatureConfig;
import io.cohortflow.core.scoring.Scorer;
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
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.groups.Tuple.tuple;

class LatestProfilesTest {
    private static final long T0 = 1_772_445_600_000L; // 2026-03-02T10:00:00Z
    private static final long MIN = 60_000L;
    private static final long HOUR = 60 * MIN;
    private static final long DAY = 24 * HOUR;

    @Test
    void whileBehindAProfileThatMovedNoMembershipWaitsAndTheUsersNextOneTakesItsPlaceUntilTheCheckpoint()
            throws Exception {
        try (var harness = harness(Duration.ofSeconds(1), 100)) {
            harness.setProcessingTime(DAY); // the profiles' times (11 to 14 ms) lie a day behind
            harness.processElement(update("a", 1, true), 11);
            harness.processElement(update("b", 1, true), 12);
            harness.processElement(update("a", 2, true), 13);
            harness.processElement(update("a", 3, true), 14);
            assertThat(harness.extractOutputValues()).as("all wait").isEmpty();

            harness.prepareSnapshotPreBarrier(1);

            assertThat(harness.extractOutputStreamRecords()).extracting(r -> r.getValue().userId(),
                    r -> r.getValue().asOf(), r -> r.getTimestamp())
                    .as("the latest of each user, users in the order they began to wait, with their element's time")
                    .containsExactly(tuple("a", 3L, 14L), tuple("b", 1L, 12L));
            harness.prepareSnapshotPreBarrier(2);
            assertThat(harness.extractOutputValues()).as("nothing waits any more").hasSize(2);
        }
    }

    @Test
    void aLiveProfileGoesAtOnceAndTakesThePlaceOfTheOneThatWaited() throws Exception {
        try (var harness = harness(Duration.ofSeconds(1), 100)) {
            harness.setProcessingTime(DAY);
            harness.processElement(update("a", 1, true), 1);
            harness.processElement(update("a", 2, true), DAY - 15 * MIN - 1);
            assertThat(harness.extractOutputValues()).as("more than 15 minutes behind is behind").isEmpty();
            harness.processElement(update("a", 3, true), DAY - 15 * MIN);
            assertThat(harness.extractOutputValues()).extracting(SegmentProfile::asOf)
                    .as("live: at once, and a's waiting one is dropped").containsExactly(3L);
            harness.prepareSnapshotPreBarrier(1);
            assertThat(harness.extractOutputValues()).hasSize(1);
        }
    }

    @Test
    void aProfileWithAChangeATombstoneOrAMergeGoesAtOnceAndTheOlderOneOfItsUserIsDropped() throws Exception {
        try (var harness = harness(Duration.ofSeconds(1), 100)) {
            harness.setProcessingTime(DAY);
            harness.processElement(update("a", 1, true), 1);
            harness.processElement(update("b", 1, true), 1);
            harness.processElement(update("a", 2, false), 2);
            assertThat(harness.extractOutputValues()).extracting(SegmentProfile::userId, SegmentProfile::asOf)
                    .containsExactly(tuple("a", 2L));

            harness.processElement(new ProfileUpdate(StepProfile.of(SegmentProfile.tombstone("b")), false), 3);
            harness.prepareSnapshotPreBarrier(1);

            assertThat(harness.extractOutputValues()).extracting(SegmentProfile::userId, SegmentProfile::isTombstone)
                    .as("b's waiting profile is not written after its tombstone")
                    .containsExactly(tuple("a", false), tuple("b", true));
        }
    }

    @Test
    void whatWaitsIsWrittenAfterTheFlushIntervalWhenTooManyWaitAndAtTheEndOfTheInput() throws Exception {
        try (var harness = harness(Duration.ofSeconds(1), 3)) {
            harness.setProcessingTime(DAY); // the timer set at open (at 1 s) fires: nothing waits
            harness.processElement(update("a", 1, true), 1);
            harness.setProcessingTime(DAY + 999);
            assertThat(harness.extractOutputValues()).isEmpty();
            harness.setProcessingTime(DAY + 1_000);
            assertThat(harness.extractOutputValues()).as("after a second of processing time").hasSize(1);

            harness.processElement(update("a", 2, true), 2);
            harness.processElement(update("b", 2, true), 2);
            assertThat(harness.extractOutputValues()).hasSize(1);
            harness.processElement(update("c", 2, true), 2);
            assertThat(harness.extractOutputValues()).as("three users wait: all are written").hasSize(4);

            harness.processElement(update("d", 3, true), 3);
            harness.endInput();
            assertThat(harness.extractOutputValues()).as("the end of a bounded input").hasSize(5);
        }
    }

    /**
     * Exactly-once: a profile written is seen when its checkpoint commits, so what waits is written at the barrier (or
     * when too many wait), not on the flush interval, and a user's later profile in the same checkpoint takes the
     * place of one the interval would have written.
     */
    @Test
    void inTransactionsWhatWaitsIsWrittenAtTheBarrierNotOnTheFlushInterval() throws Exception {
        try (var harness = harness(Duration.ofSeconds(1), 3, true)) {
            harness.setProcessingTime(DAY);
            harness.processElement(update("a", 1, true), 1);
            harness.setProcessingTime(DAY + 5_000);
            harness.processElement(update("a", 2, true), 2);
            harness.processElement(update("b", 2, true), 2);
            harness.setProcessingTime(DAY + 10_000);
            assertThat(harness.extractOutputValues()).as("ten flush intervals passed").isEmpty();

            harness.prepareSnapshotPreBarrier(1);
            assertThat(harness.extractOutputValues()).extracting(SegmentProfile::userId, SegmentProfile::asOf)
                    .as("a's first profile was never written").containsExactly(tuple("a", 2L), tuple("b", 2L));

            harness.processElement(update("a", 3, true), 3);
            harness.processElement(update("b", 3, true), 3);
            harness.processElement(update("c", 3, true), 3);
            assertThat(harness.extractOutputValues()).as("three users wait: all are written").hasSize(5);
        }
    }

    @Test
    void withNoFlushIntervalEveryProfileIsWrittenAsItComes() throws Exception {
        try (var harness = harness(Duration.ZERO, 100)) {
            harness.setProcessingTime(DAY);
            harness.processElement(update("a", 1, true), 1);
            harness.processElement(update("a", 2, true), 2);
            assertThat(harness.extractOutputValues()).extracting(SegmentProfile::asOf).containsExactly(1L, 2L);
        }
    }

    /**
     * Simulated users' steps through the engine, as the segmentation function publishes them, with checkpoints at
     * random places (about 150 steps of 40 users apart), the job behind: at every checkpoint the latest profile written of each user is the latest published, each user's
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
            harness.setProcessingTime(T0 + 365 * 24 * HOUR); // a replay of the simulation's days: behind
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
                if (random.nextInt(150) == 0 || step == 5_999) {
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
                        if (publishedOfCheckpoint.stream().anyMatch(profile -> profile.covers(change))) {
                            covered++;
                            assertThat(ofCheckpoint).as("the profile of %s", change)
                                    .anyMatch(profile -> profile.covers(change));
                        }
                    }
                    changesOfCheckpoint.clear();
                    publishedOfCheckpoint.clear();
                }
            }
        }
        assertThat(changes).as("the simulation moves memberships").isGreaterThan(200);
        assertThat(covered).as("changes with a profile").isGreaterThan(changes * 9 / 10);
        assertThat(checkpoints).isGreaterThan(20);
        assertThat(publishedCount).isGreaterThan(4_000);
        assertThat(writtenCount).as("profiles written of %d published", publishedCount)
                .isLessThan(publishedCount * 3 / 4);
    }

    /** Unchained (another parallelism), an update crosses the network as JSON and comes back the same. */
    @Test
    void anUpdatesWireFormRoundTrips() {
        var codec = new ProfileUpdate.Codec();
        SegmentProfile profile = new SegmentProfile("u-\"1", 42L, List.of("a", "b"), Map.of("recency", 1.5),
                Map.of("churn", 0.25), "Bargain Hunter", "bundle@v3", null, Map.of("email_sha256", "ab"),
                Map.of("frequency_30d", 3, "count_7d", Map.of("page_view", 2)));
        for (boolean supersedable : new boolean[] {true, false}) {
            ProfileUpdate back = codec.decode(codec.encode(new ProfileUpdate(StepProfile.of(profile), supersedable)));
            assertThat(back.supersedable()).isEqualTo(supersedable);
            assertThat(back.profile().get()).isEqualTo(profile);
        }
        ProfileUpdate tombstone = codec.decode(codec.encode(
                new ProfileUpdate(StepProfile.of(SegmentProfile.tombstone("u2")), false)));
        assertThat(tombstone.profile().get().isTombstone()).isTrue();
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
        return harness(flush, maxWaiting, false);
    }

    private static OneInputStreamOperatorTestHarness<ProfileUpdate, SegmentProfile> harness(
            Duration flush, int maxWaiting, boolean committedAtCheckpoints) throws Exception {
        var harness = new OneInputStreamOperatorTestHarness<>(new LatestProfiles(flush, Duration.ofMinutes(15),
                maxWaiting, committedAtCheckpoints),
                new JsonRecordSerializer<>(new ProfileUpdate.Codec()));
        harness.setup(new JsonRecordSerializer<>(new SegmentProfileCodec()));
        harness.open();
        return harness;
    }
}
