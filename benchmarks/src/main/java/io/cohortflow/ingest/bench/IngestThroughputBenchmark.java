package io.cohortflow.ingest.bench;

import io.cohortflow.benchmarks.LocalFlink;
import io.cohortflow.benchmarks.ProcessCpu;
import io.cohortflow.core.config.TopicsConfig;
import io.cohortflow.ingest.IngestJob;
import io.cohortflow.ingest.IngestOptions;
import io.cohortflow.kafka.local.LocalKafkaBroker;
import io.cohortflow.jobs.kafka.TopicReader;
import io.cohortflow.simulator.KafkaDeliverySink;
import io.cohortflow.simulator.Playback;
import io.cohortflow.simulator.Simulator;
import io.cohortflow.simulator.SimulatorConfig;
import io.cohortflow.testkit.KafkaTestSupport;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * Throughput of the ingest job on this machine, with the real broker: simulated deliveries are written to
 * events.raw first, then the job runs over them to completion, history included, under the local run's Flink
 * configuration ({@link LocalFlink}: parallelism 2, checkpoints every 2 s, heap state). Prints deliveries per second,
 * for exactly-once and for at-least-once.
 *
 * <pre>
 * mvn -q -DskipTests install
 * mvn -q -pl benchmarks exec:exec -Dexec.executable=java \
 *     -Dexec.args="-Xmx6g -cp %classpath io.cohortflow.ingest.bench.IngestThroughputBenchmark 20000"
 * </pre>
 * The argument is the number of simulated users (default 20000, about 220 000 deliveries over 3 days).
 */
public final class IngestThroughputBenchmark {
    private IngestThroughputBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        int users = args.length > 0 ? Integer.parseInt(args[0]) : 20_000;
        try (LocalKafkaBroker broker = LocalKafkaBroker.start()) {
            System.out.printf("broker up in %d ms%n", broker.startupTime().toMillis());
            for (String guarantee : List.of("exactly-once", "at-least-once")) {
                run(broker, users, guarantee);
            }
        }
        System.exit(0);
    }

    private static void run(LocalKafkaBroker broker, int users, String guarantee) throws Exception {
        TopicsConfig topics = KafkaTestSupport.uniqueTopics(broker, "bench");
        long sent = produce(broker, topics, users, guarantee);
        ingest(broker, topics, sent, guarantee);
    }

    /** Writes the simulation of {@code users} people over 3 days to events.raw; returns how many deliveries. */
    public static long produce(LocalKafkaBroker broker, TopicsConfig topics, int users, String label) throws Exception {
        Simulator simulator = new Simulator(SimulatorConfig.of(42, users, 3, Instant.parse("2026-03-02T00:00:00Z")));
        Playback.Progress sent;
        try (KafkaDeliverySink sink = new KafkaDeliverySink(broker.bootstrapServers(), topics.name(TopicsConfig.RAW))) {
            sent = Playback.play(simulator, sink, 0, Duration.ofSeconds(5),
                    p -> System.out.printf("  producing: %,d deliveries%n", p.sent()), () -> false);
        }
        System.out.printf("[%s] %,d deliveries written to events.raw in %.1f s (%,.0f/s)%n", label, sent.sent(),
                sent.elapsed().toMillis() / 1000.0, sent.ratePerSecond());
        return sent.sent();
    }

    /**
     * Runs the ingest job ({@code guarantee}, the local run's Flink configuration, history included) over the
     * {@code deliveries} on {@code topics}' events.raw to completion, from the start of the topic (a consumer group of
     * its own: the job starts from its group's committed offsets); returns the seconds from the job's start to its
     * finish and how many events it wrote to events.unified.
     */
    public static Run ingest(LocalKafkaBroker broker, TopicsConfig topics, long deliveries, String guarantee)
            throws Exception {
        Path history = KafkaTestSupport.tempDir("bench-history-");
        List<String> args = new ArrayList<>(List.of("--bootstrap-servers", broker.bootstrapServers(),
                "--history-path", history.toUri().toString(), "--group-id",
                "bench-" + guarantee + "-" + UUID.randomUUID(),
                "--delivery-guarantee", guarantee, "--transaction-timeout", "5min"));
        args.addAll(KafkaTestSupport.topicArgs(topics));
        IngestOptions options = IngestOptions.parse(args.toArray(String[]::new));
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(
                LocalFlink.forRun("ingest-job", "ingest-checkpoints-"));
        IngestJob.configure(env, options);
        IngestJob.fromOptions(options, true).build(env);
        long start = System.nanoTime();
        long cpu = ProcessCpu.nanos();
        env.execute("ingest benchmark " + guarantee);
        double seconds = (System.nanoTime() - start) / 1e9;
        double cpuSeconds = (ProcessCpu.nanos() - cpu) / 1e9;
        long unified = TopicReader.readToEndSettled(broker.bootstrapServers(), topics.name(TopicsConfig.UNIFIED),
                Duration.ofMinutes(5), r -> { });
        System.out.printf("[%s] ingest: %,d deliveries -> %,d unified in %.1f s = %,.0f deliveries/s, %.1f CPU s "
                        + "(job start to finish, includes startup and the final commit; CPU: this process, broker "
                        + "included)%n", guarantee, deliveries, unified, seconds, deliveries / seconds, cpuSeconds);
        return new Run(seconds, cpuSeconds, unified);
    }

    /**
     * One run of the job: seconds from its start to its finish, this process's CPU seconds meanwhile, and the events it
     * wrote to events.unified.
     */
    public record Run(double seconds, double cpuSeconds, long unified) {
    }
}
