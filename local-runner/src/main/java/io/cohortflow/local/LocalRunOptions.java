package io.cohortflow.local;

import java.nio.file.Path;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * Options of the local run.
 *
 * <pre>
 * --days N          simulate N days, then drain the pipeline, print the summary and exit 0 (default 2)
 * --endless         keep simulating day after day until Ctrl-C
 * --users N         simulated people (default 2000)
 * --rate R          deliveries per second into events.raw (default 1500; 0 = as fast as possible)
 * --seed S          simulator seed (default 42)
 * --start DATE      simulated day 0, yyyy-mm-dd (default: N days before today, UTC)
 * --web-ui-port P   Flink web UI port (default 8081; 0 = any free port)
 * --conf-dir DIR    where conf/ is (default ./conf)
 * --feed all|story|none  print every change, only the seed story's, or none (default all)
 * </pre>
 */
record LocalRunOptions(int days, boolean endless, int users, double rate, long seed, LocalDate start, int webUiPort,
                       Path confDir, String feed) {

    private static final Set<String> KEYS = Set.of("days", "endless", "users", "rate", "seed", "start", "web-ui-port",
            "conf-dir", "feed", "help");

    static LocalRunOptions parse(String[] args) {
        Map<String, String> opts = new LinkedHashMap<>();
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            if (!arg.startsWith("--")) {
                throw new IllegalArgumentException("expected --option, got '" + arg + "'");
            }
            String key = arg.substring(2);
            String value = "true";
            int eq = key.indexOf('=');
            if (eq > 0) {
                value = key.substring(eq + 1);
                key = key.substring(0, eq);
            } else if (i + 1 < args.length && !args[i + 1].startsWith("--")) {
                value = args[++i];
            }
            if (!KEYS.contains(key)) {
                throw new IllegalArgumentException("unknown option --" + key + "; known: " + KEYS);
            }
            opts.put(key, value);
        }
        if (opts.containsKey("help")) {
            throw new IllegalArgumentException("usage");
        }
        boolean endless = Boolean.parseBoolean(opts.getOrDefault("endless", "false"));
        int days = Integer.parseInt(opts.getOrDefault("days", "2"));
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
        return new LocalRunOptions(days, endless, Integer.parseInt(opts.getOrDefault("users", "2000")),
                Double.parseDouble(opts.getOrDefault("rate", "1500")), Long.parseLong(opts.getOrDefault("seed", "42")),
                start, Integer.parseInt(opts.getOrDefault("web-ui-port", "8081")),
                Path.of(opts.getOrDefault("conf-dir", "conf")), feed);
    }

    /** Days handed to the simulator: endless runs simulate for ten years, i.e. until stopped. */
    int simulatedDays() {
        return endless ? 3650 : days;
    }
}
