package io.cohortflow.benchmarks;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The suite the README's Performance section comes from, run on a sliver of its data ({@code --quick}): every
 * measure runs against its peer on a real broker and MiniCluster and lands in the table. Its figures mean nothing
 * at this size; that they are there, from a run of the code as shipped, is what this checks.
 */
class SuiteITCase {
    @Test
    void everyMeasureRunsAndLandsInTheTable() throws Exception {
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(printed, true, StandardCharsets.UTF_8);
        List<Suite.Row> rows = Suite.run(new String[] {"--quick"}, new PrintStream(new TeeStream(out), true,
                StandardCharsets.UTF_8));
        assertThat(rows).extracting(Suite.Row::id).containsExactly("P1", "P1b", "P1", "P2", "P2", "P3", "P5", "P6");
        assertThat(rows).allSatisfy(row -> assertThat(row.figure()).matches(".*[1-9].*"));
        assertThat(rows.get(1).ratio()).as("1,000 segments against the shipped ones").matches("0\\.\\d+×|\\d+\\.\\d+×");
        assertThat(rows.get(6).peer()).as("the copy's rate").startsWith("copy ");
        assertThat(rows.get(2).peer()).as("the SQL job's rate").startsWith("Flink SQL: ");
        assertThat(rows.get(5).peer()).as("DuckDB's time").startsWith("DuckDB ");
        String table = printed.toString(StandardCharsets.UTF_8);
        assertThat(table).contains("| # | measure | figure | peer (same run) | ratio | goal | met |", "--quick");
        assertThat(table.lines().filter(line -> line.startsWith("| P"))).hasSize(rows.size());
    }

    /** Prints to the test's output too, so a run shows its progress. */
    private static final class TeeStream extends java.io.OutputStream {
        private final PrintStream copy;

        TeeStream(PrintStream copy) {
            this.copy = copy;
        }

        @Override
        public void write(int b) {
            copy.write(b);
            System.out.write(b);
        }

        @Override
        public void write(byte[] b, int off, int len) {
            copy.write(b, off, len);
            System.out.write(b, off, len);
        }
    }
}
