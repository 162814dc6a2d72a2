package io.cohortflow.core.privacy;

import io.cohortflow.core.privacy.PrivacyStatus.Stage;
import io.cohortflow.core.privacy.PrivacyStatus.State;
import io.cohortflow.core.privacy.RegulationStatus.Progress;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class RegulationStatusTest {
    private static final PrivacyRequest FORGET = new PrivacyRequest("req-1", PrivacyRequest.Type.SUPPRESS_WITH_DELETE,
            List.of("user_jane", "jane@example.com"), 1_000, "dpo");

    @Test
    void eachStageIsDoneWhenEveryPartOfItHasReported() {
        List<PrivacyStatus> reports = new ArrayList<>();
        assertThat(RegulationStatus.of(FORGET, reports).stages()).extracting(RegulationStatus.StageStatus::progress)
                .containsExactly(Progress.PENDING, Progress.PENDING, Progress.PENDING, Progress.PENDING);

        // Ingest: two of dedupe's three subtasks, and nothing yet of the other two checks.
        reports.add(ingest(PrivacyStatus.CHECK_DEDUPE, 0, 3, 1_100));
        reports.add(ingest(PrivacyStatus.CHECK_DEDUPE, 2, 3, 1_200));
        RegulationStatus.StageStatus ingest = RegulationStatus.of(FORGET, reports).stage(Stage.INGEST);
        assertThat(ingest.progress()).isEqualTo(Progress.RUNNING);
        assertThat(ingest.parts()).isEqualTo(2);
        assertThat(ingest.of()).as("3 dedupe subtasks, and at least one of each other check").isEqualTo(5);
        reports.add(ingest(PrivacyStatus.CHECK_DEDUPE, 1, 3, 1_300));
        reports.add(ingest(PrivacyStatus.CHECK_RESOLVED, 0, 1, 1_400));
        reports.add(ingest(PrivacyStatus.CHECK_DEAD_LETTERS, 0, 1, 1_250));
        ingest = RegulationStatus.of(FORGET, reports).stage(Stage.INGEST);
        assertThat(ingest.progress()).isEqualTo(Progress.DONE);
        assertThat(ingest.done()).as("its last part").isEqualTo(1_400L);

        // Segmentation: each id, by its hash; a report of another request counts for nothing.
        reports.add(new PrivacyStatus("req-1", Stage.SEGMENTATION, "ids", PrivacyStatus.idHash("req-1", "user_jane"), 2,
                State.DONE, 1_500, ""));
        reports.add(new PrivacyStatus("req-2", Stage.SEGMENTATION, "ids", PrivacyStatus.idHash("req-1", "jane@example.com"), 1,
                State.DONE, 1_500, ""));
        assertThat(RegulationStatus.of(FORGET, reports).stage(Stage.SEGMENTATION).progress()).isEqualTo(Progress.RUNNING);
        // Segmentation erases (and reports) the address by its key form, as ingest keys it.
        reports.add(new PrivacyStatus("req-1", Stage.SEGMENTATION, "ids", PrivacyStatus.idHash("req-1",
                io.cohortflow.core.identity.EmailKeys.of("jane@example.com")), 2,
                State.DONE, 1_600, ""));
        assertThat(RegulationStatus.of(FORGET, reports).stage(Stage.SEGMENTATION).progress()).isEqualTo(Progress.DONE);

        reports.add(PrivacyStatus.whole("req-1", Stage.HISTORY, State.RUNNING, 2_000, "rewriting"));
        RegulationStatus status = RegulationStatus.of(FORGET, reports);
        assertThat(status.stage(Stage.HISTORY).progress()).isEqualTo(Progress.RUNNING);
        assertThat(status.stage(Stage.HISTORY).since()).isEqualTo(2_000L);
        assertThat(status.done()).isFalse();
        // The compacted topic keeps a part's latest report: done replaces running.
        reports.remove(reports.size() - 1);
        reports.add(PrivacyStatus.whole("req-1", Stage.HISTORY, State.DONE, 3_000, "7 rows removed"));
        reports.add(new PrivacyStatus("req-1", Stage.MODELS, "versions", "v4", 1, State.DONE, 5_000, "bundle v4"));
        reports.add(new PrivacyStatus("req-1", Stage.MODELS, "versions", "v3", 1, State.DONE, 4_000, "bundle v3"));
        status = RegulationStatus.of(FORGET, reports);
        assertThat(status.done()).isTrue();
        assertThat(status.stage(Stage.MODELS).done()).as("when the first version without them was promoted")
                .isEqualTo(4_000L);
        assertThat(status.stage(Stage.HISTORY).detail()).isEqualTo("7 rows removed");
    }

    @Test
    void whichStagesApplyFollowsTheType() {
        PrivacyRequest suppress = new PrivacyRequest("req-s", PrivacyRequest.Type.SUPPRESS, List.of("u"), 1, "dpo");
        PrivacyRequest delete = new PrivacyRequest("req-d", PrivacyRequest.Type.DELETE, List.of("u"), 1, "dpo");
        assertThat(RegulationStatus.of(suppress, List.of()).stages()).extracting(RegulationStatus.StageStatus::progress)
                .containsExactly(Progress.PENDING, Progress.NOT_APPLICABLE, Progress.NOT_APPLICABLE, Progress.PENDING);
        assertThat(RegulationStatus.of(delete, List.of()).stages()).extracting(RegulationStatus.StageStatus::progress)
                .containsExactly(Progress.NOT_APPLICABLE, Progress.PENDING, Progress.PENDING, Progress.PENDING);
    }

    /**
     * The rows that go: the named ids (an email with its key form), the devices the rows link to them, a DELETE's
     * rows only up to its time, a suppression's all of them.
     */
    @Test
    void erasedIdsFollowLinksAndScopes() {
        PrivacyRequest deleteBob = new PrivacyRequest("req-b", PrivacyRequest.Type.DELETE, List.of("bob"), 5_000, "dpo");
        ErasedIds ids = ErasedIds.of(List.of(FORGET, deleteBob));
        String janeKey = io.cohortflow.core.identity.EmailKeys.of("jane@example.com");
        assertThat(ids.covers(janeKey, null, janeKey, 9_999_999)).as("the email's key form").isTrue();
        assertThat(ids.covers(null, "anon_1", "anon_1", 10)).as("not linked yet").isFalse();
        assertThat(ids.link("user_jane", "anon_1", "user_jane", null)).isTrue();
        assertThat(ids.link("user_jane", "anon_1", "user_jane", null)).as("known already").isFalse();
        assertThat(ids.link(null, "anon_2", "bob", null)).as("resolved to bob").isTrue();
        assertThat(ids.link("someone", "anon_3", "someone", null)).isFalse();
        assertThat(ids.link("user_jane", null, "user_jane", "old_device")).as("an alias of her old id").isTrue();
        assertThat(ids.covers(null, "old_device", "old_device", 10)).isTrue();
        // A shared computer she signed in on: someone else's rows on it stay, signed in or resolved to him.
        assertThat(ids.covers("carl", "anon_1", "carl", 10)).isFalse();
        assertThat(ids.covers(null, "anon_1", "carl", 10)).isFalse();
        assertThat(ids.covers(null, "anon_1", "anon_1", Long.MAX_VALUE - 1)).as("hers, whenever received").isTrue();
        assertThat(ids.covers(null, "anon_2", "anon_2", 5_000)).as("Bob's device, by his DELETE").isTrue();
        assertThat(ids.covers(null, "anon_2", "anon_2", 5_001)).as("after it: let in again").isFalse();
        assertThat(ids.covers("bob", null, "bob", 6_000)).isFalse();
        assertThat(ids.covers(null, "anon_3", "someone", 10)).isFalse();
        assertThat(ids.size()).isEqualTo(7); // user_jane, the address, its key, bob, anon_1, anon_2, old_device
    }

    private static PrivacyStatus ingest(String check, int subtask, int parallelism, long at) {
        return new PrivacyStatus("req-1", Stage.INGEST, check, Integer.toString(subtask), parallelism, State.DONE, at, "");
    }
}
