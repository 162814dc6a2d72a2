package io.cohortflow.training;

import io.cohortflow.jobs.options.JobArgs;
import io.cohortflow.registry.Announcer;

import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Set;

/**
 * The options of the nightly training, parsed once from the command line; an unknown option or a bad value is refused
 * with a message naming it.
 *
 * <pre>
 * --history URI --registry URI [--cutoff ISO-8601 (default: the start of today, UTC)] [--horizon 14d] [--bundle-window 72h]
 * [--lookback 365d] [--samples 1 (training feature times per user, a day apart)]
 * [--max-rows 500000 (the most training rows, holdout rows, and people the personas are fitted on: past it, a sample)]
 * [--features FILE (conf/features.yaml: which events are activity)]
 * [--clusters 6 | 4-8 (chosen by silhouette and stability)] [--seed 42] [--threshold 0.5] [--personas FILE]
 * [--business commerce|saas|media (the names' vocabulary; default: the personas file's)]
 * [--ground-truth FILE (a simulation's truth: the report adds the ARI)] [--report FILE (a copy of the report)]
 * [--promote] [--floor 0.75] [--max-regression 0.02] [--force] [--bootstrap-servers HOST:PORT] [--topic models.published]
 * [--privacy-topic privacy.requests] [--status-topic privacy.status]
 * </pre>
 * With {@code --bootstrap-servers}, the people of the privacy requests are left out ({@link PrivacyExclusion}) and
 * each request's models stage is reported done once the version is published.
 *
 * @param cutoff T, epoch ms: training rows have features as of T − 2H, the holdout as of T − H
 * @param samples training feature times per user: T − 2H and the days before it, one example each (more examples of
 *                what happens within days, such as the bundle a look is bought as; the holdout keeps one)
 * @param maxRows the most training rows, and the most holdout rows, the models learn from and are evaluated on, and the
 *                most people the personas are fitted on (everyone is then assigned): with more, a sample of the people
 *                ({@link RowSample}), so that the training's memory stops growing with them
 * @param lookback how far before a feature time activity makes someone part of the population
 * @param features a features.yaml, or null for the shipped one
 * @param personas a personas.yaml naming the clusters, or null for the shipped one
 * @param business the vocabulary of names, or null for the personas file's default
 * @param groundTruth a simulation's ground truth (JSON lines), or null
 * @param report where to copy the report, or null
 * @param bootstrapServers where to announce a promotion and read the privacy requests, or null for neither
 * @param privacyTopic the privacy requests' topic
 * @param statusTopic where the models stage of each request is reported
 */
public record TrainingOptions(String history, URI registry, long cutoff, Duration horizon, Duration bundleWindow,
                              Duration lookback, int samples, int maxRows, String features, int minClusters, int maxClusters, long seed,
                              double threshold, String personas, String business, String groundTruth, String report, boolean promote, double floor, double maxRegression,
                              boolean force, String bootstrapServers, String topic, String privacyTopic,
                              String statusTopic) {

    public static final Set<String> KEYS = Set.of("history", "registry", "cutoff", "horizon", "bundle-window",
            "lookback", "samples", "max-rows", "features", "business", "clusters", "seed", "threshold", "personas", "ground-truth", "report", "promote", "floor", "max-regression",
            "force", "bootstrap-servers", "topic", "privacy-topic", "status-topic");

    public TrainingOptions {
        if (minClusters < 2 || maxClusters < minClusters) {
            throw new IllegalArgumentException("--clusters must be a number of at least 2, or a range such as 4-8");
        }
        if (samples < 1 || samples > 60) {
            throw new IllegalArgumentException("--samples must be 1 to 60, got " + samples);
        }
        if (maxRows < 100) {
            throw new IllegalArgumentException("--max-rows must be at least 100, got " + maxRows);
        }
        if (!(threshold > 0 && threshold < 1)) {
            throw new IllegalArgumentException("--threshold must lie between 0 and 1, got " + threshold);
        }
    }

    /** The default of {@code --max-rows}: at 1M people, the rows and the models trained on them fit in 4 GB. */
    public static final int DEFAULT_MAX_ROWS = 500_000;

    public static TrainingOptions parse(String[] args) {
        JobArgs a = JobArgs.parse(args, KEYS);
        String[] k = a.string("clusters", "6").split("-");
        return new TrainingOptions(
                a.required("history"),
                URI.create(a.required("registry")),
                a.string("cutoff", null) == null ? startOfToday() : instant(a.string("cutoff", null)),
                a.duration("horizon", Duration.ofDays(14)),
                a.duration("bundle-window", Duration.ofHours(72)),
                a.duration("lookback", io.cohortflow.core.training.ChurnLabels.DEFAULT_LOOKBACK),
                a.integer("samples", 1),
                a.integer("max-rows", DEFAULT_MAX_ROWS),
                a.string("features", null),
                integer("clusters", k[0]),
                integer("clusters", k[k.length - 1]),
                Long.parseLong(a.string("seed", "42").trim()),
                number("threshold", a.string("threshold", "0.5")),
                a.string("personas", null),
                a.string("business", null),
                a.string("ground-truth", null),
                a.string("report", null),
                a.flag("promote"),
                number("floor", a.string("floor", "0.75")),
                number("max-regression", a.string("max-regression", "0.02")),
                a.flag("force"),
                a.string("bootstrap-servers", null),
                a.string("topic", Announcer.DEFAULT_TOPIC),
                a.string("privacy-topic", "privacy.requests"),
                a.string("status-topic", "privacy.status"));
    }

    /**
     * The default cutoff: the start of the current day, UTC. The history through yesterday, whatever the hour the run
     * starts, so that two runs on one day over one history train the same models (a cutoff of "now" moved with the
     * clock, and the examples with it).
     */
    static long startOfToday() {
        return java.time.LocalDate.now(java.time.ZoneOffset.UTC).atStartOfDay(java.time.ZoneOffset.UTC).toInstant()
                .toEpochMilli();
    }

    private static long instant(String value) {
        try {
            return Instant.parse(value).toEpochMilli();
        } catch (DateTimeParseException e) {
            throw new IllegalArgumentException("--cutoff must be an ISO-8601 instant such as 2026-03-02T00:00:00Z, got '"
                    + value + "'");
        }
    }

    private static int integer(String key, String value) {
        try {
            return Integer.parseInt(value.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--" + key + " must be a number or a range such as 4-8, got '" + value + "'");
        }
    }

    private static double number(String key, String value) {
        try {
            return Double.parseDouble(value.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--" + key + " must be a number, got '" + value + "'");
        }
    }
}
