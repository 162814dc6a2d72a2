package io.cohortflow.training.bench;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

class TrainingScaleBenchmarkTest {

    /** Parts written side by side make the files parts written one after the other make, byte for byte. */
    @Test
    void partsWrittenSideBySideAreTheHistoryWrittenInTurn(@TempDir Path tmp) throws IOException {
        PrintStream quiet = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
        TrainingScaleBenchmark.History inTurn = TrainingScaleBenchmark.write(90, 3, tmp.resolve("a"), quiet, 30, 1);
        TrainingScaleBenchmark.History sideBySide = TrainingScaleBenchmark.write(90, 3, tmp.resolve("b"), quiet, 30, 3);

        List<Path> files = files(inTurn.path());
        assertThat(files).hasSizeGreaterThanOrEqualTo(9)
                .allMatch(f -> f.toString().matches(".*events-[012]\\.parquet"));
        assertThat(files(sideBySide.path())).isEqualTo(files);
        for (Path f : files) {
            assertThat(Files.readAllBytes(sideBySide.path().resolve(f))).as(f.toString())
                    .isEqualTo(Files.readAllBytes(inTurn.path().resolve(f)));
        }
        assertThat(sideBySide.events()).isEqualTo(inTurn.events()).isPositive();
        List<String> truth = Files.readAllLines(inTurn.truth());
        assertThat(Files.readAllLines(sideBySide.truth())).isEqualTo(truth);
        // The parts' truth in the parts' order is the whole population's (SimulatorTest: each person as in the whole).
        TrainingScaleBenchmark.History whole = TrainingScaleBenchmark.write(90, 3, tmp.resolve("c"), quiet, 90, 1);
        assertThat(truth).hasSize(90).isEqualTo(Files.readAllLines(whole.truth()));
    }

    private static List<Path> files(Path root) throws IOException {
        try (Stream<Path> walk = Files.walk(root)) {
            return walk.filter(Files::isRegularFile).map(root::relativize).sorted().toList();
        }
    }
}
