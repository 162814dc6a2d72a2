package io.cohortflow.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.cohortflow.core.config.TopicSpec;
import io.cohortflow.core.config.TopicsConfig;
import io.cohortflow.testkit.Repository;
import org.apache.flink.configuration.ConfigOption;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.net.URI;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.jar.JarFile;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every manifest under k8s/ is parsed and checked against what it refers to. There is no Kubernetes cluster here, so
 * these checks stand in for one: they fail on a jar path or entry class that the image would not contain, a Flink
 * option that Flink 2.2 does not know, a topic that disagrees with conf/topics.yaml, job arguments the jobs' own
 * parsers reject, an image whose Flink version differs from flinkVersion, or an overlay patching nothing.
 */
class ManifestsTest {
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    private static final Path ROOT = Repository.root();
    private static final Path K8S = ROOT.resolve("k8s");
    private static List<JsonNode> base;
    private static Map<String, Path> imageJars;
    private static String imageFlinkVersion;

    @BeforeAll
    static void load() throws IOException {
        base = documents(K8S.resolve("base"));
        imageJars = new HashMap<>();
        Matcher from = Pattern.compile("(?m)^FROM flink:(\\d+)\\.(\\d+)\\.\\d+-java17$").matcher(Files.readString(K8S.resolve("Dockerfile")));
        assertThat(from.find()).as("Dockerfile FROM flink:X.Y.Z-java17").isTrue();
        imageFlinkVersion = "v" + from.group(1) + "_" + from.group(2);
        Matcher copy = Pattern.compile("(?m)^COPY (\\S+\\.jar) /opt/flink/usrlib/(\\S+\\.jar)$").matcher(Files.readString(K8S.resolve("Dockerfile")));
        while (copy.find()) {
            imageJars.put("local:///opt/flink/usrlib/" + copy.group(2), ROOT.resolve(copy.group(1)));
        }
    }

    @Test
    void everyFlinkDeploymentPinsItsImageAndVersionTogetherAndUpgradesBySavepoint() {
        List<JsonNode> deployments = ofKind(base, "FlinkDeployment");
        assertThat(deployments).extracting(d -> d.at("/metadata/name").asText())
                .containsExactlyInAnyOrder("ingest-job", "segmentation-job", "activation-job");
        String bufferTimeout = localBufferTimeout();
        for (JsonNode d : deployments) {
            assertThat(d.at("/spec/flinkVersion").asText()).isEqualTo(imageFlinkVersion).isEqualTo("v2_2");
            assertThat(d.at("/spec/job/upgradeMode").asText()).isEqualTo("savepoint");
            assertThat(d.at("/spec/flinkConfiguration/high-availability.type").asText()).isEqualTo("kubernetes");
            assertThat(d.at("/spec/flinkConfiguration/execution.checkpointing.dir").asText()).startsWith("s3://");
            assertThat(d.at("/spec/flinkConfiguration/execution.checkpointing.savepoint-dir").asText()).startsWith("s3://");
            assertThat(args(d)).contains("--max-parallelism");
            assertThat(d.at("/spec/flinkConfiguration/execution.buffer-timeout.interval").asText())
                    .as("shuffles flush as in the local run, where the latency was measured (LatencyBenchmark)")
                    .isEqualTo(bufferTimeout);
        }
    }

    private static String localBufferTimeout() {
        String timeout = org.apache.flink.configuration.GlobalConfiguration.loadConfiguration(
                ROOT.resolve("conf/flink/local").toString()).getString("execution.buffer-timeout.interval", null);
        assertThat(timeout).as("conf/flink/local/config.yaml sets execution.buffer-timeout.interval").isNotNull();
        return timeout;
    }

