package io.cohortflow.local;

import io.cohortflow.activation.ActivationJob;
import io.cohortflow.activation.ActivationOptions;
import io.cohortflow.activation.Destination;
import io.cohortflow.activation.Undelivered;
import io.cohortflow.collector.Collector;
import io.cohortflow.collector.CollectorOptions;
import io.cohortflow.collector.Webhooks;
import io.cohortflow.collector.WriteKeys;
import io.cohortflow.core.config.TopicsConfig;
import io.cohortflow.core.event.DeadLetterCodec;
import io.cohortflow.core.event.UnifiedEventCodec;
import io.cohortflow.core.segment.SegmentChange;
import io.cohortflow.core.identity.IdentityLink;
import io.cohortflow.core.identity.IdentityMergeCodec;
import io.cohortflow.ingest.IngestJob;
import io.cohortflow.ingest.IngestOptions;
import io.cohortflow.ingest.backfill.Backfill;
import io.cohortflow.jobs.options.LocalFlinkConfig;
import io.cohortflow.kafka.local.LocalKafkaBroker;
import io.cohortflow.jobs.kafka.PipelineLag;
import io.cohortflow.jobs.kafka.TopicReader;
import io.cohortflow.segmentation.SegmentationJob;
import io.cohortflow.segmentation.SegmentationOptions;
import io.cohortflow.simulator.GroundTruthFile;
import io.cohortflow.simulator.KafkaDeliverySink;
import io.cohortflow.simulator.Delivery;
import io.cohortflow.simulator.Playback;
import io.cohortflow.simulator.Simulator;
import io.cohortflow.simulator.SimulatorConfig;
import io.cohortflow.training.TrainingJob;
import io.cohortflow.training.TrainingOptions;
import org.apache.flink.api.common.JobStatus;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.CoreOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.configuration.TaskManagerOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.minicluster.MiniClusterConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.admin.Admin;

import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import java.util.stream.Stream;

/**
 * The whole product on one machine: a real Kafka broker (KRaft, in-process), the topics of conf/topics.yaml, a Flink
 * MiniCluster with its web UI running ingest-job and segmentation-job, the collector in front of events.raw, and the
 * simulator posting to it over HTTP as SDKs and webhook senders do ({@link CollectorDeliverySink}). With a
 * training day it closes the nightly loop: the simulation pauses at that day, the training job (BATCH, same
 * MiniCluster) learns from the Parquet history ingest wrote, publishes to a registry under the run directory,
 * promotes through the gate and announces on models.published; the running segmentation job swaps the models in and
 * the rest of the simulation is scored by them. The activation job delivers the changes to the destinations of
 * conf/destinations, reached at the run's own receiver ({@link LocalDestinations}), which prints the ad platform's
 * creatives. The seed story's visit is on the last day before the training. Prints the live feed of
 * segments.changes and, for a bounded run, drains the pipeline and prints a summary.
 * Options: {@link LocalRunOptions}.
 */
public final class LocalRun {
    private static final PrintStream OUT = System.out;
    private static final String INGEST_GROUP = "cohortflow-ingest";
    private static final String SEGMENTATION_GROUP = "cohortflow-segmentation";
    private static final String ACTIVATION_GROUP = "cohortflow-activation";
    /** The local destinations answer every n-th request 503 on purpose (5%), so that the run exercises retries. */
    private static final int DESTINATION_FAILS_EVERY = 20;
    /** The ad platform's campaign: its entries get a "Complete The Look" creative. */
    private static final String CAMPAIGN_AUDIENCE = "bundle_buyer_high_propensity";
    /** Training feature times per user, a day apart: enough examples of the bundle pattern in a small population. */
    private static final int TRAINING_SAMPLES = 7;
    /**
     * How the simulator posts to the collector ({@link CollectorDeliverySink}): 16 requests in flight at most, each
     * key's deliveries in order, 32 handed over and unanswered at most, and none sent more than a minute of
     * simulated receive time ahead of one unanswered. Ingest's receive-time watermark trails the latest receive time
     * by {@code --out-of-orderness} (5 min by default, as run here), so a delivery overtaken by a minute is never
     * behind it. (With 4 min, LocalRunITCase's nightly run had 4 late events of 24,257 and was 25% faster; with a
     * minute, none.)
     */
    private static final int COLLECTOR_LANES = 16;
    private static final int COLLECTOR_WINDOW = 32;
    private static final Duration COLLECTOR_MAX_REORDER = Duration.ofMinutes(1);
    /**
     * How long a raw partition with nothing left to read holds the others back. Ingest reads the raw partitions in
     * step (watermark alignment, 4 min of receive time apart); one that has run out of data holds back every partition
     * more than that ahead of it until it is marked idle, after {@code --idleness} of wall-clock time. Live, 4 min of
     * receive time is 4 min of wall clock, so ingest's default of 1 min never pauses anyone. Here simulated hours pass
     * in a wall-clock second: when one partition's last event is an hour before the others' (a quiet night among a few
     * hundred users), the default held the whole run for a minute at every drain, and for longer when it happened
     * twice in a row (LocalRunITCase took 31 to over 150 s). Raw partitions are written continuously and without
     * transactions, so a few seconds of silence means a partition really is at its end. (Segmentation keeps the
     * default: events.unified arrives in bursts at ingest's checkpoints, and a partition marked idle between bursts
     * would let the watermark run ahead of the others' next burst.) Do not lower it on Flink 2.2.1, whose FLINK-40093
     * can leave a paused split that went idle paused for good; 2.2.0 and 2.2.2 are not affected.
     */
    static final Duration RAW_IDLENESS = Duration.ofSeconds(3);

