package io.cohortflow.benchmarks;

import io.cohortflow.core.config.ConfFiles;
import io.cohortflow.core.config.TopicsConfig;
import io.cohortflow.core.event.UnifiedEvent;
import io.cohortflow.core.event.UnifiedEventCodec;
import io.cohortflow.jobs.kafka.TopicReader;
import io.cohortflow.kafka.local.LocalKafkaBroker;
import io.cohortflow.segmentation.SegmentationJob;
import io.cohortflow.segmentation.SegmentationOptions;
import io.cohortflow.segmentation.bench.HotPathBenchmark;
import io.cohortflow.testkit.KafkaTestSupport;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.table.api.StatementSet;
import org.apache.flink.table.api.bridge.java.StreamTableEnvironment;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * P1 end to end: the segmentation job against a Flink SQL job over the same events (events.unified; the peer reads
 * their JSON copy), on the same broker and the same kind of MiniCluster (the local run's configuration,
 * conf/flink/local: parallelism 2, exactly-once, checkpoints every 2 s, heap state), one after the other in one run, in
 * rounds until neither gets faster, each job's best run counting ({@link #compare}).
 *
 * <p>The topic is filled first, as ingest writes it (the unified event in its binary form, keyed by resolved id), with
 * the simulator's people over some days, and the same records as JSON go to a topic of the peer's ({@link #jsonTopic}):
 * Flink SQL has no reader for events.unified's binary form, and JSON is what a Flink SQL user would read. Each job then
 * runs on it as deployed, unbounded, from the start; its figure is events / (submission to the commit of its last
 * output), startup included, the same for both. Both write
 * exactly-once, so outputs become visible when the checkpoint that covers them completes; the last output's is the
 * checkpoint that has read the whole topic. The run ends when the group's committed offsets reach the topic's end
 * (which proves the whole topic read); the job is then stopped with a savepoint and what it wrote is counted. The
 * committed offsets are not the clock: Flink's Kafka source (connector 5.0.0) commits them from its fetcher thread,
 * which waits in a 10 s poll once its partitions have no more records, so they reached the end 7.5 to 8.7 s after
 * the last output was committed in the runs measured, a wait that had been counted into both jobs' time. A bounded
 * run would not do: at the end of its input the event-time clock jumps to the end of time and the product plays out
 * the next 90 days of windows leaving, which a live stream does only as those days pass.
 *
 * <ul>
 *   <li><b>The product</b>: {@link SegmentationJob} as deployed: every feature, the shipped segments, changes and a
 *       profile per evaluation (of those that moved no membership, each user's latest per checkpoint), exactly-once to
 *       segments.changes and segments.profiles.</li>
 *   <li><b>The peer</b> ({@link #sql}): the windowed counts and RFM features in Flink SQL, as a Flink SQL user would
 *       write them to update on every event: one {@code OVER} aggregate per window (Flink SQL takes one window
 *       spec per aggregate), each event's count of its own name over 1 h, 24 h, 7 d and 30 d, and the person's
 *       orders over 30 d, money spent over 90 d and last active time, written as one row per feature and event,
 *       exactly-once, to a topic of its own as JSON. It evaluates no segment and writes no profile: it does less
 *       than the product.</li>
 * </ul>
 *
 * <pre>
 * mvn -q -DskipTests install
 * mvn -q -pl benchmarks exec:exec -Dexec.executable=java \
 *     -Dexec.args="-Xmx6g -XX:MaxTenuringThreshold=2 -cp %classpath \
 *     io.cohortflow.benchmarks.SegmentationThroughput 30000 3"
 * </pre>
 * Arguments: simulated people (default {@link #USERS}), days (default 3), and {@code segmentation} or {@code sql}
 * to run one job alone (to profile it).
 */
public final class SegmentationThroughput {
    /**
     * The peer's statements, formatted with: the source topic, the sink topic, the bootstrap servers, a unique
     * suffix (consumer group and transactional ids) and the watermark's out-of-orderness in minutes (the
     * segmentation job's default, so both wait equally for late events).
     */
    static final String SQL_SOURCE = """
            CREATE TABLE unified (
              resolvedId STRING,
              event STRING,
              `timestamp` BIGINT,
              properties ROW<revenue DOUBLE, amount DOUBLE>,
              ts AS TO_TIMESTAMP_LTZ(`timestamp`, 3),
              WATERMARK FOR ts AS ts - INTERVAL '%5$d' MINUTE
            ) WITH (
              'connector' = 'kafka',
              'topic' = '%1$s',
              'properties.bootstrap.servers' = '%3$s',
              'properties.group.id' = 'sql-peer-%4$s',
              'properties.isolation.level' = 'read_committed',
              'scan.startup.mode' = 'earliest-offset',
              'format' = 'json',
              'json.fail-on-missing-field' = 'false'
            )""";
    static final String SQL_SINK = """
            CREATE TABLE features (
              resolvedId STRING,
              ts TIMESTAMP_LTZ(3),
              feature STRING,
              `value` DOUBLE
            ) WITH (
              'connector' = 'kafka',
              'topic' = '%2$s',
              'properties.bootstrap.servers' = '%3$s',
              'properties.transaction.timeout.ms' = '300000',
              'sink.delivery-guarantee' = 'exactly-once',
              'sink.transactional-id-prefix' = 'sql-peer-%4$s',
              'key.format' = 'raw',
              'key.fields' = 'resolvedId',
              'value.format' = 'json'
            )""";
    /** The features, one OVER aggregate each; the planner reads the topic once for all of them. */
    /**
     * The peer's features as one INSERT, with the revenue and passive events of conf/features.yaml: each event's count
     * of its own name over each window (one OVER aggregate per window), then the person's orders over 30 d, money over
     * 90 d and last active time.
     */
    static String sql() {
        Map<?, ?> features = ConfFiles.read(ConfFiles.defaultLocation("features.yaml"), Map.class);
        List<String> selects = new ArrayList<>();
        for (String[] window : new String[][] {{"1h", "1' HOUR"}, {"24h", "24' HOUR"}, {"7d", "7' DAY"},
                {"30d", "30' DAY"}}) {
            selects.add("""
                    SELECT resolvedId, ts, 'count_%s.' || event, CAST(COUNT(*) OVER (PARTITION BY resolvedId, event
                        ORDER BY ts RANGE BETWEEN INTERVAL '%s PRECEDING AND CURRENT ROW) AS DOUBLE)
                      FROM unified WHERE event IS NOT NULL""".formatted(window[0], window[1]));
        }
        selects.add("""
                SELECT resolvedId, ts, 'orders_30d', CAST(SUM(CASE WHEN event = 'order_completed' THEN 1 ELSE 0 END)
                    OVER (PARTITION BY resolvedId ORDER BY ts RANGE BETWEEN INTERVAL '30' DAY PRECEDING AND CURRENT ROW)
                    AS DOUBLE)
                  FROM unified""");
        selects.add("""
                SELECT resolvedId, ts, 'monetary_value_90d', SUM(CASE WHEN event IN (%s)
                    THEN COALESCE(properties.revenue, properties.amount, 0) ELSE 0 END)
                    OVER (PARTITION BY resolvedId ORDER BY ts RANGE BETWEEN INTERVAL '90' DAY PRECEDING AND CURRENT ROW)
                  FROM unified""".formatted(FeatureBuildBenchmark.list(features.get("revenueEvents"))));
        selects.add("""
                SELECT resolvedId, ts, 'last_active', CAST(MAX(CASE WHEN event NOT IN (%s) THEN `timestamp` END)
                    OVER (PARTITION BY resolvedId ORDER BY ts RANGE BETWEEN INTERVAL '90' DAY PRECEDING AND CURRENT ROW)
                    AS DOUBLE)
                  FROM unified""".formatted(FeatureBuildBenchmark.list(features.get("passiveEvents"))));
        return "INSERT INTO features\n" + String.join("\nUNION ALL\n", selects);
    }

    /**
     * The simulated people of the suite's run and of the command line's default: 542,925 events over 3 days. With
     * 10,000 people (179,268 events; until 2026-12-07) the product's warm runs took about 6 s, of which starting the
     * job took 1.7 s (submission to the keyed task running) and the wait for the checkpoint after its last event up to
     * 2 s more: the rate measured the job's start as much as its throughput (issue "Speed to lead").
     */
    public static final int USERS = 30_000;
    /** The most rounds of {@link #compare} in the suite and from the command line. */
    public static final int ROUNDS = 5;
    /** The rounds {@link #compare} runs before it looks whether the jobs still get faster. */
    private static final int MIN_ROUNDS = 3;

    /** How long a job may take to read the topic before the run gives up on it. */
    private static final Duration DEADLINE = Duration.ofMinutes(15);

    /**
     * One job's run: events read, seconds start to finish, the CPU seconds this process (broker, cluster and job)
     * spent meanwhile, and records it wrote.
     */
    public record Run(long events, double seconds, double cpuSeconds, long written) {
        public double perSecond() {
            return events / seconds;
        }
    }

    private SegmentationThroughput() {
    }

    public static void main(String[] args) throws Exception {
        int users = args.length > 0 ? Integer.parseInt(args[0]) : USERS;
        int days = args.length > 1 ? Integer.parseInt(args[1]) : 3;
        String which = args.length > 2 ? args[2] : "both";
        if (!List.of("both", "segmentation", "sql").contains(which)) {
            throw new IllegalArgumentException("the third argument is segmentation, sql or both, not " + which);
        }
        try (LocalKafkaBroker broker = LocalKafkaBroker.start()) {
            if (which.equals("both")) {
                Comparison c = compare(broker, users, days, ROUNDS, System.out);
                System.out.printf(Locale.ROOT, "%n== segmentation %,.0f events/s against the SQL job's %,.0f events/s: "
                        + "%.2f×%n", c.product().perSecond(), c.peer().perSecond(), c.ratio());
            } else {
                TopicsConfig topics = KafkaTestSupport.uniqueTopics(broker, "p1");
                long events = fill(broker, topics, users, days, System.out);
                if (which.equals("sql")) {
                    sql(broker, topics, events, System.out);
                } else {
                    segmentation(broker, topics, events, System.out);
                }
            }
        }
        System.exit(0); // the MiniClusters' and Kafka clients' non-daemon threads
    }

    /**
     * Both jobs over the same topics: each job's best run (its rate, the product's and the peer's), the ratio of their
     * rates, and every run's rate in the order run.
     */
    public record Comparison(long events, Run product, Run peer, List<Double> productRates, List<Double> peerRates) {
        public double ratio() {
            return product.perSecond() / peer.perSecond();
        }
    }

    /**
     * Runs both jobs in rounds, each round over a topic of its own with the same simulation of {@code users} people
     * over {@code days} (the product first in odd rounds, the peer first in even ones), and takes each job's best
     * run. The rounds go on until neither job's last run was faster than its best before by a twentieth, from the third
     * round on, for at most {@code maxRounds} ({@link Plateau}): both jobs get faster over several runs in one JVM as
     * the JIT compiles them (in one run of four rounds the product went 7,446 → 9,637 → 16,819 → 13,995 events/s and
     * the peer 6,405 → 8,713 → 9,764 → 12,412; the peer alone, seven runs in a row, 6,036 → 10,356 → 11,039 → 11,717 →
     * 11,473 → 12,074 → 10,889; issue "Speed to lead"), where jobs that run for days run compiled. The protocol before,
     * one run each after an untimed run over a topic of a twentieth of the people, caught both early in their warm-up:
     * three suite runs of one build gave 1.05×, 1.06× and 1.26×.
     */
    public static Comparison compare(LocalKafkaBroker broker, int users, int days, int maxRounds, PrintStream out)
            throws Exception {
        if (maxRounds < 1) {
            throw new IllegalArgumentException("at least one round, not " + maxRounds);
        }
        Run product = null;
        Run peer = null;
        List<Double> productRates = new ArrayList<>();
        List<Double> peerRates = new ArrayList<>();
        long events = 0;
        Plateau plateau = new Plateau(2, Math.min(MIN_ROUNDS, maxRounds), maxRounds, 1);
        boolean again = true;
        for (int round = 1; again; round++) {
            out.printf(Locale.ROOT, "  round %d (at most %d):%n", round, maxRounds);
            TopicsConfig topics = KafkaTestSupport.uniqueTopics(broker, "p1-" + round);
            events = fill(broker, topics, users, days, out);
            Run ours;
            Run theirs;
            if (round % 2 == 1) {
                ours = segmentation(broker, topics, events, out);
                theirs = sql(broker, topics, events, out);
            } else {
                theirs = sql(broker, topics, events, out);
                ours = segmentation(broker, topics, events, out);
            }
            productRates.add(ours.perSecond());
            peerRates.add(theirs.perSecond());
            again = plateau.record(ours.perSecond(), theirs.perSecond());
            product = product == null || ours.perSecond() > product.perSecond() ? ours : product;
            peer = peer == null || theirs.perSecond() > peer.perSecond() ? theirs : peer;
        }
        out.printf(Locale.ROOT, "  runs (events/s): segmentation %s; Flink SQL %s%n", rates(productRates),
                rates(peerRates));
        return new Comparison(events, product, peer, productRates, peerRates);
    }

    private static String rates(List<Double> rates) {
        return String.join(", ", rates.stream().map(r -> String.format(Locale.ROOT, "%,.0f", r)).toList());
    }

    /**
     * The peer's topic: events.unified's records as JSON, in the same partitions ({@link #fill}).
     */
    public static String jsonTopic(TopicsConfig topics) {
        return topics.name(TopicsConfig.UNIFIED) + ".json";
    }

    /**
     * Writes the simulation of {@code users} people over {@code days} to events.unified as ingest writes it, and the
     * same records as JSON to {@link #jsonTopic}; returns how many events.
     */
    public static long fill(LocalKafkaBroker broker, TopicsConfig topics, int users, int days, PrintStream out) {
        long start = System.nanoTime();
        List<UnifiedEvent> events = HotPathBenchmark.events(users, days);
        UnifiedEventCodec binary = new UnifiedEventCodec.Binary();
        UnifiedEventCodec json = new UnifiedEventCodec();
        String topic = topics.name(TopicsConfig.UNIFIED);
        String jsonTopic = jsonTopic(topics);
        int partitions = topics.spec(TopicsConfig.UNIFIED).partitions();
        broker.createTopics(List.of(new NewTopic(jsonTopic, partitions, (short) 1)));
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers(),
                ProducerConfig.LINGER_MS_CONFIG, 20, ProducerConfig.BATCH_SIZE_CONFIG, 256 * 1024),
                new ByteArraySerializer(), new ByteArraySerializer())) {
            for (UnifiedEvent e : events) {
                // Appended now: the simulated days lie months back, and a record stamped with its event time would be
                // past the topic's retention and deleted before the jobs read it.
                byte[] key = e.resolvedId().getBytes(StandardCharsets.UTF_8);
                producer.send(new ProducerRecord<>(topic, key, binary.encode(e)));
                producer.send(new ProducerRecord<>(jsonTopic, key, json.encode(e)));
            }
            producer.flush();
        }
        out.printf(Locale.ROOT, "  %,d events of %,d people over %d days written to %s, and as JSON to %s (%.1f s)%n",
                events.size(), users, days, topic, jsonTopic, (System.nanoTime() - start) / 1e9);
        return events.size();
    }

    /**
     * The segmentation job over the topic, exactly-once, under a consumer group and transactional ids of its own (a
     * job under the previous run's ids would first abort that run's transactions).
     */
    public static Run segmentation(LocalKafkaBroker broker, TopicsConfig topics, long events, PrintStream out)
            throws Exception {
        String group = "p1-segmentation-" + Long.toHexString(System.nanoTime());
        List<String> args = new ArrayList<>(List.of("--bootstrap-servers", broker.bootstrapServers(),
                "--group-id", group, "--delivery-guarantee", "exactly-once", "--transaction-timeout", "5min"));
        args.addAll(KafkaTestSupport.topicArgs(topics));
        SegmentationOptions options = SegmentationOptions.parse(args.toArray(String[]::new));
        StreamExecutionEnvironment env = environment();
        SegmentationJob.configure(env, options);
        SegmentationJob.fromOptions(options, false).build(env);
        out.println("  segmentation job: running over the topic");
        long start = System.nanoTime();
        long cpu = ProcessCpu.nanos();
        JobClient job = env.executeAsync("P1 segmentation");
        Timed timed = awaitConsumed(broker, job, group, topics.name(TopicsConfig.UNIFIED),
                List.of(topics.name(TopicsConfig.PROFILES), topics.name(TopicsConfig.CHANGES)), events, start, cpu, out);
        long written = count(broker, topics.name(TopicsConfig.PROFILES)) + count(broker, topics.name(TopicsConfig.CHANGES));
        Run run = checked("the segmentation job", new Run(events, timed.seconds(), timed.cpuSeconds(), written));
        out.printf(Locale.ROOT, "  segmentation job: %,d events in %.1f s = %,.0f events/s (%.0f CPU s); %,d profiles "
                + "and changes written%n", events, run.seconds(), run.perSecond(), run.cpuSeconds(), written);
        return run;
    }

    /**
     * The Flink SQL peer ({@link #sql}) over the same records as JSON ({@link #jsonTopic}), exactly-once, with the
     * segmentation job's default out-of-orderness for its watermark, under a consumer group and transactional ids of
     * its own.
     */
    public static Run sql(LocalKafkaBroker broker, TopicsConfig topics, long events, PrintStream out)
            throws Exception {
        String sink = topics.name(TopicsConfig.UNIFIED) + ".sql-features";
        broker.createTopics(List.of(new NewTopic(sink, 4, (short) 1)));
        String suffix = Long.toHexString(System.nanoTime());
        long outOfOrderness = SegmentationOptions.parse(new String[] {"--bootstrap-servers", broker.bootstrapServers()})
                .outOfOrderness().toMinutes();
        StreamTableEnvironment tables = StreamTableEnvironment.create(environment());
        Object[] values = {jsonTopic(topics), sink, broker.bootstrapServers(), suffix, outOfOrderness};
        tables.executeSql(SQL_SOURCE.formatted(values));
        tables.executeSql(SQL_SINK.formatted(values));
        StatementSet statements = tables.createStatementSet().addInsertSql(sql());
        out.println("  Flink SQL job: running over the topic");
        long start = System.nanoTime();
        long cpu = ProcessCpu.nanos();
        JobClient job = statements.execute().getJobClient().orElseThrow();
        Timed timed = awaitConsumed(broker, job, "sql-peer-" + suffix, jsonTopic(topics),
                List.of(sink), events, start, cpu, out);
        long written = count(broker, sink);
        Run run = checked("the Flink SQL job", new Run(events, timed.seconds(), timed.cpuSeconds(), written));
        out.printf(Locale.ROOT, "  Flink SQL job: %,d events in %.1f s = %,.0f events/s (%.0f CPU s); %,d feature rows "
                + "written%n", events, run.seconds(), run.perSecond(), run.cpuSeconds(), written);
        return run;
    }

    /** A job that read everything and wrote nothing was not doing its work: its figure would be meaningless. */
    private static Run checked(String job, Run run) {
        if (run.written() == 0) {
            throw new IllegalStateException(job + " read " + run.events() + " events and wrote nothing");
        }
        return run;
    }

    /**
     * Both jobs' environment: the local run's Flink configuration (conf/flink/local: checkpoints every 2 s, heap
     * state, parallelism 2; {@link LocalFlink}).
     */
    private static StreamExecutionEnvironment environment() {
        return StreamExecutionEnvironment.getExecutionEnvironment(
                LocalFlink.forRun("segmentation-job", "p1-checkpoints-"));
    }

    /**
     * Waits until {@code group}'s committed offsets on {@code topic} reach its end (the Kafka source commits them after
     * a checkpoint completes), printing progress, for at most {@link #DEADLINE}, and meanwhile watches the committed
     * ends (last stable offsets) of the job's {@code outputs}; then stops the job with a savepoint and waits until it
     * has ended, so that the next job does not share the machine with its teardown. Returns the seconds and this
     * process's CPU seconds from {@code start} (and {@code cpu}) to the last move of the outputs' committed ends before
     * the input's offsets reached its end: the commit of the checkpoint that read the whole topic.
     */
    private static Timed awaitConsumed(LocalKafkaBroker broker, JobClient job, String group, String topic,
                                       List<String> outputs, long events, long start, long cpu, PrintStream out)
            throws Exception {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()))) {
            long end = ends(admin, partitions(admin, List.of(topic)), IsolationLevel.READ_UNCOMMITTED);
            Map<TopicPartition, OffsetSpec> written = partitions(admin, outputs);
            long nextReport = start;
            long output = 0;
            long outputAt = start;
            long outputCpu = cpu;
            while (true) {
                long committed = admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get()
                        .entrySet().stream().filter(e -> e.getKey().topic().equals(topic) && e.getValue() != null)
                        .mapToLong(e -> e.getValue().offset()).sum();
                long stable = ends(admin, written, IsolationLevel.READ_COMMITTED);
                long now = System.nanoTime();
                if (stable != output) {
                    output = stable;
                    outputAt = now;
                    outputCpu = ProcessCpu.nanos();
                }
                if (committed >= end) {
                    if (output == 0) {
                        throw new IllegalStateException("the job read the topic and committed no output");
                    }
                    out.printf(Locale.ROOT, "    last output committed at %.1f s; the input's offsets at its end at "
                            + "%.1f s%n", (outputAt - start) / 1e9, (now - start) / 1e9);
                    job.stopWithSavepoint(false, KafkaTestSupport.tempDir("p1-savepoint-").toUri().toString(),
                            SavepointFormatType.CANONICAL).get(2, TimeUnit.MINUTES);
                    job.getJobExecutionResult().get(2, TimeUnit.MINUTES);
                    return new Timed((outputAt - start) / 1e9, (outputCpu - cpu) / 1e9);
                }
                if (now - start > DEADLINE.toNanos()) {
                    job.cancel().get(1, TimeUnit.MINUTES);
                    throw new IllegalStateException("the job has not read the topic to its end in " + DEADLINE + ": "
                            + committed + " of " + end + " offsets committed");
                }
                if (job.getJobStatus().get().isGloballyTerminalState()) {
                    throw new IllegalStateException("the job stopped before reading the topic: "
                            + job.getJobStatus().get());
                }
                if (now >= nextReport) {
                    out.printf(Locale.ROOT, "    %,d of %,d events read and committed (%.0f s)%n",
                            committed * events / Math.max(1, end), events, (now - start) / 1e9);
                    nextReport = now + TimeUnit.SECONDS.toNanos(10);
                }
                Thread.sleep(50);
            }
        }
    }

    /** Every partition of {@code topics}, each asking for its end offset. */
    private static Map<TopicPartition, OffsetSpec> partitions(Admin admin, List<String> topics) throws Exception {
        Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
        admin.describeTopics(topics).allTopicNames().get().forEach((name, description) -> description.partitions()
                .forEach(p -> latest.put(new TopicPartition(name, p.partition()), OffsetSpec.latest())));
        return latest;
    }

    /**
     * The sum of the end offsets of {@code partitions}: with {@link IsolationLevel#READ_COMMITTED}, the last stable
     * offsets, which move when a transaction commits.
     */
    private static long ends(Admin admin, Map<TopicPartition, OffsetSpec> partitions, IsolationLevel isolation)
            throws Exception {
        return admin.listOffsets(partitions, new ListOffsetsOptions(isolation)).all().get().values().stream()
                .mapToLong(ListOffsetsResult.ListOffsetsResultInfo::offset).sum();
    }

    /** A job's time to its last output, and the CPU time this process spent meanwhile. */
    private record Timed(double seconds, double cpuSeconds) {
    }

    private static long count(LocalKafkaBroker broker, String topic) {
        return TopicReader.readToEndSettled(broker.bootstrapServers(), topic, Duration.ofMinutes(5), r -> { });
    }
}