    @Test
    void jarPathsAndEntryClassesExistInTheBuiltJars() throws Exception {
        for (JsonNode d : ofKind(base, "FlinkDeployment")) {
            String jarUri = d.at("/spec/job/jarURI").asText();
            Path jar = imageJars.get(jarUri);
            assertThat(jar).as(jarUri + " is copied into the image by the Dockerfile").isNotNull();
            assertThat(jar).as("built jar " + jar).exists();
            String entryClass = d.at("/spec/job/entryClass").asText();
            try (JarFile file = new JarFile(jar.toFile())) {
                assertThat(file.getEntry(entryClass.replace('.', '/') + ".class")).as(entryClass + " in " + jar).isNotNull();
                for (String provided : List.of("org/apache/flink/streaming/api/environment/StreamExecutionEnvironment.class",
                        "org/apache/flink/api/common/ExecutionConfig.class", "org/apache/flink/runtime/jobgraph/JobGraph.class")) {
                    assertThat(file.getEntry(provided)).as("Flink itself is provided by the cluster: " + provided).isNull();
                }
                assertThat(file.getEntry("org/apache/flink/connector/kafka/sink/KafkaSink.class")).as("Kafka connector bundled").isNotNull();
            }
            try (URLClassLoader loader = jobLoader(jar)) {
                Method main = loader.loadClass(entryClass).getMethod("main", String[].class);
                assertThat(Modifier.isStatic(main.getModifiers())).isTrue();
            }
        }
    }

    @Test
    void jobArgumentsAreAcceptedByTheJobsOwnOptionParsers() throws Exception {
        Map<String, String> parsers = Map.of("ingest-job", "io.cohortflow.ingest.IngestOptions",
                "segmentation-job", "io.cohortflow.segmentation.SegmentationOptions",
                "activation-job", "io.cohortflow.activation.ActivationOptions");
        List<JsonNode> all = new ArrayList<>(base);
        for (String overlay : List.of("dev", "prod")) {
            all.addAll(documents(K8S.resolve("overlays").resolve(overlay)));
        }
        for (JsonNode d : ofKind(base, "FlinkDeployment")) {
            Path jar = imageJars.get(d.at("/spec/job/jarURI").asText());
            // Paths inside the image map to the repository: the Dockerfile copies conf/ to /opt/cohortflow/conf/.
            String[] args = args(d).stream().map(a -> a.replace("/opt/cohortflow/conf/", ROOT.resolve("conf") + "/"))
                    .toArray(String[]::new);
            try (URLClassLoader loader = jobLoader(jar)) {
                Class<?> options = loader.loadClass(parsers.get(d.at("/metadata/name").asText()));
                Object parsed = options.getMethod("parse", String[].class).invoke(null, (Object) args);
                assertThat(parsed).isNotNull();
            }
        }
    }

    @Test
    void everyFlinkConfigurationKeyIsARealFlink22Option() throws Exception {
        Set<String> known = flinkOptionKeys();
        assertThat(known).as("options found in Flink's jars").hasSizeGreaterThan(500);
        for (JsonNode d : ofKind(base, "FlinkDeployment")) {
            d.at("/spec/flinkConfiguration").fieldNames().forEachRemaining(key -> {
                if (key.startsWith("s3.")) {
                    // s3.* are not Flink options: the S3 filesystem plugin forwards them to Hadoop's S3A client.
                    assertThat(key).matches("s3\\.(endpoint|path\\.style\\.access|access-key|secret-key|region)");
                } else if (key.startsWith("metrics.reporter.")) {
                    // metrics.reporter.<name>.<option>: the option is a reporter option or the reporter's own (port).
                    String option = key.replaceFirst("^metrics\\.reporter\\.[^.]+\\.", "");
                    assertThat(Set.of("factory.class", "interval", "port", "scope.delimiter", "filter.includes"))
                            .as("reporter option " + key).contains(option);
                } else {
                    assertThat(known).as("Flink option " + key + " of " + d.at("/metadata/name").asText()).contains(key);
                }
            });
        }
    }