    private final LocalRunOptions options;
    private final Path runDir;
    private volatile boolean stopRequested;
    private final CountDownLatch finished = new CountDownLatch(1);
    /** The collector, once it is up (for a test to post to while the run goes on). */
    private volatile FrontDoor frontDoor;
    /** The destinations' stand-in, with the books of what each is owed; null when no segmentation runs. */
    private LocalDestinations destinations;

    /** What a bounded run did, for its caller (and its test). */
    record Outcome(long delivered, long byHand, long refused, long unified, long deadLettered, long duplicates,
                   long late, long changes, java.util.List<String> story, TrainingJob.Result training, Map<String, Long> changesByModel,
                   Map<String, Integer> membersNow, List<SegmentChange> storyChanges,
                   Map<String, LocalDestinations.Tally> activation, List<LocalDestinations.Creative> creatives) {
    }

    LocalRun(LocalRunOptions options, Path runDir) {
        this.options = options;
        this.runDir = runDir;
    }

    public static void main(String[] args) throws Exception {
        LocalRunOptions options;
        try {
            options = LocalRunOptions.parse(args);
        } catch (IllegalArgumentException e) {
            if (!e.getMessage().equals("usage")) {
                System.err.println(e.getMessage());
            }
            System.err.println("usage: run-local.sh [--days N | --endless] [--users N] [--rate R] [--seed S] "
                    + "[--start yyyy-mm-dd] [--train-at-day D] [--history-rate R] [--horizon 7d] [--web-ui-port P] "
                    + "[--feed all|story|none] [--conf-dir DIR] [--changes-out FILE] [--keep-data] "
                    + "[--input FILE.jsonl|FILE.csv|DIR [--input-source S]] [--only ingest] [--collector-port P]");
            System.exit(2);
            return;
        }
        Path runDir = Path.of(".local-run").toAbsolutePath();
        deleteRecursively(runDir);
        Files.createDirectories(runDir);
        new LocalRun(options, runDir).run();
        System.exit(0);
    }

    Outcome run() throws Exception {
        long started = System.nanoTime();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            stopRequested = true;
            try {
                finished.await(60, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "local-run-shutdown"));

        Path confDir = options.confDir().toAbsolutePath();
        Path topicsFile = confDir.resolve("topics.yaml");
        if (!Files.isRegularFile(topicsFile)) {
            throw new IllegalStateException("no " + topicsFile + ": run from the repository root or pass --conf-dir");
        }
        TopicsConfig topics = TopicsConfig.load(topicsFile.toString());

        step("starting a Kafka broker (KRaft, in-process)");
        try (LocalKafkaBroker broker = LocalKafkaBroker.start(runDir.resolve("kafka"), !options.keepData())) {
            OUT.printf("  broker at %s, up in %.1f s%n", broker.bootstrapServers(), broker.startupTime().toMillis() / 1000.0);
            broker.createTopics(topics);
            OUT.printf("  topics: %s%n", topics.all().stream().map(t -> t.name() + "(" + t.partitions() + ")").sorted().toList());

            Configuration flinkConf = LocalFlinkConfig.stateIn(LocalFlinkConfig.shared(confDir.resolve("flink/local")),
                    runDir);
            flinkConf.set(RestOptions.PORT, options.webUiPort());
            step("starting a Flink MiniCluster");
            MiniCluster cluster = new MiniCluster(new MiniClusterConfiguration.Builder()
                    .setConfiguration(flinkConf)
                    .setNumTaskManagers(1)
                    .setNumSlotsPerTaskManager(flinkConf.get(TaskManagerOptions.NUM_TASK_SLOTS))
                    .build());
            cluster.start();
            try {
                URI rest = cluster.getRestAddress().get(30, TimeUnit.SECONDS);
                OUT.printf("  Flink web UI: http://%s:%d%n", rest.getHost(), rest.getPort());
                return runPipeline(broker, topics, topicsFile, flinkConf, rest, started);
            } finally {
                cluster.close();
            }
        } finally {
            if (destinations != null) {
                destinations.close();
            }
            finished.countDown();
        }
    }

