package io.cohortflow.training;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TrainingOptionsTest {
    private static final String[] REQUIRED = {"--history", "file:///tmp/history", "--registry", "file:///tmp/registry"};

    private static TrainingOptions parse(String... more) {
        String[] args = java.util.Arrays.copyOf(REQUIRED, REQUIRED.length + more.length);
        System.arraycopy(more, 0, args, REQUIRED.length, more.length);
        return TrainingOptions.parse(args);
    }

    @Test
    void maxRowsDefaultsToHalfAMillionAndTakesAnotherValue() {
        assertThat(parse().maxRows()).isEqualTo(TrainingOptions.DEFAULT_MAX_ROWS).isEqualTo(500_000);
        assertThat(parse("--max-rows", "20000").maxRows()).isEqualTo(20_000);
    }

    @Test
    void maxRowsBelowAHundredIsRefusedByName() {
        assertThatThrownBy(() -> parse("--max-rows", "99")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--max-rows");
    }
}