    @Test
    void kafkaTopicsAgreeWithConfTopics() {
        TopicsConfig conf = TopicsConfig.load(ROOT.resolve("conf/topics.yaml").toString());
        Map<String, JsonNode> topics = new HashMap<>();
        ofKind(base, "KafkaTopic").forEach(t -> topics.put(t.at("/spec/topicName").asText(), t));
        assertThat(topics.keySet()).containsExactlyInAnyOrderElementsOf(conf.all().stream().map(TopicSpec::name).toList());
        for (TopicSpec spec : conf.all()) {
            JsonNode topic = topics.get(spec.name());
            assertThat(topic.at("/spec/partitions").asInt()).as(spec.name()).isEqualTo(spec.partitions());
            Map<String, String> config = new HashMap<>();
            topic.at("/spec/config").fields().forEachRemaining(e -> config.put(e.getKey(), e.getValue().asText()));
            assertThat(config).as(spec.name() + " config").isEqualTo(spec.config());
            assertThat(topic.at("/metadata/labels/strimzi.io~1cluster").asText()).isEqualTo("cohortflow");
        }
        assertThat(ofKind(base, "Kafka")).singleElement().satisfies(k ->
                assertThat(k.at("/metadata/name").asText()).isEqualTo("cohortflow"));
        for (JsonNode d : ofKind(base, "FlinkDeployment")) {
            assertThat(args(d)).as("jobs reach the Strimzi bootstrap service").contains("cohortflow-kafka-bootstrap:9092");
        }
    }