    private Outcome runPipeline(LocalKafkaBroker broker, TopicsConfig topics, Path topicsFile, Configuration flinkConf,
                             URI rest, long started) throws Exception {
        String[] jobArgs = {"--bootstrap-servers", broker.bootstrapServers(), "--topics-config", topicsFile.toString(),
                "--transaction-timeout", "5min"};
        Path history = runDir.resolve("history");
        String registry = runDir.resolve("registry").toUri().toString();
        step(options.ingestOnly() ? "submitting ingest-job (alone)" : "submitting ingest-job and segmentation-job");
        // The ingest job's own settings over the shared ones (conf/flink/local/ingest-job: its checkpoints write the
        // changelog of its state's changes).
        Configuration ingestConf = LocalFlinkConfig.forJob(flinkConf, options.confDir().toAbsolutePath()
                .resolve("flink/local"), "ingest-job");
        JobClient ingest = submit(rest, ingestConf, "cohortflow ingest", env -> {
            IngestOptions o = IngestOptions.parse(with(jobArgs, "--group-id", INGEST_GROUP,
                    "--history-path", history.toUri().toString(), "--idleness", toSeconds(RAW_IDLENESS)));
            IngestJob.configure(env, o);
            IngestJob.fromOptions(o, false).build(env);
        });
        Map<String, JobClient> jobs = new TreeMap<>(Map.of("ingest-job", ingest));
        if (!options.ingestOnly()) {
            JobClient segmentation = submit(rest, flinkConf, "cohortflow segmentation", env -> {
                SegmentationOptions o = SegmentationOptions.parse(with(jobArgs, "--group-id", SEGMENTATION_GROUP,
                        "--registry", registry));
                SegmentationJob.configure(env, o);
                SegmentationJob.fromOptions(o, false).build(env);
            });
            jobs.put("segmentation-job", segmentation);
            OUT.printf("  segmentation scores with the current model of %s (none yet)%n", registry);
            jobs.put("activation-job", startActivation(rest, flinkConf, jobArgs));
        }
        OUT.printf("  running: %s%n", jobs.entrySet().stream().map(j -> j.getKey() + " " + j.getValue().getJobID()).toList());
        long start = options.start().atStartOfDay().toInstant(ZoneOffset.UTC).toEpochMilli();
        // The simulated now: the receive time of the latest delivery posted. A call posted by hand lands there.
        AtomicLong simulatedNow = new AtomicLong(start);
        Undelivered.Codec undelivered = new Undelivered.Codec();
        try (FrontDoor door = startCollector(broker, topics,
                options.input() != null ? System::currentTimeMillis : simulatedNow::get);
             TopicFollower deadLetters = destinations == null ? null : new TopicFollower(broker.bootstrapServers(),
                     topics.name(TopicsConfig.UNDELIVERED), r -> destinations.deadLettered(undelivered.decode(r.value())))) {
            frontDoor = door;
            if (deadLetters != null) {
                deadLetters.start();
            }
            try (io.cohortflow.console.Console console = options.ingestOnly() ? null
                    : startConsole(broker, topicsFile, registry)) {
                if (options.input() != null) {
                    return runOnFile(broker, topics, history, jobs, flinkConf, started, door);
                }
                return simulate(broker, topics, history, registry, jobs, flinkConf, rest, started, start, door,
                        simulatedNow);
            }
        }
    }

    /**
     * The console, as deployed but on this machine: its store under the run directory, a read and a write token made
     * for the run (only their SHA-256 goes to its token file), the run's registry for the models page.
     */
    private io.cohortflow.console.Console startConsole(LocalKafkaBroker broker, Path topicsFile, String registry)
            throws Exception {
        step("starting the console");
        SecureRandom random = new SecureRandom();
        String read = "read-" + secret(random) + secret(random);
        String write = "write-" + secret(random) + secret(random);
        Path tokens = runDir.resolve("console-tokens.yaml");
        Path store = runDir.resolve("console");
        if (!options.keepData()) { // the broker starts empty: a store of an earlier run would be ahead of its topics
            if (Files.exists(store)) {
                try (var files = Files.walk(store)) {
                    for (Path f : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
                        Files.delete(f);
                    }
                }
            }
        }
        Files.writeString(tokens, "tokens:\n"
                + "  - {name: local-read, sha256: " + io.cohortflow.console.api.Tokens.sha256(read) + ", access: read}\n"
                + "  - {name: local-write, sha256: " + io.cohortflow.console.api.Tokens.sha256(write) + ", access: write}\n");
        io.cohortflow.console.Console console = io.cohortflow.console.Console.start(
                io.cohortflow.console.ConsoleOptions.parse(new String[]{"--bootstrap-servers", broker.bootstrapServers(),
                        "--data-dir", store.toString(), "--host", "127.0.0.1",
                        "--port", Integer.toString(options.consolePort()), "--tokens", tokens.toString(),
                        "--topics-config", topicsFile.toString(), "--registry", registry}));
        OUT.printf("  console at http://localhost:%d/ (sign in with the write token %s; read-only: %s)%n",
                console.port(), write, read);
        OUT.printf("  its API: curl -s -H 'Authorization: Bearer %s' http://localhost:%d/v1/profiles/user_jane%n",
                read, console.port());
        return console;
    }

    /**
     * The activation job, delivering to the destinations of conf/destinations as deployed, except that they are
     * reached at the run's own receiver ({@link LocalDestinations}): the ad platform prints the creatives it makes.
     */
    private JobClient startActivation(URI rest, Configuration flinkConf, String[] jobArgs) throws Exception {
        Path dir = options.confDir().resolve("destinations").toAbsolutePath();
        List<Destination> declared = Destination.loadAll(dir);
        if (declared.isEmpty()) {
            throw new IllegalStateException("no destination files in " + dir + ": the activation job needs one");
        }
        destinations = new LocalDestinations(declared, DESTINATION_FAILS_EVERY, CAMPAIGN_AUDIENCE, this::printsFeedOf,
                OUT);
        List<String> args = new java.util.ArrayList<>(List.of(with(jobArgs, "--group-id", ACTIVATION_GROUP,
                "--destinations", dir.toString())));
        destinations.endpoints().forEach((id, url) -> args.addAll(List.of("--endpoint." + id, url.toString())));
        OUT.printf("  activation-job delivers to %s at the run's receiver %s (secrets made for the run; every %dth "
                        + "request answered 503 on purpose)%n", destinations.endpoints().keySet(),
                destinations.endpoints().values().iterator().next().resolve("/"), DESTINATION_FAILS_EVERY);
        return submit(rest, flinkConf, "cohortflow activation", env -> {
            ActivationOptions o = ActivationOptions.parse(args.toArray(String[]::new));
            ActivationJob.configure(env, o);
            ActivationJob.fromOptions(o, false, destinations.secrets()).build(env);
        });
    }

