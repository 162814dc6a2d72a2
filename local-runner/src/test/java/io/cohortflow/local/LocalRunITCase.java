package io.cohortflow.local;

import io.cohortflow.testkit.Repository;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The README's local run, small: its own broker, MiniCluster and jobs, a bounded simulation, a drained summary. */
class LocalRunITCase {

    @Test
    void aBoundedRunDrainsReconcilesAndShowsTheSeedStory(@TempDir Path runDir) throws Exception {
        // A paced simulator, as in the README's run: partitions move together like live traffic. (At --rate 0 the
        // jobs replay a backlog, where one Kafka fetch can run a partition hours ahead: see the README on time.)
        LocalRunOptions options = LocalRunOptions.parse(new String[] {"--days", "2", "--users", "150", "--rate", "400",
                "--web-ui-port", "0", "--feed", "story", "--start", "2026-03-02", "--conf-dir", Repository.conf().toString()});

        LocalRun.Outcome outcome = new LocalRun(options, runDir).run();

        assertThat(outcome.delivered()).isGreaterThan(1_000);
        assertThat(outcome.unified() + outcome.deadLettered() + outcome.duplicates() + outcome.late())
                .isEqualTo(outcome.delivered());
        assertThat(outcome.duplicates()).isPositive();
        assertThat(outcome.deadLettered()).isPositive();
        assertThat(outcome.changes()).isPositive();
        assertThat(outcome.story()).contains(
                "anon_123xyz ENTER high_intent_footwear @2026-03-02T10:02:30.040Z",
                "anon_123xyz EXIT high_intent_footwear @2026-03-02T11:03:00Z",
                "anon_123xyz ENTER cart_abandoner @2026-03-02T10:32:30.040Z");
        assertThat(runDir.resolve("ground-truth.jsonl")).isNotEmptyFile();
        assertThat(runDir.resolve("history")).isDirectoryContaining(p -> p.getFileName().toString().startsWith("dt="));
    }

    @Test
    void rejectsUnknownOptions() {
        assertThatThrownBy(() -> LocalRunOptions.parse(new String[] {"--dayz", "2"})).hasMessageContaining("--dayz");
        assertThatThrownBy(() -> LocalRunOptions.parse(new String[] {"--days", "0"})).hasMessageContaining("at least 1");
        assertThat(LocalRunOptions.parse(new String[] {"--endless"}).simulatedDays()).isGreaterThan(365);
    }
}