    /**
     * The nightly CronJob's script: the jar it runs is in the image with the entry class it names, its -D keys are
     * Flink options, the training arguments pass TrainingJob's parser, the promotion passes the registry CLI's parser,
     * gates on the metric the training job records and announces on the models topic of conf/, both steps and the
     * segmentation-job use the same registry, and that registry's volume is the one the segmentation-job mounts.
     */
    @Test
    void theNightlyCronJobTrainsThenPromotesThroughTheGateWithArgumentsTheToolsAccept() throws Exception {
        JsonNode cron = ofKind(base, "CronJob").stream().filter(c -> c.at("/metadata/name").asText().equals("nightly-training"))
                .findFirst().orElseThrow(() -> new AssertionError("no CronJob nightly-training"));
        JsonNode pod = cron.at("/spec/jobTemplate/spec/template/spec");
        assertThat(pod.at("/restartPolicy").asText()).isEqualTo("Never");
        assertThat(cron.at("/spec/concurrencyPolicy").asText()).isEqualTo("Forbid");
        JsonNode container = pod.at("/containers/0");
        assertThat(container.at("/image").asText()).isEqualTo(ofKind(base, "FlinkDeployment").get(0).at("/spec/image").asText());
        String script = container.at("/args/0").asText().replace("\\\n", " ");
        assertThat(script).startsWith("set -euo pipefail");
        List<List<String>> commands = script.lines().map(String::trim).filter(l -> !l.isEmpty() && !l.startsWith("#"))
                .map(ManifestsTest::words).toList();

        List<String> flinkRun = commands.stream().filter(c -> c.get(0).equals("/opt/flink/bin/flink")).findFirst().orElseThrow();
        assertThat(flinkRun.subList(1, 4)).containsExactly("run", "-t", "local");
        Set<String> known = flinkOptionKeys();
        flinkRun.stream().filter(w -> w.startsWith("-D")).forEach(w ->
                assertThat(known).as(w).contains(w.substring(2, w.indexOf('='))));
        String entry = flinkRun.get(flinkRun.indexOf("-c") + 1);
        int jarAt = flinkRun.indexOf("-c") + 2;
        Path jar = imageJars.get("local://" + flinkRun.get(jarAt));
        assertThat(jar).as(flinkRun.get(jarAt) + " is copied into the image by the Dockerfile").isNotNull().exists();
        String[] trainingArgs = flinkRun.subList(jarAt + 1, flinkRun.size()).toArray(String[]::new);

        // Step 0, compaction: its class is in the ingest jar of the image, its options pass its parser, and it
        // compacts the history the training reads (over Hadoop's s3a:// client where the training uses Flink's s3://).
        List<String> compactionLine = commands.stream().filter(c -> c.contains("io.cohortflow.ingest.history.HistoryCompaction"))
                .findFirst().orElseThrow(() -> new AssertionError("no compaction step"));
        assertThat(commands.indexOf(compactionLine)).as("compaction comes before the training")
                .isLessThan(commands.indexOf(flinkRun));
        assertThat(compactionLine).as("a compaction that fails does not stop the training").contains("||");
        List<String> compaction = compactionLine.subList(0, compactionLine.indexOf("||"));
        Path ingestJar = imageJars.get("local://" + compaction.get(compaction.indexOf("-cp") + 1).split(":")[0]);
        assertThat(ingestJar).as("the compaction's jar is in the image").isNotNull().exists();
        try (URLClassLoader loader = jobLoader(ingestJar)) {
            Class<?> compactor = loader.loadClass("io.cohortflow.ingest.history.HistoryCompaction");
            Object parsed = compactor.getMethod("parse", String[].class).invoke(null, (Object) compaction.subList(
                    compaction.indexOf("io.cohortflow.ingest.history.HistoryCompaction") + 1, compaction.size()).toArray(String[]::new));
            String compacted = (String) parsed.getClass().getMethod("history").invoke(parsed);
            String trained = flinkRun.get(flinkRun.indexOf("--history") + 1);
            assertThat(URI.create(compacted).getScheme()).isEqualTo("s3a");
            assertThat(URI.create(compacted).getAuthority() + URI.create(compacted).getPath())
                    .isEqualTo(URI.create(trained).getAuthority() + URI.create(trained).getPath());
        }

        // Then the history erasure, from the same jar, over the same history, with the privacy topics of conf/.
        List<String> erasureLine = commands.stream().filter(c -> c.contains("io.cohortflow.ingest.history.HistoryErasure"))
                .findFirst().orElseThrow(() -> new AssertionError("no history erasure step"));
        assertThat(commands.indexOf(erasureLine)).as("the erasure comes before the training")
                .isLessThan(commands.indexOf(flinkRun));
        List<String> erasure = erasureLine.subList(0, erasureLine.indexOf("||"));
        assertThat(erasure.get(erasure.indexOf("-cp") + 1)).isEqualTo(compaction.get(compaction.indexOf("-cp") + 1));
        try (URLClassLoader loader = jobLoader(ingestJar)) {
            Class<?> eraser = loader.loadClass("io.cohortflow.ingest.history.HistoryErasure");
            Object parsed = eraser.getMethod("parse", String[].class).invoke(null, (Object) erasure.subList(
                    erasure.indexOf("io.cohortflow.ingest.history.HistoryErasure") + 1, erasure.size()).toArray(String[]::new));
            assertThat(parsed.getClass().getMethod("history").invoke(parsed))
                    .isEqualTo(compaction.get(compaction.indexOf("--history") + 1));
            TopicsConfig conf = TopicsConfig.load(ROOT.resolve("conf/topics.yaml").toString());
            assertThat(parsed.getClass().getMethod("topic").invoke(parsed)).isEqualTo(conf.name(TopicsConfig.PRIVACY));
            assertThat(parsed.getClass().getMethod("statusTopic").invoke(parsed))
                    .isEqualTo(conf.name(TopicsConfig.PRIVACY_STATUS));
        }

        List<String> promote = commands.stream().filter(c -> c.contains("io.cohortflow.registry.RegistryCli"))
                .findFirst().orElseThrow();
        assertThat(promote.get(0)).isEqualTo("exec");
        assertThat(promote.get(promote.indexOf("-cp") + 1)).startsWith(flinkRun.get(jarAt) + ":");
        String[] promoteArgs = promote.subList(promote.indexOf("io.cohortflow.registry.RegistryCli") + 1, promote.size())
                .toArray(String[]::new);

        try (URLClassLoader loader = jobLoader(jar)) {
            assertThat(loader.loadClass(entry).getMethod("main", String[].class)).isNotNull();
            Class<?> trainingOptions = loader.loadClass("io.cohortflow.training.TrainingOptions");
            Object training = trainingOptions.getMethod("parse", String[].class).invoke(null, (Object) trainingArgs);
            assertThat((Boolean) trainingOptions.getMethod("promote").invoke(training))
                    .as("promotion is step 2's, with the gate").isFalse();
            String trainingRegistry = trainingOptions.getMethod("registry").invoke(training).toString();
            TopicsConfig topicsConf = TopicsConfig.load(ROOT.resolve("conf/topics.yaml").toString());
            assertThat(trainingOptions.getMethod("bootstrapServers").invoke(training))
                    .as("the training reads the privacy requests, to leave their people out").isNotNull();
            assertThat(trainingOptions.getMethod("privacyTopic").invoke(training))
                    .isEqualTo(topicsConf.name(TopicsConfig.PRIVACY));
            assertThat(trainingOptions.getMethod("statusTopic").invoke(training))
                    .isEqualTo(topicsConf.name(TopicsConfig.PRIVACY_STATUS));
            Class<?> cli = loader.loadClass("io.cohortflow.registry.RegistryCli");
            Object parsed = cli.getMethod("parse", String[].class).invoke(null, (Object) promoteArgs);
            @SuppressWarnings("unchecked")
            List<String> positional = (List<String>) parsed.getClass().getMethod("positional").invoke(parsed);
            @SuppressWarnings("unchecked")
            Map<String, String> options = (Map<String, String>) parsed.getClass().getMethod("options").invoke(parsed);
            assertThat(positional).containsExactly("promote",
                    (String) loader.loadClass(entry).getField("MODEL").get(null), "latest");
            assertThat(options.get("metric")).isEqualTo(loader.loadClass(entry).getField("GATE_METRIC").get(null));
            assertThat(options).containsKeys("floor", "max-regression", "bootstrap-servers").doesNotContainKey("force");
            assertThat(options.get("topic")).isEqualTo(TopicsConfig.load(ROOT.resolve("conf/topics.yaml").toString())
                    .name(TopicsConfig.MODELS));
            assertThat(options.get("registry")).isEqualTo(trainingRegistry);
            JsonNode segmentation = ofKind(base, "FlinkDeployment").stream()
                    .filter(d -> d.at("/metadata/name").asText().equals("segmentation-job")).findFirst().orElseThrow();
            List<String> segArgs = args(segmentation);
            assertThat(segArgs.get(segArgs.indexOf("--registry") + 1)).isEqualTo(trainingRegistry);
            String mountPath = URI.create(trainingRegistry).getPath();
            String claim = claimMountedAt(pod, container, mountPath);
            assertThat(claimMountedAt(segmentation.at("/spec/podTemplate/spec"),
                    segmentation.at("/spec/podTemplate/spec/containers/0"), mountPath)).isEqualTo(claim);
            assertThat(base).anyMatch(d -> d.at("/kind").asText().equals("PersistentVolumeClaim")
                    && d.at("/metadata/name").asText().equals(claim)
                    && d.at("/spec/accessModes").toString().contains("ReadWriteMany"));
        }
    }