    /** Whether the feed prints what happens to this user (--feed). */
    private boolean printsFeedOf(String userId) {
        return options.feed().equals("all") || (options.feed().equals("story") && ChangeFeed.isStory(userId));
    }

    private ChangeFeed changeFeed(LocalKafkaBroker broker, TopicsConfig topics) {
        return new ChangeFeed(broker.bootstrapServers(), topics.name(TopicsConfig.CHANGES),
                topics.name(TopicsConfig.PROFILES), options.feed(), OUT,
                change -> {
                    if (destinations != null) {
                        destinations.owe(change);
                    }
                });
    }

    /** The simulator's traffic, posted to the collector over HTTP; with a training day, the nightly loop. */
    private Outcome simulate(LocalKafkaBroker broker, TopicsConfig topics, Path history, String registry,
                             Map<String, JobClient> jobs, Configuration flinkConf, URI rest, long started, long start,
                             FrontDoor door, AtomicLong simulatedNow) throws Exception {
        boolean train = options.trainAtDay() > 0;
        // Her visit is on the last day before the nightly training, after weeks of everyone else's history.
        SimulatorConfig simConfig = SimulatorConfig.of(options.seed(), options.users(), options.simulatedDays(),
                Instant.ofEpochMilli(start)).withSeedStoryOn(train ? options.trainAtDay() - 1 : 0);
        Simulator simulator = new Simulator(simConfig);
        Path truth = runDir.resolve("ground-truth.jsonl");
        GroundTruthFile.write(truth, simulator.groundTruth());
        long trainAt = start + options.trainAtDay() * 86_400_000L;
        step(String.format("simulating %,d users %s from %s (ground truth: %s)%s", options.users(),
                options.endless() ? "day after day until Ctrl-C" : "over " + options.days() + " days", options.start(),
                runDir.relativize(truth), train ? String.format("; the first %d days at %s deliveries/s, then the "
                        + "nightly training, then the rest at %s/s", options.trainAtDay(), rate(options.historyRate()),
                        rate(options.rate())) : " at " + rate(options.rate()) + " deliveries/s"));
        OUT.println("  live feed of segments.changes (★ = the seed story's anon_123xyz):");

        Playback.Cursor cursor = new Playback.Cursor(simulator);
        Playback.Progress sent = new Playback.Progress(0, Map.of(), start, Duration.ZERO);
        TrainingJob.Result training = null;
        try (ChangeFeed feed = changeFeed(broker, topics);
             CollectorDeliverySink sink = new CollectorDeliverySink(door.url(), door.writeKeys(), door.webhooks(),
                     simulatedNow, COLLECTOR_LANES, COLLECTOR_WINDOW, COLLECTOR_MAX_REORDER)) {
            feed.start();
            if (train) {
                sent = sent.plus(play(cursor, trainAt, sink, options.historyRate()));
                if (!stopRequested) {
                    step("day " + options.trainAtDay() + " is over: waiting for the pipeline to drain, then the nightly training");
                    awaitDrained(broker, topics, feed, flinkConf, jobs);
                    try {
                        training = train(rest, flinkConf, history, registry, trainAt, truth, broker, topics);
                        if (training.promotion() != null && training.promotion().promoted()) {
                            awaitSwap(feed, training.manifest().name() + "@v" + training.manifest().version());
                        }
                    } catch (Exception e) {
                        OUT.println("  TRAINING FAILED, segmentation keeps scoring as before: " + e);
                    }
                    step("going on with live traffic: every user was rescored with the new models when they were swapped in");
                }
            }
            if (!stopRequested) {
                sent = sent.plus(play(cursor, Long.MAX_VALUE, sink, options.rate()));
            }

            step(stopRequested ? "stopping" : "simulation done; waiting for the pipeline to drain");
            return drainStopAndSum(broker, topics, feed, flinkConf, jobs, sent,
                    new FrontDoorCounts(sink.accepted(), sink.refused(), sink.refusedByStatus(), sink.retried(),
                            door.collector()::callsAccepted), history, started, training);
        }
    }

    /**
     * What reached the collector: the simulator's deliveries it took, those it refused (broken payloads, as an SDK
     * might send) by status, requests retried, and the calls it took from anyone else (posted by hand).
     */
    record FrontDoorCounts(long accepted, long refused, Map<Integer, Long> refusedByStatus, long retried,
                           LongSupplier acceptedByCollector) {
        static FrontDoorCounts none(FrontDoor door) {
            return new FrontDoorCounts(0, 0, Map.of(), 0, door.collector()::callsAccepted);
        }

        /** Calls the collector took that the simulator did not post. */
        long byHand() {
            return Math.max(0, acceptedByCollector.getAsLong() - accepted);
        }
    }

