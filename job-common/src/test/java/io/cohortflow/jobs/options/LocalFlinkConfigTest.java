package io.cohortflow.jobs.options;

import org.apache.flink.changelog.fs.FsStateChangelogOptions;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.StateBackendOptions;
import org.apache.flink.configuration.StateChangelogOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

class LocalFlinkConfigTest {
    /** The repository's conf/flink/local, from this module's directory (where Maven runs its tests). */
    private static final Path SHIPPED = Path.of("..", "conf", "flink", "local");

    @Test
    void aJobsOwnSettingsGoOverTheSharedOnesAndAJobWithoutAnyGetsTheShared(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("config.yaml"), "state.backend.type: hashmap\nparallelism.default: 2\n");
        Files.createDirectories(dir.resolve("ingest-job"));
        Files.writeString(dir.resolve("ingest-job/config.yaml"),
                "parallelism.default: 3\nstate.changelog.enabled: true\n");
        Configuration shared = LocalFlinkConfig.shared(dir);

        Configuration ingest = LocalFlinkConfig.forJob(shared, dir, "ingest-job");
        assertThat(ingest.get(StateChangelogOptions.ENABLE_STATE_CHANGE_LOG)).isTrue();
        assertThat(ingest.getString("parallelism.default", null)).isEqualTo("3");
        assertThat(ingest.get(StateBackendOptions.STATE_BACKEND)).isEqualTo("hashmap");

        Configuration segmentation = LocalFlinkConfig.forJob(shared, dir, "segmentation-job");
        assertThat(segmentation.toMap()).isEqualTo(shared.toMap());
        assertThat(shared.get(StateChangelogOptions.ENABLE_STATE_CHANGE_LOG)).as("the shared configuration, untouched")
                .isFalse();
    }

    @Test
    void checkpointsAndTheChangelogGoIntoTheRunsDirectory(@TempDir Path dir) {
        Configuration config = LocalFlinkConfig.stateIn(new Configuration(), dir);
        assertThat(config.get(CheckpointingOptions.CHECKPOINTS_DIRECTORY))
                .isEqualTo(dir.resolve("checkpoints").toUri().toString());
        assertThat(config.get(FsStateChangelogOptions.BASE_PATH))
                .isEqualTo(dir.resolve("changelog").toUri().toString());
    }

    /**
     * As shipped: heap state, and only the ingest job's checkpoints write a changelog, into files (Flink's default
     * changelog storage is memory, which a restart loses).
     */
    @Test
    void asShippedOnlyTheIngestJobsCheckpointsWriteTheChangelogOfItsHeapState() {
        Configuration shared = LocalFlinkConfig.shared(SHIPPED);
        assertThat(shared.get(StateBackendOptions.STATE_BACKEND)).isEqualTo("hashmap");
        assertThat(shared.get(StateChangelogOptions.STATE_CHANGE_LOG_STORAGE)).isEqualTo("filesystem");
        assertThat(changelog(LocalFlinkConfig.forJob(shared, SHIPPED, "ingest-job"))).isTrue();
        for (String job : new String[]{"segmentation-job", "activation-job"}) {
            assertThat(changelog(LocalFlinkConfig.forJob(shared, SHIPPED, job))).as(job).isFalse();
        }
    }

    private static boolean changelog(Configuration config) {
        return config.get(StateChangelogOptions.ENABLE_STATE_CHANGE_LOG);
    }
}