    private static String claimMountedAt(JsonNode pod, JsonNode container, String path) {
        String volume = null;
        for (JsonNode mount : container.at("/volumeMounts")) {
            if (path.startsWith(mount.at("/mountPath").asText())) {
                volume = mount.at("/name").asText();
            }
        }
        assertThat(volume).as("a volume mounted at " + path).isNotNull();
        for (JsonNode v : pod.at("/volumes")) {
            if (v.at("/name").asText().equals(volume)) {
                return v.at("/persistentVolumeClaim/claimName").asText();
            }
        }
        throw new AssertionError("volume " + volume + " is not declared");
    }

    /** Shell words of one line: whitespace-separated, double quotes grouping (enough for our scripts). */
    private static List<String> words(String line) {
        List<String> words = new ArrayList<>();
        Matcher m = Pattern.compile("\"([^\"]*)\"|(\\S+)").matcher(line);
        while (m.find()) {
            words.add(m.group(1) != null ? m.group(1) : m.group(2));
        }
        return words;
    }

    /**
     * The collector runs the runnable jar the Dockerfile copies, with arguments its own parser accepts and files that
     * load; its Service, autoscaler, disruption budget and PodMonitor all find its pods and port.
     */
    @Test
    void theCollectorRunsItsJarWithArgumentsItAcceptsAndEverythingAroundItSelectsItsPods() throws Exception {
        JsonNode deployment = ofKind(base, "Deployment").stream()
                .filter(d -> d.at("/metadata/name").asText().equals("collector")).findFirst().orElseThrow();
        JsonNode container = deployment.at("/spec/template/spec/containers/0");
        List<String> command = new ArrayList<>();
        container.get("command").forEach(c -> command.add(c.asText()));
        assertThat(command).containsSequence("-jar", "/opt/cohortflow/collector.jar");
        Matcher copy = Pattern.compile("(?m)^COPY (\\S+\\.jar) /opt/cohortflow/collector\\.jar$")
                .matcher(Files.readString(K8S.resolve("Dockerfile")));
        assertThat(copy.find()).as("the Dockerfile copies the collector's jar").isTrue();
        Path jar = ROOT.resolve(copy.group(1));
        assertThat(jar).as("built by mvn package").exists();

        // Paths inside the image map to the repository; the write keys come from a Secret shaped like the shipped file.
        List<String> args = new ArrayList<>();
        container.get("args").forEach(a -> args.add(a.asText()
                .replace("/opt/cohortflow/conf/", ROOT.resolve("conf") + "/")
                .replace("/etc/cohortflow/write-keys/", ROOT.resolve("conf/collector") + "/")));
        try (URLClassLoader loader = jobLoader(jar)) {
            Class<?> optionsType = loader.loadClass("io.cohortflow.collector.CollectorOptions");
            Object options = optionsType.getMethod("parse", String[].class).invoke(null, (Object) args.toArray(String[]::new));
            assertThat(optionsType.getMethod("port").invoke(options)).isEqualTo(8088);
            assertThat(optionsType.getMethod("trustReceivedAt").invoke(options))
                    .as("a public endpoint stamps its own receive time").isEqualTo(false);
            String writeKeys = (String) optionsType.getMethod("writeKeys").invoke(options);
            loader.loadClass("io.cohortflow.collector.WriteKeys").getMethod("load", String.class).invoke(null, writeKeys);
            String webhooks = (String) optionsType.getMethod("webhooks").invoke(options);
            loader.loadClass("io.cohortflow.collector.Webhooks")
                    .getMethod("load", String.class, java.util.function.Function.class)
                    .invoke(null, webhooks, (java.util.function.Function<String, String>) name -> "secret");
        }
        assertThat(container.at("/ports/0/name").asText()).isEqualTo("http");
        assertThat(container.at("/ports/0/containerPort").asInt()).isEqualTo(8088);
        assertThat(container.at("/readinessProbe/httpGet/path").asText()).isEqualTo("/readyz");
        assertThat(container.at("/livenessProbe/httpGet/path").asText()).isEqualTo("/healthz");
        JsonNode podLabels = deployment.at("/spec/template/metadata/labels");
        assertThat(deployment.at("/spec/selector/matchLabels")).isEqualTo(podLabels);

        JsonNode service = named("Service", "collector");
        assertThat(service.at("/spec/selector")).isEqualTo(podLabels);
        assertThat(service.at("/spec/ports/0/targetPort").asText()).isEqualTo("http");
        JsonNode hpa = named("HorizontalPodAutoscaler", "collector");
        assertThat(hpa.at("/spec/scaleTargetRef/kind").asText()).isEqualTo("Deployment");
        assertThat(hpa.at("/spec/scaleTargetRef/name").asText()).isEqualTo("collector");
        assertThat(hpa.at("/spec/minReplicas").asInt()).isGreaterThanOrEqualTo(2);
        JsonNode pdb = named("PodDisruptionBudget", "collector");
        assertThat(pdb.at("/spec/selector/matchLabels")).isEqualTo(podLabels);
        assertThat(pdb.at("/spec/minAvailable").asInt()).isLessThan(hpa.at("/spec/minReplicas").asInt());
        JsonNode monitor = named("PodMonitor", "cohortflow-collector");
        assertThat(monitor.at("/spec/selector/matchLabels")).isEqualTo(podLabels);
        assertThat(monitor.at("/spec/podMetricsEndpoints/0/port").asText()).isEqualTo("http");
        assertThat(monitor.at("/spec/podMetricsEndpoints/0/path").asText()).isEqualTo("/metrics");
    }

