package io.cohortflow.testkit;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

class KafkaTestSupportTest {
    /** A temporary directory goes with all it holds (as at the JVM's exit); one already gone is no error. */
    @Test
    void theTemporaryDirectoriesAreRemovedWithWhatTheyHold() throws Exception {
        Path full = KafkaTestSupport.tempDir("testkit-full-");
        Files.createDirectories(full.resolve("chk-1/shared"));
        Files.writeString(full.resolve("chk-1/shared/_metadata"), "x");
        Files.writeString(full.resolve("top"), "y");
        Path gone = KafkaTestSupport.tempDir("testkit-gone-");
        Files.delete(gone);

        KafkaTestSupport.deleteTempDirs();

        assertThat(full).doesNotExist();
        assertThat(gone).doesNotExist();
    }
}
