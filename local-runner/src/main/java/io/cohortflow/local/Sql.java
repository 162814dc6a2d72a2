package io.cohortflow.local;

import io.cohortflow.core.config.CommandLine;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Runs a query of sql/ over the Parquet history with DuckDB, as an analyst would with the DuckDB CLI, and prints the
 * result as a table:
 * <pre>
 * java -cp local-runner/target/local-runner.jar io.cohortflow.local.Sql --query sql/rfm.sql \
 *     [--history .local-run/history] [--as-of 2026-12-01T00:00:00Z] [--limit 20]
 * </pre>
 * It sets the variables {@code history} and {@code as_of}, creates the {@code events} view of sql/events.sql (found
 * next to the query), then runs the query's statements; the last one's rows are printed, at most {@code --limit}.
 * The same files run in the DuckDB CLI:
 * {@code duckdb -c "SET VARIABLE history = '.local-run/history'" -c ".read sql/events.sql" -c ".read sql/rfm.sql"}.
 */
public final class Sql {
    private static final Set<String> KEYS = Set.of("query", "history", "as-of", "limit");

    /** A query's result: its column names and rows (values as DuckDB's text), and how many rows there were. */
    public record Result(List<String> columns, List<List<String>> rows, long total) {
    }

    private Sql() {
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> opts = CommandLine.parse(args, KEYS);
        if (!opts.containsKey("query")) {
            throw new IllegalArgumentException("give --query FILE.sql");
        }
        Path query = Path.of(opts.get("query"));
        int limit = Integer.parseInt(opts.getOrDefault("limit", "20"));
        Result result = run(query, Path.of(opts.getOrDefault("history", ".local-run/history")),
                opts.get("as-of"), limit);
        print(result, System.out);
    }

    /** Runs {@code query} over {@code history}; keeps at most {@code limit} rows of its result. */
    public static Result run(Path query, Path history, String asOf, int limit) throws IOException, SQLException {
        if (!Files.isDirectory(history)) {
            throw new IllegalArgumentException("--history " + history + ": no such directory (run the import first)");
        }
        Path view = query.toAbsolutePath().getParent().resolve("events.sql");
        try (Connection duck = DriverManager.getConnection("jdbc:duckdb:");
             Statement sql = duck.createStatement()) {
            sql.execute("SET VARIABLE history = '" + history.toAbsolutePath().toString().replace("'", "''") + "'");
            if (asOf != null) {
                sql.execute("SET VARIABLE as_of = CAST('" + java.time.Instant.parse(asOf) + "' AS TIMESTAMPTZ)");
            }
            sql.execute("SET TimeZone = 'UTC'");
            for (String statement : statements(Files.readString(view))) {
                sql.execute(statement);
            }
            List<String> statements = statements(Files.readString(query));
            for (int i = 0; i < statements.size() - 1; i++) {
                sql.execute(statements.get(i));
            }
            try (ResultSet rs = sql.executeQuery(statements.get(statements.size() - 1))) {
                ResultSetMetaData meta = rs.getMetaData();
                List<String> columns = new ArrayList<>();
                for (int c = 1; c <= meta.getColumnCount(); c++) {
                    columns.add(meta.getColumnLabel(c));
                }
                List<List<String>> rows = new ArrayList<>();
                long total = 0;
                while (rs.next()) {
                    total++;
                    if (rows.size() < limit) {
                        List<String> row = new ArrayList<>();
                        for (int c = 1; c <= columns.size(); c++) {
                            row.add(rs.getString(c));
                        }
                        rows.add(row);
                    }
                }
                return new Result(columns, rows, total);
            }
        }
    }

    /** The statements of a script: split at semicolons that end a line, comments dropped. */
    static List<String> statements(String script) {
        StringBuilder text = new StringBuilder();
        for (String line : script.split("\n")) {
            String trimmed = line.strip();
            if (!trimmed.startsWith("--")) {
                text.append(line).append('\n');
            }
        }
        List<String> statements = new ArrayList<>();
        for (String part : text.toString().split(";\\s*\n")) {
            if (!part.isBlank()) {
                statements.add(part.strip().replaceAll(";$", ""));
            }
        }
        if (statements.isEmpty()) {
            throw new IllegalArgumentException("the script has no statement");
        }
        return statements;
    }

    static void print(Result result, PrintStream out) {
        int[] widths = new int[result.columns().size()];
        for (int c = 0; c < widths.length; c++) {
            widths[c] = result.columns().get(c).length();
            for (List<String> row : result.rows()) {
                widths[c] = Math.max(widths[c], String.valueOf(row.get(c)).length());
            }
        }
        StringBuilder line = new StringBuilder();
        for (int c = 0; c < widths.length; c++) {
            line.append(c == 0 ? "" : "  ").append(String.format("%-" + widths[c] + "s", result.columns().get(c)));
        }
        out.println(line.toString().stripTrailing());
        for (List<String> row : result.rows()) {
            line.setLength(0);
            for (int c = 0; c < widths.length; c++) {
                String cell = String.valueOf(row.get(c));
                // Numbers right-aligned, text left-aligned.
                String format = cell.matches("-?[0-9.]+") ? "%" + widths[c] + "s" : "%-" + widths[c] + "s";
                line.append(c == 0 ? "" : "  ").append(String.format(format, cell));
            }
            out.println(line.toString().stripTrailing());
        }
        out.printf("(%,d rows%s)%n", result.total(), result.total() > result.rows().size()
                ? ", the first " + result.rows().size() + " shown" : "");
    }
}