    /**
     * The console runs the runnable jar the Dockerfile copies, with arguments its own parser accepts and a token file
     * shaped like the shipped one; its store is on a volume of its own, and the Service finds its pods and port.
     */
    @Test
    void theConsoleRunsItsJarWithArgumentsItAcceptsAndKeepsItsStoreOnAVolume() throws Exception {
        JsonNode set = named("StatefulSet", "console");
        JsonNode container = set.at("/spec/template/spec/containers/0");
        List<String> command = new ArrayList<>();
        container.get("command").forEach(c -> command.add(c.asText()));
        assertThat(command).containsSequence("-jar", "/opt/cohortflow/console.jar");
        Matcher copy = Pattern.compile("(?m)^COPY (\\S+\\.jar) /opt/cohortflow/console\\.jar$")
                .matcher(Files.readString(K8S.resolve("Dockerfile")));
        assertThat(copy.find()).as("the Dockerfile copies the console's jar").isTrue();
        Path jar = ROOT.resolve(copy.group(1));
        assertThat(jar).as("built by mvn package").exists();
        List<String> args = new ArrayList<>();
        container.get("args").forEach(a -> args.add(a.asText()
                .replace("/opt/cohortflow/conf/", ROOT.resolve("conf") + "/")
                .replace("/etc/cohortflow/console-tokens/", ROOT.resolve("conf/console") + "/")));
        try (URLClassLoader loader = jobLoader(jar)) {
            Class<?> optionsType = loader.loadClass("io.cohortflow.console.ConsoleOptions");
            Object options = optionsType.getMethod("parse", String[].class).invoke(null, (Object) args.toArray(String[]::new));
            assertThat(optionsType.getMethod("port").invoke(options)).isEqualTo(8090);
            assertThat(optionsType.getMethod("dataDir").invoke(options).toString())
                    .isEqualTo("/var/lib/cohortflow/console");
            assertThat(optionsType.getMethod("gateMetric").invoke(options)).as("the nightly's gate").isEqualTo("churn_auc");
            String tokens = (String) optionsType.getMethod("tokens").invoke(options);
            loader.loadClass("io.cohortflow.console.api.Tokens").getMethod("load", String.class).invoke(null, tokens);
            String segments = (String) optionsType.getMethod("segments").invoke(options);
            loader.loadClass("io.cohortflow.core.segment.SegmentRules").getMethod("load", String.class)
                    .invoke(null, segments);
        }
        List<String> mounts = new ArrayList<>();
        container.get("volumeMounts").forEach(m -> mounts.add(m.get("name").asText() + ":" + m.get("mountPath").asText()));
        assertThat(mounts).contains("store:/var/lib/cohortflow", "models:/models");
        assertThat(set.at("/spec/volumeClaimTemplates/0/metadata/name").asText()).isEqualTo("store");
        assertThat(container.at("/ports/0/containerPort").asInt()).isEqualTo(8090);
        assertThat(container.at("/readinessProbe/httpGet/path").asText()).isEqualTo("/readyz");
        JsonNode podLabels = set.at("/spec/template/metadata/labels");
        assertThat(set.at("/spec/selector/matchLabels")).isEqualTo(podLabels);
        JsonNode service = named("Service", "console");
        assertThat(service.at("/spec/selector")).isEqualTo(podLabels);
        assertThat(service.at("/spec/ports/0/targetPort").asText()).isEqualTo("http");
    }