    /** The run's collector, with the write keys and webhook secrets made for this run. */
    record FrontDoor(Collector collector, URI url, Map<String, String> writeKeys, Webhooks webhooks)
            implements AutoCloseable {
        @Override
        public void close() {
            collector.close();
        }
    }

    FrontDoor frontDoor() {
        return frontDoor;
    }

    /**
     * Starts the collector in front of events.raw, as deployed but on this machine: a write key for each SDK source
     * and a secret for each webhook source, made for this run; it trusts {@code X-Received-At}, so that the
     * simulator's deliveries keep their simulated receive times, and {@code clock} is the receive time of a call that
     * has none.
     */
    private FrontDoor startCollector(LocalKafkaBroker broker, TopicsConfig topics, LongSupplier clock) throws Exception {
        step("starting the collector (Segment's Tracking API and signed webhooks over HTTP, in front of events.raw)");
        SecureRandom random = new SecureRandom();
        Map<String, String> writeKeys = new TreeMap<>();
        WriteKeys keys = WriteKeys.ofDigests(Map.of());
        for (String source : List.of("web", "ios", "android")) {
            String key = "wk_local_" + source + "_" + secret(random);
            writeKeys.put(source, key);
            keys = keys.with(key, source);
        }
        Map<String, String> secrets = new ConcurrentHashMap<>();
        Webhooks webhooks = Webhooks.load(options.confDir().resolve("collector/webhooks.yaml").toString(),
                variable -> secrets.computeIfAbsent(variable, v -> "whsec_local_" + secret(random)));
        Collector collector = Collector.start(CollectorOptions.local(broker.bootstrapServers(),
                topics.name(TopicsConfig.RAW), options.collectorPort()).trustingReceivedAt(), keys, webhooks, clock);
        URI url = URI.create("http://127.0.0.1:" + collector.port());
        OUT.printf("  collector at %s; write key of source web: %s (ios and android have their own); webhooks signed "
                + "with secrets made for this run: %d sources%n", url, writeKeys.get("web"), webhooks.size());
        OUT.printf("  post a call of your own while it runs (it lands at the %s now):%n",
                options.input() == null ? "simulated" : "current");
        OUT.printf("    curl -s -u %s: -H 'Content-Type: application/json' -d '{\"event\":\"Product Viewed\","
                + "\"userId\":\"me\",\"messageId\":\"by-hand-1\"}' %s/v1/track%n", writeKeys.get("web"), url);
        return new FrontDoor(collector, url, Map.copyOf(writeKeys), webhooks);
    }

    private static String secret(SecureRandom random) {
        byte[] bytes = new byte[12];
        random.nextBytes(bytes);
        return HexFormat.of().formatHex(bytes);
    }

    /** Records of one's own (--input) instead of the simulator: sent as fast as the broker takes them, then drained. */
    private Outcome runOnFile(LocalKafkaBroker broker, TopicsConfig topics, Path history, Map<String, JobClient> jobs,
                              Configuration flinkConf, long started, FrontDoor door) throws Exception {
        step("sending the records of " + options.input() + " (source " + options.inputSource() + ") to events.raw");
        try (ChangeFeed feed = changeFeed(broker, topics)) {
            feed.start();
            Playback.Progress sent = Files.isRegularFile(options.input())
                    && Backfill.formatOf(options.input()).equals("csv") ? sendExport(broker, topics)
                    : sendRecords(broker, topics);
            step(stopRequested ? "stopping" : "input sent; waiting for the pipeline to drain");
            return drainStopAndSum(broker, topics, feed, flinkConf, jobs, sent, FrontDoorCounts.none(door), history,
                    started, null);
        }
    }

    /**
     * An export: read as Backfill reads it (the source's file layout, when its mapping declares one) and sent as
     * replayed history, so old orders are neither late nor held to the past tolerance.
     */
    private Playback.Progress sendExport(LocalKafkaBroker broker, TopicsConfig topics) throws IOException {
        Backfill.Result result = Backfill.run(options.input(), options.inputSource(), "csv", broker.bootstrapServers(),
                topics.name(TopicsConfig.RAW), Backfill.Times.UTC, Backfill.layoutOf(options.inputSource(), null), OUT);
        OUT.printf("  %,d records from %,d rows sent in %.1f s%n", result.records(), result.rows(),
                result.elapsed().toMillis() / 1000.0);
        return new Playback.Progress(result.records(), Map.of("file", result.records()), 0, result.elapsed());
    }

    /** Raw records (JSON lines, or a file each), received now. */
    private Playback.Progress sendRecords(LocalKafkaBroker broker, TopicsConfig topics) {
        long begin = System.nanoTime();
        long sentCount = 0;
        long lastReport = begin;
        try (KafkaDeliverySink sink = new KafkaDeliverySink(broker.bootstrapServers(), topics.name(TopicsConfig.RAW))) {
            for (Delivery delivery : new RecordFiles(options.input(), options.inputSource())) {
                if (stopRequested) {
                    break;
                }
                sink.send(delivery);
                sentCount++;
                if (System.nanoTime() - lastReport > Duration.ofSeconds(10).toNanos()) {
                    lastReport = System.nanoTime();
                    OUT.printf("  [input] %,d records sent, %,.0f/s%n", sentCount,
                            sentCount / ((lastReport - begin) / 1e9));
                }
            }
            sink.flush();
        }
        Playback.Progress sent = new Playback.Progress(sentCount, Map.of("file", sentCount), 0,
                Duration.ofNanos(System.nanoTime() - begin));
        OUT.printf("  %,d records sent in %.1f s%n", sentCount, sent.elapsed().toMillis() / 1000.0);
        return sent;
    }

