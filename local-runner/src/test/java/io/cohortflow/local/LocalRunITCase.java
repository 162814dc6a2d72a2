package io.cohortflow.local;

import io.cohortflow.testkit.Repository;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.cohortflow.core.segment.Cause;
import io.cohortflow.core.segment.ChangeType;
import io.cohortflow.core.segment.SegmentChange;

import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The README's local run, small: its own broker, MiniCluster and jobs, a bounded simulation, a drained summary. */
class LocalRunITCase {

    @Test
    void aBoundedRunDrainsReconcilesAndShowsTheSeedStory(@TempDir Path runDir) throws Exception {
        // A paced simulator, as in the README's run: partitions move together like live traffic. (At --rate 0 the
        // jobs replay a backlog, where one Kafka fetch can run a partition hours ahead: see the README on time.)
        Path changesFile = runDir.resolve("export/changes.jsonl");
        LocalRunOptions options = LocalRunOptions.parse(new String[] {"--days", "2", "--users", "150", "--rate", "400",
                "--web-ui-port", "0", "--feed", "story", "--start", "2026-03-02", "--conf-dir", Repository.conf().toString(),
                "--changes-out", changesFile.toString(), "--keep-data", "--collector-port", "0", "--console-port", "0"});

        LocalRun run = new LocalRun(options, runDir);
        var running = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
            try {
                return run.run();
            } catch (Exception e) {
                throw new java.util.concurrent.CompletionException(e);
            }
        });
        // While it runs, a call by hand, as the run prints it: no timestamp, so it lands at the simulated now.
        while (run.frontDoor() == null && !running.isDone()) {
            Thread.sleep(50);
        }
        LocalRun.FrontDoor door = run.frontDoor();
        assertThat(door).as("the collector is up before the simulation starts").isNotNull();
        var byHand = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
                        door.url().resolve("/v1/track"))
                .header("Authorization", "Basic " + java.util.Base64.getEncoder().encodeToString(
                        (door.writeKeys().get("web") + ":").getBytes(java.nio.charset.StandardCharsets.UTF_8)))
                .header("Content-Type", "application/json")
                .POST(java.net.http.HttpRequest.BodyPublishers.ofString(
                        "{\"event\":\"Product Viewed\",\"userId\":\"by-hand\",\"messageId\":\"by-hand-1\"}")).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        assertThat(byHand.statusCode()).isEqualTo(200);
        LocalRun.Outcome outcome = running.get(10, java.util.concurrent.TimeUnit.MINUTES);

        assertThat(outcome.delivered()).isGreaterThan(1_000);
        assertThat(outcome.byHand()).isEqualTo(1);
        assertThat(outcome.refused()).as("broken payloads the collector cannot read: not JSON, too big").isPositive();
        assertThat(outcome.refused() + outcome.unified() + outcome.deadLettered() + outcome.duplicates() + outcome.late())
                .isEqualTo(outcome.delivered() + outcome.byHand());
        assertThat(outcome.duplicates()).isPositive();
        assertThat(outcome.deadLettered()).isPositive();
        assertThat(outcome.changes()).isPositive();
        assertThat(outcome.story()).contains(
                "anon_123xyz ENTER high_intent_footwear @2026-03-02T10:02:30.040Z",
                "anon_123xyz EXIT high_intent_footwear @2026-03-02T11:04:00Z",
                "anon_123xyz ENTER cart_abandoner @2026-03-02T10:32:30.040Z");
        assertThat(runDir.resolve("ground-truth.jsonl")).isNotEmptyFile();
        // The export reads the topic after the jobs stopped; the feed counted what it saw while they ran.
        java.util.List<String> exportedIds = java.nio.file.Files.readAllLines(changesFile).stream()
                .map(line -> new io.cohortflow.core.segment.SegmentChangeCodec()
                        .decode(line.getBytes(java.nio.charset.StandardCharsets.UTF_8)).changeId()).toList();
        assertThat(exportedIds).as("every committed change, exported once").doesNotHaveDuplicates()
                .hasSizeGreaterThanOrEqualTo((int) outcome.changes());
        assertThat(runDir.resolve("kafka")).as("--keep-data").isNotEmptyDirectory();
        assertThat(runDir.resolve("history")).isDirectoryContaining(p -> p.getFileName().toString().startsWith("dt="));
        try (var partitions = java.nio.file.Files.list(runDir.resolve("history"))) {
            assertThat(partitions.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("dt=")))
                    .as("every event in the simulated days, the call by hand too").allMatch(n -> n.startsWith("dt=2026-03-0"));
        }
    }

    /**
     * The nightly loop on the real broker: simulator history → ingest-job → Parquet → training-batch (BATCH, same
     * MiniCluster) → registry (gated promotion) → models.published → the running segmentation-job swaps the bundle in
     * → persona and churn-propensity changes scored by the new version appear on segments.changes → activation-job
     * delivers them to the run's receiver. And the seed's story, told whole: anon_123xyz's visit on the last day
     * before the training, her sign-up that evening, the model putting her in the bundle audience that night with no
     * event of hers, and the ad platform's "Complete The Look" with her shoes and a jacket she viewed.
     */
    @Test
    void theNightlyLoopTrainsPromotesAndTheRunningStreamSwapsTheModelIn(@TempDir Path runDir) throws Exception {
        LocalRunOptions options = LocalRunOptions.parse(new String[] {"--days", "16", "--users", "300", "--rate", "2000",
                "--web-ui-port", "0", "--feed", "none", "--start", "2026-03-02", "--conf-dir", Repository.conf().toString(),
                "--collector-port", "0", "--console-port", "0"});
        assertThat(options.trainAtDay()).as("the last day is played after the training").isEqualTo(15);

        LocalRun.Outcome outcome = new LocalRun(options, runDir).run();

        assertThat(outcome.refused() + outcome.unified() + outcome.deadLettered() + outcome.duplicates() + outcome.late())
                .isEqualTo(outcome.delivered());
        assertThat(outcome.training()).isNotNull();
        assertThat(outcome.training().promotion().promoted()).isTrue();
        assertThat(outcome.training().manifest().version()).isEqualTo(1);
        assertThat(runDir.resolve("registry/bundle/CURRENT")).hasContent("1");
        assertThat(runDir.resolve("training-report.html")).content().contains("ROC curve", "Cluster profiles");
        assertThat(outcome.changesByModel()).as("changes before the swap say none, after it the new version")
                .containsKeys("none", "bundle@v1");
        assertThat(outcome.changesByModel().get("bundle@v1")).isGreaterThan(50);
        assertThat(outcome.membersNow()).as("every scored user is in a persona segment and a churn-risk segment")
                .containsKey("churn_risk_low")
                .hasKeySatisfying(new org.assertj.core.api.Condition<>(id -> id.startsWith("persona_"), "a persona"));
        long personaMembers = outcome.membersNow().entrySet().stream().filter(e -> e.getKey().startsWith("persona_"))
                .mapToLong(java.util.Map.Entry::getValue).sum();
        long churnMembers = outcome.membersNow().entrySet().stream().filter(e -> e.getKey().startsWith("churn_risk_"))
                .mapToLong(java.util.Map.Entry::getValue).sum();
        assertThat(personaMembers).as("one persona per scored user, like one churn band").isEqualTo(churnMembers);

        // The story's chain, in the order the feed showed it.
        List<SegmentChange> story = outcome.storyChanges();
        int highIntent = indexOf(story, c -> c.userId().equals("anon_123xyz")
                && c.segmentId().equals("high_intent_footwear") && c.type() == ChangeType.ENTER);
        int signedUp = indexOf(story, c -> c.userId().equals("anon_123xyz")
                && c.cause().equals(new Cause("identity", "merged into user_jane", null)));
        int bundle = indexOf(story, c -> c.userId().equals("user_jane")
                && c.segmentId().equals("bundle_buyer_high_propensity") && c.type() == ChangeType.ENTER);
        assertThat(List.of(highIntent, signedUp, bundle)).as(outcome.story().toString()).doesNotContain(-1)
                .isSorted();
        SegmentChange entered = story.get(bundle);
        assertThat(entered.cause()).as("the model put her there, no event of hers")
                .isEqualTo(new Cause("model", "bundle_buyer_high_propensity", "bundle@v1"));
        assertThat(entered.eventTime()).as("her clock: the sign-up's page view that evening, before the night")
                .isLessThan(java.time.Instant.parse("2026-03-17T00:00:00Z").toEpochMilli());
        assertThat(outcome.creatives()).filteredOn(c -> c.userId().equals("user_jane")).singleElement()
                .satisfies(c -> {
                    assertThat(c.look()).isEqualTo("TrailBlazer GTX ($149)");
                    assertThat(c.complement()).as("the dearest of the jackets she viewed")
                            .isEqualTo("Alpine Shell Jacket ($189)");
                    assertThat(c.emailSha256()).as("Jane.Doe@Example.com, trimmed, lower-cased, SHA-256")
                            .isEqualTo("86e0b9e56c17cc4d12387e1949b85053fbe73bc3ce5a1188713a9d300cc6133d");
                    assertThat(c.cause()).isEqualTo("model bundle_buyer_high_propensity bundle@v1");
                });

        // Every change a destination takes was delivered or dead-lettered; the 503s were retried.
        assertThat(outcome.activation()).containsOnlyKeys("ad-platform", "crm-webhook");
        assertThat(outcome.activation().values()).allSatisfy(t -> {
            assertThat(t.pending()).isZero();
            assertThat(t.delivered() + t.deadLettered()).isEqualTo(t.owed());
        });
        var ads = outcome.activation().get("ad-platform");
        var crm = outcome.activation().get("crm-webhook");
        assertThat(ads.owed()).isGreaterThan(100);
        assertThat(crm.owed()).as("churn-risk entries after the training").isPositive();
        assertThat(ads.requests() + crm.requests()).isGreaterThanOrEqualTo(20);
        assertThat(ads.refused() + crm.refused()).as("every request signed or authorised as its file says").isZero();
        assertThat(ads.failedOnPurpose() + crm.failedOnPurpose()).as("every 20th request")
                .isEqualTo((ads.requests() + crm.requests()) / 20);
        assertThat(ads.deadLettered() + crm.deadLettered()).as("a 503 is retried, never given up here").isZero();
    }

    private static int indexOf(List<SegmentChange> changes, java.util.function.Predicate<SegmentChange> which) {
        for (int i = 0; i < changes.size(); i++) {
            if (which.test(changes.get(i))) {
                return i;
            }
        }
        return -1;
    }

    /**
     * Records of one's own through ingest alone: a JSON-lines file (a login, the same call twice, a line that is not
     * JSON) and a directory with one record per file (a binary payload), no simulator, no segmentation.
     */
    @Test
    void ingestAloneOnAFileOfRecordsOfOnesOwn(@TempDir Path runDir) throws Exception {
        java.util.List<String> lines = new java.util.ArrayList<>();
        String now = java.time.Instant.now().toString();
        for (int i = 0; i < 40; i++) {
            lines.add("{\"type\":\"track\",\"event\":\"Product Viewed\",\"messageId\":\"f-" + i
                    + "\",\"anonymousId\":\"dev-" + (i % 5) + "\",\"timestamp\":\"" + now + "\"}");
        }
        lines.add("{\"type\":\"identify\",\"messageId\":\"f-login\",\"anonymousId\":\"dev-0\","
                + "\"userId\":\"u-file\",\"timestamp\":\"" + now + "\"}");
        lines.add(lines.get(3)); // sent twice
        lines.add("");           // blank lines are skipped
        lines.add("not json at all");
        Path file = runDir.resolve("records.jsonl");
        java.nio.file.Files.write(file, lines);
        LocalRunOptions options = LocalRunOptions.parse(new String[] {"--input", file.toString(), "--only", "ingest",
                "--web-ui-port", "0", "--feed", "none", "--conf-dir", Repository.conf().toString(), "--collector-port", "0", "--console-port", "0"});

        LocalRun.Outcome outcome = new LocalRun(options, runDir.resolve("run")).run();

        assertThat(outcome.delivered()).isEqualTo(43);
        assertThat(outcome.unified()).as("40 views and the login, without the link marker").isEqualTo(41);
        assertThat(outcome.deadLettered()).isEqualTo(1);
        assertThat(outcome.duplicates()).isEqualTo(1);
        assertThat(outcome.changes()).as("no segmentation").isZero();

        Path dir = runDir.resolve("records");
        java.nio.file.Files.createDirectories(dir);
        java.nio.file.Files.write(dir.resolve("1.bin"), new byte[] {(byte) 0xff, (byte) 0xfe, 0, 1});
        java.nio.file.Files.writeString(dir.resolve("2.json"), lines.get(0).replace("f-0", "g-0"));
        assertThat(new RecordFiles(dir, "web")).extracting(d -> d.key(), d -> d.payload().length)
                .containsExactly(org.assertj.core.groups.Tuple.tuple(null, 4),
                        org.assertj.core.groups.Tuple.tuple("dev-0", lines.get(0).length()));
    }

    @Test
    void rejectsUnknownOptions() {
        assertThatThrownBy(() -> LocalRunOptions.parse(new String[] {"--dayz", "2"})).hasMessageContaining("--dayz");
        assertThatThrownBy(() -> LocalRunOptions.parse(new String[] {"--days", "0"})).hasMessageContaining("at least 1");
        assertThat(LocalRunOptions.parse(new String[] {"--endless"}).simulatedDays()).isGreaterThan(365);
        assertThat(LocalRunOptions.parse(new String[] {"--days", "2"}).trainAtDay()).as("too short to train").isZero();
        assertThatThrownBy(() -> LocalRunOptions.parse(new String[] {"--days", "10", "--train-at-day", "9"}))
                .hasMessageContaining("twice the horizon");
        assertThatThrownBy(() -> LocalRunOptions.parse(new String[] {"--only", "segmentation"}))
                .hasMessageContaining("--only takes ingest");
        assertThatThrownBy(() -> LocalRunOptions.parse(new String[] {"--only", "ingest", "--changes-out", "x"}))
                .hasMessageContaining("no segments.changes");
    }
}