    @Test
    void kustomizationsListExistingFilesAndOverlaysPatchExistingResources() throws IOException {
        JsonNode kustomization = YAML.readTree(K8S.resolve("base/kustomization.yaml").toFile());
        kustomization.get("resources").forEach(r -> assertThat(K8S.resolve("base").resolve(r.asText())).exists());
        Set<String> resources = new HashSet<>();
        base.forEach(d -> resources.add(d.at("/kind").asText() + "/" + d.at("/metadata/name").asText()));
        for (String overlay : List.of("dev", "prod")) {
            JsonNode k = YAML.readTree(K8S.resolve("overlays").resolve(overlay).resolve("kustomization.yaml").toFile());
            assertThat(k.get("resources").get(0).asText()).isEqualTo("../../base");
            for (JsonNode patch : k.get("patches")) {
                String kind = patch.at("/target/kind").asText();
                String name = patch.at("/target/name").asText(null);
                assertThat(resources.stream().anyMatch(r -> r.startsWith(kind + "/") && (name == null || r.equals(kind + "/" + name))))
                        .as(overlay + " patches " + kind + "/" + name).isTrue();
                for (JsonNode op : YAML.readTree(patch.get("patch").asText())) {
                    String path = op.get("path").asText();
                    base.stream().filter(d -> d.at("/kind").asText().equals(kind)
                                    && (name == null || d.at("/metadata/name").asText().equals(name)))
                            .forEach(d -> assertThat(d.at(path).isMissingNode()).as(overlay + ": " + path + " exists in " + name).isFalse());
                }
            }
        }
    }