    /** The end of a run: drain (unless stopped), stop the jobs with savepoints, export the changes, the summary. */
    private Outcome drainStopAndSum(LocalKafkaBroker broker, TopicsConfig topics, ChangeFeed feed,
                                    Configuration flinkConf, Map<String, JobClient> jobs, Playback.Progress sent,
                                    FrontDoorCounts front, Path history, long started, TrainingJob.Result training)
            throws Exception {
        if (!stopRequested) {
            awaitDrained(broker, topics, feed, flinkConf, jobs);
        }
        jobs.forEach((name, job) -> stopJob(job, name));
        feed.close();
        if (options.changesOut() != null && !stopRequested) {
            exportChanges(broker, topics, options.changesOut());
        }
        return summary(broker, topics, sent, front, feed, history, started, training);
    }

    private Playback.Progress play(Playback.Cursor cursor, long until, CollectorDeliverySink sink, double rate) {
        return Playback.play(cursor, until, sink, rate, Duration.ofSeconds(10),
                p -> OUT.printf("  [simulator] %,d deliveries posted, simulated time %s, %,.0f/s%n", p.sent(),
                        Instant.ofEpochMilli(p.simulatedTime()), p.ratePerSecond()),
                () -> stopRequested);
    }

    /**
     * The nightly job, as the CronJob runs it: erase the history of the privacy requests that delete, train on the
     * history so far (leaving out every request's people), gate, promote, announce.
     */
    private TrainingJob.Result train(URI rest, Configuration flinkConf, Path history, String registry, long cutoff,
                                     Path truth, LocalKafkaBroker broker, TopicsConfig topics) throws Exception {
        String privacy = topics.name(TopicsConfig.PRIVACY);
        String status = topics.name(TopicsConfig.PRIVACY_STATUS);
        step("history erasure of the privacy requests on " + privacy);
        io.cohortflow.ingest.history.HistoryErasure.run(history.toUri().toString(),
                // The run has drained: ingest has committed every row, so no request needs to wait.
                io.cohortflow.jobs.kafka.PrivacyTopics.requests(broker.bootstrapServers(), privacy),
                System.currentTimeMillis(), 128L << 20, OUT,
                reports -> io.cohortflow.jobs.kafka.PrivacyTopics.report(broker.bootstrapServers(), status, reports));
        step("training-batch (Flink BATCH on the MiniCluster) over " + runDir.relativize(history));
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createRemoteEnvironment(rest.getHost(),
                rest.getPort(), flinkConf);
        TrainingOptions trainingOptions = TrainingOptions.parse(new String[] {"--history", history.toUri().toString(),
                "--registry", registry, "--cutoff", Instant.ofEpochMilli(cutoff).toString(),
                "--horizon", options.horizon().toDays() + "d", "--ground-truth", truth.toString(),
                "--report", runDir.resolve("training-report.html").toString(), "--promote", "--floor", "0.7",
                "--samples", Integer.toString(TRAINING_SAMPLES),
                "--bootstrap-servers", broker.bootstrapServers(), "--topic", topics.name(TopicsConfig.MODELS),
                "--privacy-topic", privacy, "--status-topic", status});
        TrainingJob.Result result = TrainingJob.run(env, trainingOptions, OUT);
        if (result.promotion() == null || !result.promotion().promoted()) {
            OUT.println("  the new models were not promoted: segmentation keeps scoring as before");
        }
        return result;
    }

