package io.cohortflow.local;

import io.cohortflow.core.config.CommandLine;

import java.nio.file.Path;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.Map;
import java.util.Set;

/**
 * Options of the local run.
 *
 * <pre>
 * --days N          simulate N days, then drain the pipeline, print the summary and exit 0 (default 22)
 * --endless         keep simulating day after day until Ctrl-C
 * --users N         simulated people (default 1000)
 * --rate R          deliveries per second into events.raw after the training (default 1500; 0 = as fast as possible)
 * --train-at-day D  the nightly loop: after D simulated days, pause, train on the Parquet history, promote the models
 *                   through the registry, and go on with the rest while segmentation swaps them in (default: the
 *                   last day when --days is at least 15, else no training; 0 = no training)
 * --history-rate R  deliveries per second before the training day (default 0 = as fast as possible: a backfill)
 * --horizon D       churn horizon of the training (default 7d; the history must span more than twice that)
 * --seed S          simulator seed (default 42)
 * --start DATE      simulated day 0, yyyy-mm-dd (default: N days before today, UTC)
 * --web-ui-port P   Flink web UI port (default 8081; 0 = any free port)
 * --collector-port P  the collector's HTTP port (default 8088; 0 = any free port)
 * --console-port P  the console's HTTP port (default 8090; 0 = any free port)
 * --conf-dir DIR    where conf/ is (default ./conf)
 * --feed all|story|none  print every change, only the seed story's, or none (default all)
 * --changes-out FILE  at the end of a bounded run, write every committed segments.changes record to FILE, one JSON
 *                   object a line, in each user's order (to compare two runs)
 * --keep-data       keep the broker's data under .local-run/kafka after the run (it is deleted by default)
 * --input PATH      feed raw records of your own instead of the simulator: a JSON-lines file (one record a line), a
 *                   directory with one record per file (binary payloads), or a CSV export (read as Backfill reads it,
 *                   in the file layout of the source's mapping, and sent as replayed history); no training then
 * --input-source S  the source header of those records (default web; a webhook source such as stripe maps them
 *                   with conf/sources/)
 * --only ingest     run the ingest job alone (no segmentation, no training): map, validate, dedupe, stitch, history
 * </pre>
 */
record LocalRunOptions(int days, boolean endless, int users, double rate, long seed, LocalDate start, int webUiPort,
                       Path confDir, String feed, int trainAtDay, double historyRate, java.time.Duration horizon,
                       Path changesOut, boolean keepData, Path input, String inputSource, boolean ingestOnly,
                       int collectorPort, int consolePort) {

    private static final Set<String> KEYS = Set.of("days", "endless", "users", "rate", "seed", "start", "web-ui-port",
            "conf-dir", "feed", "help", "train-at-day", "history-rate", "horizon", "changes-out", "keep-data", "input",
            "input-source", "only", "collector-port", "console-port");

    static LocalRunOptions parse(String[] args) {
        Map<String, String> opts = CommandLine.parse(args, KEYS);
        if (opts.containsKey("help")) {
            throw new IllegalArgumentException("usage");
        }
        boolean endless = Boolean.parseBoolean(opts.getOrDefault("endless", "false"));
        int days = Integer.parseInt(opts.getOrDefault("days", "22"));
        if (days < 1) {
            throw new IllegalArgumentException("--days must be at least 1");
        }
        LocalDate start = opts.containsKey("start")
                ? LocalDate.parse(opts.get("start"))
                : LocalDate.now(ZoneOffset.UTC).minusDays(endless ? 1 : days);
        String feed = opts.getOrDefault("feed", "all");
        if (!Set.of("all", "story", "none").contains(feed)) {
            throw new IllegalArgumentException("--feed must be all, story or none");
        }
        java.time.Duration horizon = org.apache.flink.util.TimeUtils.parseDuration(opts.getOrDefault("horizon", "7d"));
        String only = opts.get("only");
        if (only != null && !only.equals("ingest")) {
            throw new IllegalArgumentException("--only takes ingest");
        }
        Path input = opts.containsKey("input") ? Path.of(opts.get("input")) : null;
        boolean ingestOnly = only != null;
        if ((input != null || ingestOnly) && (opts.containsKey("train-at-day") || endless)) {
            throw new IllegalArgumentException("--input and --only ingest run no training and are not endless");
        }
        if (ingestOnly && opts.containsKey("changes-out")) {
            throw new IllegalArgumentException("--only ingest makes no segments.changes to write out");
        }
        int trainAtDay = input != null || ingestOnly ? 0 : Integer.parseInt(opts.getOrDefault("train-at-day",
                !endless && days >= 15 ? Integer.toString(days - 1) : "0"));
        if (trainAtDay > 0 && ((!endless && trainAtDay > days) || trainAtDay * 86_400_000L <= 2 * horizon.toMillis())) {
            throw new IllegalArgumentException("--train-at-day " + trainAtDay + " needs more than twice the horizon ("
                    + horizon.toDays() + " days) of history before it, and must be within --days");
        }
        return new LocalRunOptions(days, endless, Integer.parseInt(opts.getOrDefault("users", "1000")),
                Double.parseDouble(opts.getOrDefault("rate", "1500")), Long.parseLong(opts.getOrDefault("seed", "42")),
                start, Integer.parseInt(opts.getOrDefault("web-ui-port", "8081")),
                Path.of(opts.getOrDefault("conf-dir", "conf")), feed, trainAtDay,
                Double.parseDouble(opts.getOrDefault("history-rate", "0")), horizon,
                opts.containsKey("changes-out") ? Path.of(opts.get("changes-out")) : null,
                Boolean.parseBoolean(opts.getOrDefault("keep-data", "false")), input,
                opts.getOrDefault("input-source", "web"), ingestOnly,
                Integer.parseInt(opts.getOrDefault("collector-port", "8088")),
                Integer.parseInt(opts.getOrDefault("console-port", "8090")));
    }

    /** Days handed to the simulator: endless runs simulate for ten years, i.e. until stopped. */
    int simulatedDays() {
        return endless ? 3650 : days;
    }
}
