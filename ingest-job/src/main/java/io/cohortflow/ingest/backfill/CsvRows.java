package io.cohortflow.ingest.backfill;

import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.csv.CsvMapper;
import com.fasterxml.jackson.dataformat.csv.CsvSchema;
import io.cohortflow.ingest.mapping.SegmentSpecMapper;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import java.util.regex.Pattern;

/**
 * A CSV export's rows as calls (JSON objects), each column typed once for the whole file, so that a column never
 * lands as numbers in some rows and text in others.
 *
 * <ul>
 *   <li>The header names the fields; a dotted name nests ({@code properties.price}); an empty cell is absent; a
 *       blank line is no row.</li>
 *   <li>Ids ({@code userId}, {@code anonymousId}, {@code messageId}, {@code groupId}, {@code previousId}) are always
 *       text, and a whole number written as a decimal ({@code 17850.0}, as spreadsheets export ids) is written as the
 *       whole number ({@code 17850}).</li>
 *   <li>Times ({@code timestamp}, {@code sentAt}, {@code originalTimestamp}): ISO-8601 with an offset passes as it is;
 *       a time without a zone ({@code 2010-12-01 08:26:00}, {@code 2010-12-01T08:26}) or in the {@code --timestamp-format}
 *       pattern ({@code M/d/yyyy H:mm}) is read in {@code --zone} (default UTC) and written as an ISO instant. A cell
 *       that reads as none of those passes as it is, and ingest dead-letters its call as INVALID_TIMESTAMP.</li>
 *   <li>Any other column is a whole number when every cell of it is one, else a number when every cell is one, else
 *       true/false when every cell is one, else text. A cell with a leading zero ({@code 007}) makes its column text.</li>
 * </ul>
 * The file is read twice: once to type the columns and count the rows (so that progress is in rows of the whole),
 * then to send.
 */
final class CsvRows {
    private static final Set<String> IDS = Set.copyOf(SegmentSpecMapper.ID_FIELDS);
    private static final Set<String> TIMES = Set.of("timestamp", "sentAt", "originalTimestamp");
    private static final Pattern LONG = Pattern.compile("-?(0|[1-9]\\d{0,17})");
    private static final Pattern NUMBER = Pattern.compile("-?(0|[1-9]\\d*)(\\.\\d+)?([eE][+-]?\\d+)?");
    private static final DateTimeFormatter LOCAL = DateTimeFormatter.ofPattern("yyyy-MM-dd[' ']['T']HH:mm[:ss][.SSS]");

    /** How a column's cells are written. */
    enum Kind { ID, TIME, LONG, DOUBLE, BOOLEAN, TEXT }

    /** How times without a zone are read: the {@code --timestamp-format} pattern (or null) and {@code --zone}. */
    record Times(String format, ZoneId zone) {
        static final Times UTC = new Times(null, ZoneId.of("UTC"));
    }

    private final Map<String, Kind> kinds;
    private final long rows;
    private final Times times;
    private final DateTimeFormatter format;

    private CsvRows(Map<String, Kind> kinds, long rows, Times times) {
        this.kinds = kinds;
        this.rows = rows;
        this.times = times;
        this.format = times.format() == null ? null : DateTimeFormatter.ofPattern(times.format());
    }

    /** Reads {@code file} once: each column's kind, and the number of rows. */
    static CsvRows plan(Path file, Times times) throws IOException {
        Map<String, boolean[]> seen = new LinkedHashMap<>(); // per column: all long, all number, all boolean
        long[] rows = {0};
        read(file, row -> {
            rows[0]++;
            row.forEach((name, value) -> {
                boolean[] all = seen.computeIfAbsent(name.trim(), n -> new boolean[] {true, true, true});
                if (value != null && !value.isEmpty()) {
                    // Neither pattern takes a leading zero (007): such a cell makes its column text.
                    all[0] &= LONG.matcher(value).matches();
                    all[1] &= NUMBER.matcher(value).matches();
                    all[2] &= value.equals("true") || value.equals("false");
                }
            });
        });
        Map<String, Kind> kinds = new LinkedHashMap<>();
        seen.forEach((name, all) -> kinds.put(name, IDS.contains(name) ? Kind.ID : TIMES.contains(name) ? Kind.TIME
                : all[0] ? Kind.LONG : all[1] ? Kind.DOUBLE : all[2] ? Kind.BOOLEAN : Kind.TEXT));
        return new CsvRows(kinds, rows[0], times);
    }

    long rows() {
        return rows;
    }

    Map<String, Kind> kinds() {
        return kinds;
    }

    /** Every row of {@code file} as a call, in order. */
    void each(Path file, Consumer<ObjectNode> call) throws IOException {
        read(file, row -> call.accept(call(row)));
    }

    private static void read(Path file, Consumer<Map<String, String>> row) throws IOException {
        try (InputStream in = new BufferedInputStream(Files.newInputStream(file), 1 << 16);
             MappingIterator<Map<String, String>> rows = new CsvMapper().readerForMapOf(String.class)
                     .with(CsvSchema.emptySchema().withHeader())
                     .with(com.fasterxml.jackson.dataformat.csv.CsvParser.Feature.SKIP_EMPTY_LINES) // as in JSON lines
                     .readValues(in)) {
            while (rows.hasNextValue()) {
                row.accept(rows.nextValue());
            }
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }

    /** A row as a call: dotted names nest, each cell written as its column's kind, empty cells absent. */
    ObjectNode call(Map<String, String> row) {
        ObjectNode root = JsonNodeFactory.instance.objectNode();
        row.forEach((header, value) -> {
            if (value == null || value.isEmpty()) {
                return;
            }
            String name = header.trim();
            String[] path = name.split("\\.");
            ObjectNode node = root;
            for (int i = 0; i < path.length - 1; i++) {
                node = node.has(path[i]) && node.get(path[i]).isObject()
                        ? (ObjectNode) node.get(path[i]) : node.putObject(path[i]);
            }
            String leaf = path[path.length - 1];
            switch (kinds.getOrDefault(name, Kind.TEXT)) {
                case ID -> {
                    // A number cell reads as ingest reads a number id (17850.0 is 17850); anything else as it is.
                    String id = NUMBER.matcher(value).matches()
                            ? SegmentSpecMapper.idText(JsonNodeFactory.instance.numberNode(new java.math.BigDecimal(value)))
                            : null;
                    node.put(leaf, id != null ? id : value);
                }
                case TIME -> node.put(leaf, time(value));
                case LONG -> node.put(leaf, Long.parseLong(value));
                case DOUBLE -> node.put(leaf, Double.parseDouble(value));
                case BOOLEAN -> node.put(leaf, Boolean.parseBoolean(value));
                case TEXT -> node.put(leaf, value);
            }
        });
        return root;
    }

    /** The time as an ISO instant when it has an offset, has none, or is in the given format; else as it is. */
    String time(String value) {
        try {
            return OffsetDateTime.parse(value).toInstant().toString();
        } catch (DateTimeParseException e) {
            // not ISO with an offset: read below
        }
        for (DateTimeFormatter pattern : format == null ? new DateTimeFormatter[] {LOCAL}
                : new DateTimeFormatter[] {format, LOCAL}) {
            try {
                return LocalDateTime.parse(value, pattern).atZone(times.zone()).toInstant().toString();
            } catch (DateTimeParseException e) {
                // the next pattern
            }
        }
        return value; // ingest dead-letters it as INVALID_TIMESTAMP, with the value in the reason
    }
}