    /** Waits (up to a minute) until a change scored by {@code model} arrives: the stream has swapped it in. */
    private void awaitSwap(ChangeFeed feed, String model) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofMinutes(1).toNanos();
        while (!feed.byModel().containsKey(model) && System.nanoTime() < deadline && !stopRequested) {
            Thread.sleep(200);
        }
        OUT.println(feed.byModel().containsKey(model)
                ? "  segmentation swapped in " + model + " without a restart: the feed shows changes it scored"
                : "  no change scored by " + model + " within a minute: see the segmentation job's log for the swap");
    }

    private static String toSeconds(Duration d) {
        return d.toSeconds() + "s";
    }

    private static String rate(double perSecond) {
        return perSecond > 0 ? String.format("%,.0f", perSecond) : "max";
    }

    private static String[] with(String[] args, String... more) {
        String[] out = java.util.Arrays.copyOf(args, args.length + more.length);
        System.arraycopy(more, 0, out, args.length, more.length);
        return out;
    }

    private static JobClient submit(URI rest, Configuration flinkConf, String name,
                                    Consumer<StreamExecutionEnvironment> topology) throws Exception {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createRemoteEnvironment(
                rest.getHost(), rest.getPort(), flinkConf);
        topology.accept(env);
        return env.executeAsync(name);
    }

    /**
     * Waits until both jobs have consumed and checkpointed everything: ingest's committed offsets on events.raw are at
     * the end (exact: the simulator writes no transactions), and segmentation's lag on events.unified has stopped
     * moving for longer than a checkpoint interval (its end holds transaction markers, one per writer, so the lag
     * settles slightly above zero), and no change arrived for a while, and every change the feed showed was delivered
     * to, or dead-lettered for, each destination that takes it.
     */
    private void awaitDrained(LocalKafkaBroker broker, TopicsConfig topics, ChangeFeed feed, Configuration flinkConf,
                              Map<String, JobClient> jobs) throws Exception {
        Duration checkpointInterval = flinkConf.get(CheckpointingOptions.CHECKPOINTING_INTERVAL);
        Duration quiet = checkpointInterval.multipliedBy(3);
        long waitStarted = System.nanoTime();
        long deadline = waitStarted + Duration.ofMinutes(3).toNanos();
        int stableChecks = 0;
        Map<Integer, Long> previousUnifiedLag = Map.of();
        String lastSeen = "";
        try (Admin admin = broker.admin()) {
            while (!stopRequested && System.nanoTime() < deadline) {
                for (var job : jobs.entrySet()) {
                    JobStatus status = job.getValue().getJobStatus().get(10, TimeUnit.SECONDS);
                    if (status.isGloballyTerminalState()) {
                        throw new IllegalStateException(job.getKey() + " is " + status
                                + "; see the exceptions tab of the Flink web UI or the log above");
                    }
                }
                Map<Integer, Long> rawLag = PipelineLag.lag(admin, INGEST_GROUP, topics.name(TopicsConfig.RAW));
                // Ingest alone: nobody reads events.unified, and no change comes.
                Map<Integer, Long> unifiedLag = jobs.containsKey("segmentation-job")
                        ? PipelineLag.lag(admin, SEGMENTATION_GROUP, topics.name(TopicsConfig.UNIFIED)) : Map.of();
                // Each of ingest's writers can leave a commit marker at the end of a partition.
                long writers = flinkConf.get(CoreOptions.DEFAULT_PARALLELISM);
                boolean caughtUp = PipelineLag.caughtUp(rawLag, 0) && PipelineLag.caughtUp(unifiedLag, 2 * writers)
                        && unifiedLag.equals(previousUnifiedLag);
                previousUnifiedLag = unifiedLag;
                lastSeen = "lag of events.raw " + rawLag + ", of events.unified " + unifiedLag + ", last change "
                        + feed.quietFor().toSeconds() + " s ago";
                long undelivered = destinations == null ? 0 : destinations.pending();
                lastSeen += destinations == null ? "" : ", changes owed to destinations and not settled " + undelivered;
                stableChecks = caughtUp ? stableChecks + 1 : 0;
                if (stableChecks * 1_000L > checkpointInterval.toMillis() + 1_000
                        && (!jobs.containsKey("segmentation-job") || feed.quietFor().compareTo(quiet) > 0)
                        && undelivered == 0) {
                    OUT.printf("  drained in %.1f s%n", (System.nanoTime() - waitStarted) / 1e9);
                    return;
                }
                Thread.sleep(1_000);
            }
        }
        OUT.println("  (gave up waiting for the pipeline to drain: " + lastSeen + "; the summary may miss the last changes)");
    }

    private void stopJob(JobClient job, String name) {
        try {
            String savepoint = job.stopWithSavepoint(false, runDir.resolve("savepoints").toUri().toString(),
                    SavepointFormatType.CANONICAL).get(2, TimeUnit.MINUTES);
            OUT.printf("  %s stopped with a savepoint at %s%n", name, savepoint);
        } catch (Exception e) {
            OUT.printf("  %s: stop with savepoint failed (%s), cancelling%n", name, e.getMessage());
            job.cancel();
        }
    }

    /**
     * Every committed change, one JSON object a line, partition by partition (so each user's changes in the order
     * the job made them): two runs of the same input can be compared with {@code sort | diff}.
     */
    private static void exportChanges(LocalKafkaBroker broker, TopicsConfig topics, Path file) throws IOException {
        Path target = file.toAbsolutePath();
        if (target.getParent() != null) {
            Files.createDirectories(target.getParent());
        }
        try (var out = Files.newOutputStream(target)) {
            long written = readWritten(broker, topics.name(TopicsConfig.CHANGES),
                    Duration.ofMinutes(2), r -> {
                        try {
                            out.write(r.value());
                            out.write('\n');
                        } catch (IOException e) {
                            throw new java.io.UncheckedIOException(e);
                        }
                    });
            OUT.printf("  %,d changes written to %s%n", written, target);
        }
    }

    /**
     * What the run wrote to {@code topic}, committed: read once the jobs' last transactions on it have ended (Kafka
     * writes a commit's markers after the job has been told it is done; {@link TopicReader#readToEndSettled} waits for
     * them). A job that could only be cancelled can leave one open until its timeout: then what is committed so far is
     * read, and the summary says so.
     */
    private static long readWritten(LocalKafkaBroker broker, String topic, Duration timeout,
                                    java.util.function.Consumer<org.apache.kafka.clients.consumer.ConsumerRecord<byte[], byte[]>> each) {
        try {
            TopicReader.readToEndSettled(broker.bootstrapServers(), topic, timeout, r -> { });
        } catch (IllegalStateException e) {
            OUT.printf("  WARNING %s: %s; counting what is committed so far%n", topic, e.getMessage());
        }
        return TopicReader.readToEnd(broker.bootstrapServers(), topic, timeout, each);
    }

    private Outcome summary(LocalKafkaBroker broker, TopicsConfig topics, Playback.Progress sent, FrontDoorCounts front,
                            ChangeFeed feed, Path history, long started, TrainingJob.Result training) throws IOException {
        // events.unified also holds one marker per identity link (IdentityLink), which is not a user action.
        UnifiedEventCodec unifiedCodec = new UnifiedEventCodec();
        long[] markers = {0};
        long unified = readWritten(broker, topics.name(TopicsConfig.UNIFIED),
                Duration.ofMinutes(2), r -> markers[0] += IdentityLink.isMarker(unifiedCodec.decode(r.value())) ? 1 : 0)
                - markers[0];
        long late = readWritten(broker, topics.name(TopicsConfig.LATE),
                Duration.ofMinutes(1), r -> { });
        Map<String, Long> merges = new TreeMap<>();
        IdentityMergeCodec mergeCodec = new IdentityMergeCodec();
        readWritten(broker, topics.name(TopicsConfig.MERGES), Duration.ofMinutes(1),
                r -> merges.merge(mergeCodec.decode(r.value()).status().name(), 1L, Long::sum));
        Map<String, Long> reasons = new TreeMap<>();
        DeadLetterCodec dlqCodec = new DeadLetterCodec();
        readWritten(broker, topics.name(TopicsConfig.DLQ), Duration.ofMinutes(1),
                r -> reasons.merge(dlqCodec.decode(r.value()).reason(), 1L, Long::sum));
        long deadLettered = reasons.values().stream().mapToLong(Long::longValue).sum();
        boolean simulated = options.input() == null;
        long byHand = front.byHand();
        // The simulator knows which deliveries it duplicated; for records of one's own, duplicates are what is left.
        long duplicates = simulated ? sent.byKind().getOrDefault("duplicate", 0L)
                : Math.max(0, sent.sent() + byHand - unified - deadLettered - late);

        OUT.println();
        OUT.println("== summary ==");
        if (simulated) {
            OUT.printf("simulated %,d users from %s, seed %d%n", options.users(), options.start(), options.seed());
        } else {
            OUT.printf("records of %s, source %s%n", options.input(), options.inputSource());
        }
        if (simulated) {
            OUT.printf("deliveries posted to the collector: %,d %s in %.1f s; refused by it: %,d %s%s%n", sent.sent(),
                    sent.byKind(), sent.elapsed().toMillis() / 1000.0, front.refused(), front.refusedByStatus(),
                    front.retried() == 0 ? "" : String.format("; %,d requests retried after 429/503", front.retried()));
        } else {
            OUT.printf("records written to events.raw: %,d in %.1f s%n", sent.sent(), sent.elapsed().toMillis() / 1000.0);
        }
        if (byHand > 0) {
            OUT.printf("calls posted to the collector by hand: %,d%n", byHand);
        }
        OUT.printf("events.unified: %,d (and %,d link markers)   events.dlq: %,d %s%n", unified, markers[0],
                deadLettered, reasons);
        OUT.printf("events.late: %,d   duplicates dropped: %,d%s   identity.merges: %s%n", late, duplicates,
                simulated ? "" : " (the rest: same source and messageId as an earlier record)", merges);
        long in = sent.sent() + byHand;
        long accounted = front.refused() + unified + deadLettered + duplicates + late;
        OUT.printf("in = refused + unified + dead-lettered + duplicates + late: %,d = %,d%s%n", in, accounted,
                in == accounted ? "" : "  (MISMATCH" + (front.retried() > 0 ? ": a retried request whose first try "
                        + "Kafka had in fact taken is dropped by ingest as a duplicate)" : ")"));
        OUT.printf("Parquet history: %s (%d date partitions)%n", history, countPartitions(history));
        if (training != null) {
            OUT.printf("nightly training: %s v%d in %.1f s; churn AUC %.3f, bundle-propensity AUC %.3f, personas k=%d%s; "
                            + "%s; report: %s%n", training.manifest().name(), training.manifest().version(),
                    training.seconds(), training.churn().auc(), training.bundle().auc(), training.personas().k(),
                    training.ari() == null ? "" : String.format(" (ARI %.3f against the true personas)", training.ari()),
                    training.promotion() != null && training.promotion().promoted() ? "promoted and swapped in live"
                            : "not promoted", runDir.resolve("training-report.html"));
        }
        feed.printSummary(OUT);
        if (destinations != null) {
            destinations.printSummary(OUT);
        }
        OUT.printf("total run time %.1f s; data and savepoints under %s%n",
                (System.nanoTime() - started) / 1e9, runDir);
        return new Outcome(sent.sent(), byHand, front.refused(), unified, deadLettered, duplicates, late, feed.total(),
                feed.story(), training, feed.byModel(), feed.membersNow(), feed.storyChanges(),
                destinations == null ? Map.of() : destinations.tallies(),
                destinations == null ? List.of() : destinations.creatives());
    }

    private static long countPartitions(Path history) throws IOException {
        if (!Files.isDirectory(history)) {
            return 0;
        }
        try (Stream<Path> dirs = Files.list(history)) {
            return dirs.filter(p -> p.getFileName().toString().startsWith("dt=")).count();
        }
    }

    private static void step(String what) {
        OUT.printf("%n== %s%n", what);
    }

    private static void deleteRecursively(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }
}
