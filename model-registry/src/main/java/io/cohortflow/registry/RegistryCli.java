package io.cohortflow.registry;

import io.cohortflow.core.config.CommandLine;
import io.cohortflow.core.model.ModelManifest;

import java.io.PrintStream;
import java.net.URI;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The registry from the command line.
 *
 * <pre>
 * registry list NAME                     --registry URI
 * registry show NAME [VERSION]           --registry URI          (default: the current version)
 * registry promote NAME VERSION|latest   --registry URI [--metric churn_auc --floor 0.75 --max-regression 0.02] [--force]
 *                                        [--bootstrap-servers HOST:PORT --topic models.published]
 * registry rollback NAME                 --registry URI [--bootstrap-servers ... --topic ...]
 * registry diff NAME VERSION_A VERSION_B --registry URI
 * </pre>
 * Exit codes: 0 done, 2 refused by the gate (the nightly job uses it), 1 error. A promotion or rollback with
 * {@code --bootstrap-servers} announces the new version on models.published, where the stream picks it up.
 */
public final class RegistryCli {
    public static final int OK = 0;
    public static final int ERROR = 1;
    public static final int REFUSED = 2;
    private static final Set<String> KEYS = Set.of("registry", "metric", "floor", "max-regression", "force",
            "bootstrap-servers", "topic", "reason", "status-topic");

    private RegistryCli() {
    }

    /** The positional words and the options of a command line; unknown options are refused. */
    public record Parsed(List<String> positional, Map<String, String> options) {
    }

    public static Parsed parse(String[] args) {
        List<String> positional = new ArrayList<>();
        int i = 0;
        while (i < args.length && !args[i].startsWith("--")) {
            positional.add(args[i++]);
        }
        return new Parsed(positional, CommandLine.parse(Arrays.copyOfRange(args, i, args.length), KEYS));
    }

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    public static int run(String[] args, PrintStream out, PrintStream err) {
        try {
            Parsed parsed = parse(args);
            List<String> positional = parsed.positional();
            Map<String, String> options = parsed.options();
            if (positional.size() < 2 || !options.containsKey("registry")) {
                err.println("usage: registry list|show|promote|rollback|diff NAME [VERSION...] --registry URI [...]");
                return ERROR;
            }
            ModelRegistry registry = new ModelRegistry(URI.create(options.get("registry")));
            String name = positional.get(1);
            switch (positional.get(0)) {
                case "list" -> {
                    int current = registry.current(name).map(ModelManifest::version).orElse(-1);
                    for (int v : registry.versions(name)) {
                        ModelManifest m = registry.manifest(name, v);
                        out.printf("%s v%d  %s  %s%s%n", name, v, m.createdAt(), new java.util.TreeMap<>(m.metrics()),
                                v == current ? "  <- current" : "");
                    }
                    return OK;
                }
                case "show" -> {
                    ModelManifest m = positional.size() > 2
                            ? registry.manifest(name, Integer.parseInt(positional.get(2)))
                            : registry.current(name).orElseThrow(() -> new IllegalStateException(name + " has no current version"));
                    out.println(new com.fasterxml.jackson.databind.ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(m));
                    return OK;
                }
                case "promote" -> {
                    Gate gate = options.containsKey("metric")
                            ? new Gate(options.get("metric"), Double.parseDouble(options.getOrDefault("floor", "0")),
                                    Double.parseDouble(options.getOrDefault("max-regression", "0")))
                            : Gate.NONE;
                    String which = positional.size() > 2 ? positional.get(2) : "latest";
                    int version = "latest".equals(which)
                            ? registry.versions(name).stream().mapToInt(Integer::intValue).max()
                                    .orElseThrow(() -> new IllegalStateException(name + " has no versions"))
                            : Integer.parseInt(which);
                    ModelRegistry.Promotion promotion = registry.promote(name, version, gate,
                            Boolean.parseBoolean(options.getOrDefault("force", "false")),
                            options.getOrDefault("reason", "promoted from the command line"));
                    return announce(promotion, registry, options, out, err);
                }
                case "rollback" -> {
                    return announce(registry.rollback(name), registry, options, out, err);
                }
                case "diff" -> {
                    ModelManifest a = registry.manifest(name, Integer.parseInt(positional.get(2)));
                    ModelManifest b = registry.manifest(name, Integer.parseInt(positional.get(3)));
                    Set<String> metrics = new TreeSet<>(a.metrics().keySet());
                    metrics.addAll(b.metrics().keySet());
                    out.printf("%-28s %14s %14s%n", "metric", "v" + a.version(), "v" + b.version());
                    for (String metric : metrics) {
                        out.printf("%-28s %14s %14s%n", metric, a.metrics().getOrDefault(metric, Double.NaN),
                                b.metrics().getOrDefault(metric, Double.NaN));
                    }
                    out.printf("%-28s %14s %14s%n", "feature schema", a.featureSchemaHash().substring(0, 12),
                            b.featureSchemaHash().substring(0, 12));
                    out.printf("%-28s %14d %14d%n", "rows", a.rows(), b.rows());
                    diffPersonas(registry, a, b, out);
                    return OK;
                }
                default -> {
                    err.println("unknown command " + positional.get(0));
                    return ERROR;
                }
            }
        } catch (RuntimeException | java.io.IOException e) {
            err.println(e.getMessage());
            return ERROR;
        }
    }

    /** The persona clusters of both versions: names, sizes and centroids (in the features' units). */
    private static void diffPersonas(ModelRegistry registry, ModelManifest a, ModelManifest b, PrintStream out)
            throws java.io.IOException {
        for (ModelManifest m : List.of(a, b)) {
            if (!m.artifacts().containsKey(ModelBundle.PERSONA_NAMES)) {
                continue;
            }
            List<ModelBundle.Persona> personas = ModelBundle.personas(registry, m);
            out.printf("%npersona centroids of v%d:%n%-36s %8s", m.version(), "persona", "users");
            m.featureSchema().forEach(f -> out.printf(" %12.12s", f));
            out.println();
            for (ModelBundle.Persona p : personas) {
                out.printf("%-36s %8d", p.name(), p.size());
                m.featureSchema().forEach(f -> out.printf(" %12.3f", p.centroid().getOrDefault(f, Double.NaN)));
                out.println();
            }
        }
    }

    private static int announce(ModelRegistry.Promotion promotion, ModelRegistry registry, Map<String, String> options,
                                PrintStream out, PrintStream err) {
        ModelManifest m = promotion.candidate();
        if (!promotion.promoted()) {
            err.println("REFUSED: " + promotion.reason());
            return REFUSED;
        }
        out.printf("%s v%d is current (%s)%n", m.name(), m.version(), promotion.reason());
        String bootstrap = options.get("bootstrap-servers");
        if (bootstrap != null) {
            String topic = options.getOrDefault("topic", Announcer.DEFAULT_TOPIC);
            Announcer.announce(bootstrap, topic, registry, m, promotion.reason(),
                    options.getOrDefault("status-topic", Announcer.DEFAULT_STATUS_TOPIC));
            out.printf("announced on %s%n", topic);
        }
        return OK;
    }
}
