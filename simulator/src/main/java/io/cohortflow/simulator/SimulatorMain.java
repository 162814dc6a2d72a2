package io.cohortflow.simulator;

import io.cohortflow.core.config.CommandLine;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.Map;
import java.util.Set;

/**
 * Command line: simulate users and write their events to Kafka or to JSON-lines files.
 *
 * <pre>
 * java -cp ... io.cohortflow.simulator.SimulatorMain --users 1000 --days 3 --seed 42 \
 *     (--bootstrap-servers HOST:PORT [--topic events.raw] [--rate 2000] | --out-dir DIR) \
 *     [--start 2026-01-05] [--ground-truth truth.jsonl] [--duplicate-rate 0.01] [--late-rate 0.02] [--malformed-rate 0.005]
 *     [--realism 0..1 (people less than textbook personas: mixed journeys, drifting pace, breaks, sudden stops)]
 *     [--story-day D (the day of anon_123xyz's visit, default 0) | --no-seed-story]
 *
 * java -cp ... io.cohortflow.simulator.SimulatorMain --retail-csv orders.csv --users 4000 --days 400 [--seed 42]
 *     [--start 2025-10-28]
 * </pre>
 * {@code --retail-csv} writes a retailer's order export instead ({@link RetailOrders}): one row per invoice line in
 * the layout of the UCI "Online Retail" dataset, orders only, ending at the start of today (UTC) unless {@code --start}
 * says otherwise.
 */
public final class SimulatorMain {
    private static final Set<String> KEYS = Set.of("users", "days", "seed", "start", "bootstrap-servers", "topic",
            "rate", "out-dir", "ground-truth", "duplicate-rate", "late-rate", "malformed-rate", "no-seed-story",
            "retail-csv", "realism", "story-day");

    private SimulatorMain() {
    }

    public static void main(String[] args) {
        Map<String, String> opts = parse(args);
        SimulatorConfig config = configFrom(opts);
        if (opts.containsKey("retail-csv") && opts.containsKey("realism")) {
            throw new IllegalArgumentException("--realism is for the web and app simulation; --retail-csv customers "
                    + "already buy at their own pace and drop out unannounced");
        }
        if (opts.containsKey("retail-csv")) {
            writeRetailCsv(Path.of(opts.get("retail-csv")), config);
            return;
        }
        Simulator simulator = new Simulator(config);
        if (opts.containsKey("ground-truth")) {
            GroundTruthFile.write(Path.of(opts.get("ground-truth")), simulator.groundTruth());
        }
        DeliverySink sink;
        if (opts.containsKey("bootstrap-servers")) {
            sink = new KafkaDeliverySink(opts.get("bootstrap-servers"), opts.getOrDefault("topic", "events.raw"));
        } else if (opts.containsKey("out-dir")) {
            sink = new JsonlDeliverySink(Path.of(opts.get("out-dir")));
        } else {
            throw new IllegalArgumentException("give --bootstrap-servers or --out-dir");
        }
        double rate = Double.parseDouble(opts.getOrDefault("rate", "0"));
        System.out.printf("simulating %d users over %d days from %s (seed %d)%n", config.users(), config.days(),
                config.start(), config.seed());
        try (sink) {
            Playback.play(simulator, sink, rate, Duration.ofSeconds(2),
                    p -> System.out.printf("  sent %,d deliveries (%s), simulated time %s, %.0f/s%n", p.sent(),
                            p.byKind(), Instant.ofEpochMilli(p.simulatedTime()), p.ratePerSecond()),
                    () -> false);
        }
    }

    private static void writeRetailCsv(Path file, SimulatorConfig config) {
        System.out.printf("simulating the orders of %,d customers over %d days from %s (seed %d)%n", config.users(),
                config.days(), config.start(), config.seed());
        long started = System.nanoTime();
        var orders = RetailOrders.generate(config.seed(), config.users(), config.days(), config.start());
        try {
            RetailOrders.Export export = RetailOrders.writeCsv(orders, file, config.seed());
            System.out.printf("wrote %s: %,d rows, %,d invoices (%,d cancellations, %,d guest checkouts) of %,d customers"
                            + " in %.1f s%n", file, export.rows(), export.invoices(), export.cancellations(),
                    export.guestInvoices(), orders.stream().map(RetailOrders.Order::customerId).distinct().count(),
                    (System.nanoTime() - started) / 1e9);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException("cannot write " + file, e);
        }
    }

    /** Builds the simulator config from parsed options, with the defaults of {@link SimulatorConfig#of}. */
    public static SimulatorConfig configFrom(Map<String, String> opts) {
        int days = Integer.parseInt(opts.getOrDefault("days", "3"));
        Instant start = opts.containsKey("start")
                ? LocalDate.parse(opts.get("start")).atStartOfDay().toInstant(ZoneOffset.UTC)
                : LocalDate.now(ZoneOffset.UTC).minusDays(days).atStartOfDay().toInstant(ZoneOffset.UTC);
        SimulatorConfig defaults = SimulatorConfig.of(Long.parseLong(opts.getOrDefault("seed", "42")),
                Integer.parseInt(opts.getOrDefault("users", "1000")), days, start);
        return defaults.withRates(
                        Double.parseDouble(opts.getOrDefault("duplicate-rate", String.valueOf(defaults.duplicateRate()))),
                        Double.parseDouble(opts.getOrDefault("late-rate", String.valueOf(defaults.lateRate()))),
                        Double.parseDouble(opts.getOrDefault("malformed-rate", String.valueOf(defaults.malformedRate()))))
                .withSeedStoryOn(Integer.parseInt(opts.getOrDefault("story-day", "0")))
                .withSeedStory(!opts.containsKey("no-seed-story"))
                .withRealism(Double.parseDouble(opts.getOrDefault("realism", "0")));
    }

    static Map<String, String> parse(String[] args) {
        return CommandLine.parse(args, KEYS);
    }
}
