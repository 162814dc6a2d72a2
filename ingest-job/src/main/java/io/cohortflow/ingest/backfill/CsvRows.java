package io.cohortflow.ingest.backfill;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.csv.CsvMapper;
import com.fasterxml.jackson.dataformat.csv.CsvSchema;
import io.cohortflow.ingest.mapping.SegmentSpecMapper;
import io.cohortflow.ingest.mapping.SourceMapping;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
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
 * A source's mapping may declare the file's layout ({@link SourceMapping.FileLayout}): the kinds of its columns
 * (a declared kind wins over the cells), and a group column, so that the rows of one invoice become one record: the
 * first row's columns, with every row of the group (each typed as above) in an array. Rows of a group must be
 * together, as exports write them; a group that comes back after another is refused, naming both rows, since sending
 * it twice would make the second half a duplicate.
 *
 * <p>The file is read twice: once to type the columns, count the rows (so that progress is in rows of the whole) and
 * check the groups, then to send.
 */
final class CsvRows {
    private static final Set<String> IDS = Set.copyOf(SegmentSpecMapper.ID_FIELDS);
    private static final Set<String> TIMES = Set.of("timestamp", "sentAt", "originalTimestamp");
    private static final Pattern LONG = Pattern.compile("-?(0|[1-9]\\d{0,17})");
    private static final Pattern NUMBER = Pattern.compile("-?(0|[1-9]\\d*)(\\.\\d+)?([eE][+-]?\\d+)?");
    private static final DateTimeFormatter LOCAL = DateTimeFormatter.ofPattern("yyyy-MM-dd[' ']['T']HH:mm[:ss][.SSS]");

    /** How a column's cells are written. */
    enum Kind { ID, TIME, LONG, DOUBLE, BOOLEAN, TEXT }

    private final Map<String, Kind> kinds;
    private final long rows;
    private final long records;
    private final Backfill.Times times;
    private final DateTimeFormatter format;
    private final SourceMapping.Group group;
    private final List<String> warnings;

    private CsvRows(Map<String, Kind> kinds, long rows, long records, Backfill.Times times, SourceMapping.Group group,
                    List<String> warnings) {
        this.warnings = List.copyOf(warnings);
        this.kinds = kinds;
        this.rows = rows;
        this.records = records;
        this.times = times;
        this.format = times.format() == null ? null : DateTimeFormatter.ofPattern(times.format());
        this.group = group;
    }

    /** Cells of a declared column that are not of its kind: how many, and the first. */
    private static final class Misfit {
        private final String first;
        private long count;

        Misfit(String first) {
            this.first = first;
        }
    }

    /** {@link #plan(Path, Backfill.Times, SourceMapping.FileLayout)} with no layout: every column typed by its cells. */
    static CsvRows plan(Path file, Backfill.Times times) throws IOException {
        return plan(file, times, null);
    }

    /** Reads {@code file} once: each column's kind, the number of rows and of records, and that groups are whole. */
    static CsvRows plan(Path file, Backfill.Times times, SourceMapping.FileLayout layout) throws IOException {
        Map<String, boolean[]> seen = new LinkedHashMap<>(); // per column: all long, all number, all boolean
        SourceMapping.Group group = layout == null ? null : layout.group();
        Map<String, String> declared = layout == null ? Map.of() : layout.columns();
        Map<String, Misfit> misfits = new LinkedHashMap<>();
        Map<String, Long> groupStarts = new java.util.HashMap<>(); // group value -> its first row
        String[] current = {null};
        long[] rows = {0, 0}; // rows, records
        read(file, row -> {
            rows[0]++;
            String key = group == null ? "" : groupKey(row, group);
            if (key.isEmpty()) {
                rows[1]++; // no group: a record of its own
                current[0] = null;
            } else {
                if (!key.equals(current[0])) {
                    Long first = groupStarts.putIfAbsent(key, rows[0]);
                    if (first != null) {
                        throw new IllegalArgumentException(file.getFileName() + ": the rows of " + group.by() + " "
                                + key + " are not together (rows " + first + " and " + rows[0]
                                + "); sort the file by " + group.by());
                    }
                    current[0] = key;
                    rows[1]++;
                }
            }
            row.forEach((name, value) -> {
                boolean[] all = seen.computeIfAbsent(name.trim(), n -> new boolean[] {true, true, true});
                if (value != null && !value.isEmpty() && declared.containsKey(name.trim())) {
                    Kind kind = Kind.valueOf(declared.get(name.trim()).toUpperCase(java.util.Locale.ROOT));
                    if (EnumSet.of(Kind.LONG, Kind.DOUBLE, Kind.BOOLEAN).contains(kind) && typed(kind, value) == null) {
                        misfits.computeIfAbsent(name.trim(), n -> new Misfit(rows[0] + ": '" + value + "'")).count++;
                    }
                }
                if (value != null && !value.isEmpty()) {
                    // Neither pattern takes a leading zero (007): such a cell makes its column text.
                    all[0] &= LONG.matcher(value).matches();
                    all[1] &= NUMBER.matcher(value).matches();
                    all[2] &= value.equals("true") || value.equals("false");
                }
            });
        });
        if (group != null && rows[0] > 0 && !seen.containsKey(group.by())) {
            throw new IllegalArgumentException(file.getFileName() + " has no column " + group.by() + ", which the "
                    + "source's file layout groups rows by; its columns: " + seen.keySet());
        }
        Map<String, Kind> kinds = new LinkedHashMap<>();
        seen.forEach((name, all) -> kinds.put(name, declared.containsKey(name)
                ? Kind.valueOf(declared.get(name).toUpperCase(java.util.Locale.ROOT))
                : IDS.contains(name) ? Kind.ID : TIMES.contains(name) ? Kind.TIME
                : all[0] ? Kind.LONG : all[1] ? Kind.DOUBLE : all[2] ? Kind.BOOLEAN : Kind.TEXT));
        List<String> warnings = new ArrayList<>();
        misfits.forEach((column, m) -> warnings.add(String.format("column %s is declared %s, but %s cells are not (the"
                + " first in row %s); they pass as text", column, declared.get(column), m.count, m.first)));
        return new CsvRows(kinds, rows[0], rows[1], times, group, warnings);
    }