    // ---- helpers ---------------------------------------------------------------------------------------------------

    private static List<String> args(JsonNode deployment) {
        List<String> args = new ArrayList<>();
        deployment.at("/spec/job/args").forEach(a -> args.add(a.asText()));
        return args;
    }

    private static JsonNode named(String kind, String name) {
        return ofKind(base, kind).stream().filter(d -> d.at("/metadata/name").asText().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("no " + kind + " " + name + " in k8s/base"));
    }

    private static List<JsonNode> ofKind(List<JsonNode> docs, String kind) {
        return docs.stream().filter(d -> kind.equals(d.at("/kind").asText())).toList();
    }

    private static List<JsonNode> documents(Path dir) throws IOException {
        List<JsonNode> docs = new ArrayList<>();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path file : files.filter(f -> f.toString().endsWith(".yaml")).sorted().toList()) {
                try (var parser = YAML.getFactory().createParser(file.toFile())) {
                    YAML.readValues(parser, JsonNode.class).forEachRemaining(doc -> {
                        if (doc != null && !doc.isNull() && !doc.isEmpty()) {
                            docs.add(doc);
                        }
                    });
                }
            }
        }
        return docs;
    }

    /** Keys (and deprecated or fallback keys) of every ConfigOption constant in Flink's jars on this classpath. */
    private static Set<String> flinkOptionKeys() throws Exception {
        Set<String> keys = new HashSet<>();
        Set<Path> jars = new HashSet<>();
        for (Class<?> anchor : List.of(ConfigOption.class, org.apache.flink.streaming.api.environment.StreamExecutionEnvironment.class)) {
            jars.add(Path.of(anchor.getProtectionDomain().getCodeSource().getLocation().toURI()));
        }
        for (Path jar : jars) {
            try (JarFile file = new JarFile(jar.toFile())) {
                for (String name : file.stream().map(e -> e.getName())
                        .filter(n -> n.endsWith("Options.class") && !n.contains("$")).toList()) {
                    Class<?> type;
                    try {
                        type = Class.forName(name.replace('/', '.').replace(".class", ""), false, ManifestsTest.class.getClassLoader());
                    } catch (Throwable e) {
                        continue;
                    }
                    for (Field field : type.getDeclaredFields()) {
                        if (Modifier.isStatic(field.getModifiers()) && ConfigOption.class.isAssignableFrom(field.getType())) {
                            field.setAccessible(true);
                            ConfigOption<?> option = (ConfigOption<?>) field.get(null);
                            keys.add(option.key());
                            option.fallbackKeys().forEach(k -> keys.add(k.getKey()));
                        }
                    }
                }
            }
        }
        return keys;
    }

    /**
     * Loads a job jar as Flink loads user code: the product's own classes from the jar first (child-first), the rest
     * (Flink, the JDK) from this test's class path. Parent-first, testkit's copy of job-common (without the Kafka
     * connector) would shadow the jar's.
     */
    private static URLClassLoader jobLoader(Path jar) throws java.net.MalformedURLException {
        return new URLClassLoader(new URL[] {jar.toUri().toURL()}, ManifestsTest.class.getClassLoader()) {
            @Override
            protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
                if (!name.startsWith("io.cohortflow.")) {
                    return super.loadClass(name, resolve);
                }
                synchronized (getClassLoadingLock(name)) {
                    Class<?> loaded = findLoadedClass(name);
                    if (loaded == null) {
                        try {
                            loaded = findClass(name);
                        } catch (ClassNotFoundException notInJar) {
                            loaded = super.loadClass(name, false);
                        }
                    }
                    if (resolve) {
                        resolveClass(loaded);
                    }
                    return loaded;
                }
            }
        };
    }
}
