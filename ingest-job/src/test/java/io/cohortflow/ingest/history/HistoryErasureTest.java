package io.cohortflow.ingest.history;

import io.cohortflow.core.event.EventType;
import io.cohortflow.core.event.UnifiedEvent;
import io.cohortflow.core.privacy.PrivacyRequest;
import io.cohortflow.core.privacy.PrivacyStatus;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

class HistoryErasureTest {
    private static final long DAY1 = Instant.parse("2026-03-08T12:00:00Z").toEpochMilli();
    private static final long DAY2 = Instant.parse("2026-03-09T12:00:00Z").toEpochMilli();

    /**
     * Jane browsed as anon_jane (day 1), then signed up (day 2); SUPPRESS_WITH_DELETE of user_jane takes both ids'
     * rows. Bob is DELETEd at noon on day 2: his rows received by then go, the one after stays. Files holding none of
     * them are not touched; DuckDB over the history afterwards finds none of the rows that went.
     */
    @Test
    void rewritesOnlyTheFilesHoldingTheirRowsAndRecordsWhatItDid(@TempDir Path history) throws Exception {
        List<UnifiedEvent> a = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            a.add(event("a-jane-" + i, "anon_jane", null, "anon_jane", DAY1 + i));
        }
        for (int i = 0; i < 5; i++) {
            a.add(event("a-other-" + i, "anon_o" + i, null, "anon_o" + i, DAY1 + i));
        }
        write(history.resolve("dt=2026-03-08/events-a.parquet"), a);
        List<UnifiedEvent> b = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            b.add(event("b-other-" + i, "anon_o" + i, null, "anon_o" + i, DAY1 + i));
        }
        write(history.resolve("dt=2026-03-08/events-b.parquet"), b);
        List<UnifiedEvent> c = new ArrayList<>(List.of(
                new UnifiedEvent("c-signup", EventType.IDENTIFY, null, "anon_jane", "user_jane", "user_jane", DAY2, null,
                        DAY2, "web", null, Map.of(), Map.of("email", "jane@example.com"), Map.of()),
                event("c-jane-0", null, "user_jane", "user_jane", DAY2 + 1),
                event("c-jane-1", null, "user_jane", "user_jane", DAY2 + 2)));
        for (int i = 0; i < 3; i++) {
            c.add(event("c-other-" + i, null, "user_o" + i, "user_o" + i, DAY2 + i));
        }
        write(history.resolve("dt=2026-03-09/events-c.parquet"), c);
        write(history.resolve("dt=2026-03-09/events-d.parquet"), List.of(
                event("d-bob-before", null, "bob", "bob", DAY2 - 1_000),
                event("d-bob-after", null, "bob", "bob", DAY2 + 1_000)));
        long untouched = Files.getLastModifiedTime(history.resolve("dt=2026-03-08/events-b.parquet")).toMillis();

        List<PrivacyRequest> requests = List.of(
                new PrivacyRequest("req-jane", PrivacyRequest.Type.SUPPRESS_WITH_DELETE, List.of("user_jane"), DAY2 + 5_000,
                        "dpo@example.com"),
                new PrivacyRequest("req-bob", PrivacyRequest.Type.DELETE, List.of("bob"), DAY2, "dpo@example.com"),
                new PrivacyRequest("req-quiet", PrivacyRequest.Type.SUPPRESS, List.of("user_o1"), DAY2, "dpo@example.com"));
        List<PrivacyStatus> reports = new ArrayList<>();
        // A request made after the margin waits for the next run (ingest may not have committed its rows yet).
        List<PrivacyRequest> withARecentOne = new ArrayList<>(requests);
        withARecentOne.add(new PrivacyRequest("req-recent", PrivacyRequest.Type.DELETE, List.of("user_o2"),
                DAY2 + 10 * 60_000, "dpo@example.com"));
        HistoryErasure.Result result = HistoryErasure.run(history.toUri().toString(), withARecentOne, DAY2 + 60_000,
                128L << 20, new PrintStream(new ByteArrayOutputStream()), reports::addAll);

        assertThat(result.requests()).as("a request that only suppresses deletes nothing")
                .containsExactly("req-jane", "req-bob");
        assertThat(result.rowsRemoved()).as("not user_o2's: that request is too recent").isEqualTo(3 + 3 + 1);
        assertThat(result.filesIn()).as("a, c and d; b holds none of them").isEqualTo(3);
        assertThat(result.failed()).isEmpty();
        assertThat(history.resolve("dt=2026-03-08/events-b.parquet")).exists();
        assertThat(Files.getLastModifiedTime(history.resolve("dt=2026-03-08/events-b.parquet")).toMillis())
                .isEqualTo(untouched);
        assertThat(history.resolve("dt=2026-03-08/events-a.parquet")).doesNotExist();
        try (Connection duck = DriverManager.getConnection("jdbc:duckdb:"); Statement sql = duck.createStatement();
             ResultSet rs = sql.executeQuery("SELECT string_agg(messageId, ',' ORDER BY messageId), count(*) FILTER "
                     + "(WHERE userId IN ('user_jane', 'bob') OR anonymousId = 'anon_jane' OR resolvedId = 'user_jane') "
                     + "FROM read_parquet('" + history + "/*/*.parquet')")) {
            rs.next();
            assertThat(rs.getString(1)).isEqualTo("a-other-0,a-other-1,a-other-2,a-other-3,a-other-4,b-other-0,"
                    + "b-other-1,b-other-2,b-other-3,c-other-0,c-other-1,c-other-2,d-bob-after");
            assertThat(rs.getLong(2)).as("only Bob's row from after his DELETE").isEqualTo(1);
        }
        try (Stream<Path> left = Files.walk(history)) {
            assertThat(left.map(f -> f.getFileName().toString())
                    .filter(n -> n.startsWith(".compacting") || n.startsWith("_compaction"))).as("nothing left behind")
                    .isEmpty();
        }
        String record = Files.readString(history.resolve("_erasures/req-jane.json"));
        assertThat(record).contains("\"rowsRemoved\" : 7", "dt=2026-03-08/events-a.parquet",
                "dt=2026-03-09/events-c.parquet").doesNotContain("user_jane", "anon_jane");
        assertThat(history.resolve("_erasures/req-bob.json")).exists();
        assertThat(reports).extracting(PrivacyStatus::requestId, PrivacyStatus::state).containsExactly(
                org.assertj.core.groups.Tuple.tuple("req-jane", PrivacyStatus.State.RUNNING),
                org.assertj.core.groups.Tuple.tuple("req-bob", PrivacyStatus.State.RUNNING),
                org.assertj.core.groups.Tuple.tuple("req-jane", PrivacyStatus.State.DONE),
                org.assertj.core.groups.Tuple.tuple("req-bob", PrivacyStatus.State.DONE));
        assertThat(reports.get(2).detail()).isEqualTo("7 rows removed from 3 files (2 written in their place)");

        // Recorded: the next run takes nothing and touches nothing; it reports both done again, as recorded (a report
        // lost after the record is made good).
        List<PrivacyStatus> done = reports.subList(2, 4).stream().toList();
        reports.clear();
        HistoryErasure.Result again = HistoryErasure.run(history.toUri().toString(), requests, Long.MAX_VALUE,
                128L << 20, new PrintStream(new ByteArrayOutputStream()), reports::addAll);
        assertThat(again.requests()).isEmpty();
        assertThat(reports).containsExactlyElementsOf(done);
    }

    @Test
    void theCommandLineIsParsedWithoutFlink() {
        HistoryErasure.Options o = HistoryErasure.parse(new String[] {"--history", "file:///h", "--bootstrap-servers",
                "k:9092", "--min-age", "30m"});
        assertThat(o.minAge()).isEqualTo(java.time.Duration.ofMinutes(30));
        assertThat(o.topic()).isEqualTo("privacy.requests");
        assertThat(HistoryErasure.parse(new String[] {"--history", "h", "--bootstrap-servers", "k"}).minAge())
                .as("the default margin").isEqualTo(java.time.Duration.ofHours(1));
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> HistoryErasure.minAge("soon"))
                .hasMessageContaining("--min-age");
    }

    private static UnifiedEvent event(String messageId, String anonymousId, String userId, String resolvedId, long at) {
        return new UnifiedEvent(messageId, EventType.TRACK, "product_view", anonymousId, userId, resolvedId, at, null,
                at, "web", null, Map.of("price", 10.0), Map.of(), Map.of());
    }

    private static void write(Path file, List<UnifiedEvent> events) throws Exception {
        HistoryFixtures.writeEvents(file, events);
    }
}