    /** The group column's cell, trimmed; empty when the row has none (then it is a record of its own). */
    private static String groupKey(Map<String, String> row, SourceMapping.Group group) {
        String key = row.get(group.by());
        return key == null ? "" : key.trim();
    }

    long rows() {
        return rows;
    }

    /** The records the rows make: one a row, or one a group. */
    long records() {
        return records;
    }

    Map<String, Kind> kinds() {
        return kinds;
    }

    /**
     * Every record of {@code file}, in order: a row as a call, or a group's first row with all of its rows under the
     * group's array. {@code rowsDone} hears of every row read, for progress.
     */
    void each(Path file, Consumer<ObjectNode> record, java.util.function.LongConsumer rowsDone) throws IOException {
        if (group == null) {
            long[] n = {0};
            read(file, row -> {
                record.accept(call(row));
                rowsDone.accept(++n[0]);
            });
            return;
        }
        ObjectNode[] open = {null};
        String[] key = {null};
        long[] n = {0};
        read(file, row -> {
            String k = groupKey(row, group);
            ObjectNode call = call(row);
            if (open[0] != null && !k.equals(key[0])) {
                record.accept(open[0]);
                open[0] = null;
            }
            if (k.isEmpty()) {
                // No group value: a record of its own (the mapping judges it), never merged with its neighbours.
                ObjectNode alone = call.deepCopy();
                alone.putArray(group.into()).add(call);
                record.accept(alone);
                rowsDone.accept(++n[0]);
                return;
            }
            if (open[0] == null) {
                open[0] = call.deepCopy();
                open[0].putArray(group.into());
                key[0] = k;
            }
            ((com.fasterxml.jackson.databind.node.ArrayNode) open[0].get(group.into())).add(call);
            rowsDone.accept(++n[0]);
        });
        if (open[0] != null) {
            record.accept(open[0]);
        }
    }

    private static void read(Path file, Consumer<Map<String, String>> row) throws IOException {
        try (InputStream in = new BufferedInputStream(Files.newInputStream(file), 1 << 16);
             MappingIterator<Map<String, String>> rows = new CsvMapper().readerForMapOf(String.class)
                     .with(CsvSchema.emptySchema().withHeader())
                     .with(com.fasterxml.jackson.dataformat.csv.CsvParser.Feature.SKIP_EMPTY_LINES) // as in JSON lines
                     .readValues(in)) {
            while (rows.hasNextValue()) {
                Map<String, String> cells = new LinkedHashMap<>();
                rows.nextValue().forEach((header, value) -> cells.put(header.trim(), value)); // " InvoiceNo" is InvoiceNo
                row.accept(cells);
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
                case LONG, DOUBLE, BOOLEAN -> {
                    JsonNode typed = typed(kinds.get(name), value);
                    // Only a declared column can hold a cell that does not fit (planned ones fit by construction):
                    // it passes as text, so the mapping sees it and nothing is dropped; plan() warned of it.
                    node.set(leaf, typed != null ? typed : JsonNodeFactory.instance.textNode(value));
                }
                case TEXT -> node.put(leaf, value);
            }
        });
        return root;
    }

    /** The cell as {@code kind}, or null when it is not one. */
    private static JsonNode typed(Kind kind, String value) {
        try {
            return switch (kind) {
                case LONG -> JsonNodeFactory.instance.numberNode(Long.parseLong(value.trim()));
                case DOUBLE -> NUMBER.matcher(value.trim()).matches() || value.trim().matches("-?\\d+(\\.\\d*)?")
                        ? JsonNodeFactory.instance.numberNode(Double.parseDouble(value.trim())) : null;
                case BOOLEAN -> value.trim().equals("true") || value.trim().equals("false")
                        ? JsonNodeFactory.instance.booleanNode(Boolean.parseBoolean(value.trim())) : null;
                default -> null;
            };
        } catch (NumberFormatException e) {
            return null;
        }
    }

    /** Cells of declared columns that are not of the declared kind: they pass as text. */
    List<String> warnings() {
        return warnings;
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
