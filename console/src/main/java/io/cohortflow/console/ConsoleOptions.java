package io.cohortflow.console;

import io.cohortflow.core.config.CommandLine;
import io.cohortflow.core.config.ConfFiles;
import io.cohortflow.core.config.TopicsConfig;

import java.nio.file.Path;
import java.util.Map;
import java.util.Set;

/**
 * Options of the console.
 *
 * <pre>
 * --bootstrap-servers H:P   Kafka (required)
 * --data-dir DIR            where the embedded store lives (default ./console-data); it survives restarts and
 *                           resumes from the offsets it holds
 * --port N                  HTTP port (default 8090; 0 = any free port)
 * --host H                  address to listen on (default 0.0.0.0)
 * --tokens FILE             API tokens by SHA-256 (default: the shipped conf/console/tokens.yaml, which has none)
 * --segments FILE           the segmentation job's starting definitions (default: the shipped conf/segments.yaml)
 * --registry DIR            the model registry (for the models page; optional)
 * --topics-config FILE      topics.yaml (default: the shipped conf/topics.yaml); --topic.ROLE=NAME renames one
 * --preview-threads N       threads a preview scans with (default: the cores)
 * --gate-metric M           the metric a promotion in the console is gated on (default churn_auc, as the nightly)
 * --gate-floor X            its floor (default 0.75)
 * --gate-max-regression X   the most it may fall below the current version's (default 0.02)
 * </pre>
 */
public record ConsoleOptions(String bootstrapServers, Path dataDir, String host, int port, String tokens,
                             String segments, String registry, TopicsConfig topics, int previewThreads,
                             String gateMetric, double gateFloor, double gateMaxRegression) {

    private static final Set<String> KEYS = Set.of("bootstrap-servers", "data-dir", "port", "host", "tokens",
            "segments", "registry", "topics-config", "preview-threads", "gate-metric", "gate-floor",
            "gate-max-regression", "topic.*");

    public static ConsoleOptions parse(String[] args) {
        Map<String, String> opts = CommandLine.parse(args, KEYS);
        String bootstrap = opts.get("bootstrap-servers");
        if (bootstrap == null) {
            throw new IllegalArgumentException("--bootstrap-servers is required");
        }
        return new ConsoleOptions(bootstrap, Path.of(opts.getOrDefault("data-dir", "console-data")),
                opts.getOrDefault("host", "0.0.0.0"), Integer.parseInt(opts.getOrDefault("port", "8090")),
                opts.getOrDefault("tokens", ConfFiles.defaultLocation("console/tokens.yaml")),
                opts.getOrDefault("segments", ConfFiles.defaultLocation("segments.yaml")), opts.get("registry"),
                renamed(opts.containsKey("topics-config") ? TopicsConfig.load(opts.get("topics-config"))
                        : TopicsConfig.defaults(), opts),
                Integer.parseInt(opts.getOrDefault("preview-threads",
                        String.valueOf(Runtime.getRuntime().availableProcessors()))),
                opts.getOrDefault("gate-metric", "churn_auc"), Double.parseDouble(opts.getOrDefault("gate-floor", "0.75")),
                Double.parseDouble(opts.getOrDefault("gate-max-regression", "0.02")));
    }

    /** The topics with the {@code --topic.ROLE=NAME} renames applied. */
    private static TopicsConfig renamed(TopicsConfig topics, Map<String, String> opts) {
        Map<String, String> names = new java.util.HashMap<>();
        opts.forEach((key, value) -> {
            if (key.startsWith("topic.")) {
                names.put(key.substring("topic.".length()), value);
            }
        });
        return topics.renamed(names);
    }

    /** For tests and the local run: loopback, these topics, a token file. */
    public static ConsoleOptions local(String bootstrapServers, Path dataDir, int port, String tokens,
                                       TopicsConfig topics) {
        return new ConsoleOptions(bootstrapServers, dataDir, "127.0.0.1", port, tokens,
                ConfFiles.defaultLocation("segments.yaml"), null, topics, Runtime.getRuntime().availableProcessors(),
                "churn_auc", 0.75, 0.02);
    }

    public ConsoleOptions withRegistry(String registryDir) {
        return new ConsoleOptions(bootstrapServers, dataDir, host, port, tokens, segments, registryDir, topics,
                previewThreads, gateMetric, gateFloor, gateMaxRegression);
    }
}
