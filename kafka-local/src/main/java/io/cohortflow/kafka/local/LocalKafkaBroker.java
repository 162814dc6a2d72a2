package io.cohortflow.kafka.local;

import io.cohortflow.core.config.TopicSpec;
import io.cohortflow.core.config.TopicsConfig;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.metadata.storage.Formatter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A single-node Kafka broker in KRaft combined mode (broker and controller in one), running in this JVM.
 *
 * <p>It listens on 127.0.0.1 only, on two free ports (clients and controller), with replication factors of one and a
 * transaction-state min ISR of one so exactly-once sinks work on a single node. Storage lives in a fresh temporary
 * directory formatted with a new cluster id and is deleted on {@link #close()}.
 */
public final class LocalKafkaBroker implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(LocalKafkaBroker.class);
    private static final String CONTROLLER_LISTENER = "CONTROLLER";

    private final KafkaRaftServer server;
    private final Path dataDir;
    private final String bootstrapServers;
    private final Duration startupTime;
    private final boolean deleteOnClose;

    private LocalKafkaBroker(KafkaRaftServer server, Path dataDir, String bootstrapServers, Duration startupTime,
                             boolean deleteOnClose) {
        this.server = server;
        this.dataDir = dataDir;
        this.bootstrapServers = bootstrapServers;
        this.startupTime = startupTime;
        this.deleteOnClose = deleteOnClose;
    }

    /** Starts a broker with its data in a new temporary directory, deleted on close. */
    public static LocalKafkaBroker start() {
        try {
            return start(Files.createTempDirectory("cohortflow-kafka-"), true);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Starts a broker with its data in {@code dataDir} (which must be empty or absent), on free ports. */
    public static LocalKafkaBroker start(Path dataDir, boolean deleteOnClose) {
        return start(dataDir, deleteOnClose, freePort(), freePort());
    }

    /**
     * Starts a broker on fixed ports with its data in {@code dataDir}. A directory a broker ran in before is used as it
     * is (its topics and records are still there), so a broker can be stopped and started again on the same data: give
     * it the same ports, since the controller's address is part of the cluster's metadata.
     */
    public static LocalKafkaBroker start(Path dataDir, boolean deleteOnClose, int brokerPort, int controllerPort) {
        long started = System.nanoTime();
        Path logDir = dataDir.resolve("kraft-combined");
        boolean formatted = Files.exists(logDir.resolve("meta.properties"));
        Properties props = new Properties();
        props.put("process.roles", "broker,controller");
        props.put("node.id", "1");
        props.put("controller.quorum.voters", "1@127.0.0.1:" + controllerPort);
        props.put("listeners", "PLAINTEXT://127.0.0.1:" + brokerPort + "," + CONTROLLER_LISTENER + "://127.0.0.1:" + controllerPort);
        props.put("advertised.listeners", "PLAINTEXT://127.0.0.1:" + brokerPort);
        props.put("controller.listener.names", CONTROLLER_LISTENER);
        props.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT," + CONTROLLER_LISTENER + ":PLAINTEXT");
        props.put("inter.broker.listener.name", "PLAINTEXT");
        props.put("log.dirs", logDir.toString());
        props.put("auto.create.topics.enable", "false");
        props.put("num.partitions", "1");
        props.put("offsets.topic.replication.factor", "1");
        props.put("offsets.topic.num.partitions", "4");
        props.put("transaction.state.log.replication.factor", "1");
        props.put("transaction.state.log.min.isr", "1");
        props.put("transaction.state.log.num.partitions", "4");
        props.put("share.coordinator.state.topic.replication.factor", "1");
        props.put("share.coordinator.state.topic.min.isr", "1");
        props.put("group.initial.rebalance.delay.ms", "0");
        // Small segments and quick log cleaning keep compacted topics tidy on a laptop.
        props.put("log.cleaner.backoff.ms", "1000");
        try {
            Files.createDirectories(logDir);
            KafkaConfig config = KafkaConfig.fromProps(props, false);
            if (!formatted) {
                new Formatter()
                        .setPrintStream(new PrintStream(OutputStream.nullOutputStream()))
                        .setNodeId(1)
                        .setClusterId(Uuid.randomUuid().toString())
                        .addDirectory(logDir.toString())
                        .setMetadataLogDirectory(logDir.toString())
                        .setControllerListenerName(CONTROLLER_LISTENER)
                        .run();
            }
            KafkaRaftServer server = new KafkaRaftServer(config, Time.SYSTEM);
            server.startup();
            String bootstrap = "127.0.0.1:" + brokerPort;
            awaitReady(bootstrap, Duration.ofSeconds(60));
            Duration startup = Duration.ofNanos(System.nanoTime() - started);
            LOG.info("Kafka broker up at {} in {} ms (data in {})", bootstrap, startup.toMillis(), dataDir);
            return new LocalKafkaBroker(server, dataDir, bootstrap, startup, deleteOnClose);
        } catch (Exception e) {
            throw new IllegalStateException("could not start the local Kafka broker in " + dataDir + ": " + e, e);
        }
    }

    public String bootstrapServers() {
        return bootstrapServers;
    }

    /** How long {@link #start} took, formatting included. */
    public Duration startupTime() {
        return startupTime;
    }

    public Admin admin() {
        return Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers));
    }

    /** Creates every topic of {@code topics} with its partitions and configs; existing topics are left as they are. */
    public void createTopics(TopicsConfig topics) {
        List<NewTopic> newTopics = new ArrayList<>();
        for (TopicSpec spec : topics.all()) {
            newTopics.add(new NewTopic(spec.name(), spec.partitions(), (short) 1).configs(spec.config()));
        }
        createTopics(newTopics);
    }

    /**
     * Creates {@code newTopics} (existing ones are left as they are) and returns once this broker leads every one of
     * their partitions, so a producer may write to them at once.
     *
     * <p>The controller acknowledges a new topic before the broker has applied it. A produce request that arrives in
     * between fails with NOT_LEADER_OR_FOLLOWER and is retried; an idempotent producer's next request, arriving just
     * after, can then be appended first, and every retry of the first is refused as out of order until its delivery
     * timeout drops it (KAFKA-14359, KAFKA-15591; fixed upstream by apache/kafka#23234, not in the 4.2.2 broker this
     * project runs). Waiting here until each partition answers a ListOffsets request, which only its leader does,
     * closes that window.
     */
    public void createTopics(List<NewTopic> newTopics) {
        try (Admin admin = admin()) {
            for (var entry : admin.createTopics(newTopics).values().entrySet()) {
                try {
                    entry.getValue().get(30, TimeUnit.SECONDS);
                } catch (ExecutionException e) {
                    if (!(e.getCause() instanceof TopicExistsException)) {
                        throw new IllegalStateException("cannot create topic " + entry.getKey(), e.getCause());
                    }
                }
            }
            awaitLeaders(admin, newTopics, Duration.ofSeconds(30));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        } catch (java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException("timed out creating topics", e);
        }
    }

    /**
     * Waits until every partition of {@code topics} answers a ListOffsets request from its leader. Until the broker has
     * applied a new topic, describing it can fail as well (UNKNOWN_TOPIC_OR_PARTITION): both are asked again.
     */
    private static void awaitLeaders(Admin admin, List<NewTopic> topics, Duration timeout)
            throws InterruptedException, java.util.concurrent.TimeoutException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            try {
                Map<TopicPartition, OffsetSpec> partitions = new HashMap<>();
                for (TopicDescription description : admin.describeTopics(topics.stream().map(NewTopic::name).toList())
                        .allTopicNames().get(timeout.toMillis(), TimeUnit.MILLISECONDS).values()) {
                    for (var partition : description.partitions()) {
                        partitions.put(new TopicPartition(description.name(), partition.partition()), OffsetSpec.latest());
                    }
                }
                admin.listOffsets(partitions).all().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
                return;
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof RetriableException) || System.nanoTime() > deadline) {
                    throw new IllegalStateException("partitions of new topics not led after " + timeout, e.getCause());
                }
                Thread.sleep(20);
            }
        }
    }

    @Override
    public void close() {
        try {
            server.shutdown();
            server.awaitShutdown();
        } finally {
            if (deleteOnClose) {
                deleteRecursively(dataDir);
            }
        }
    }

    private static void awaitReady(String bootstrap, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        Exception last = null;
        while (System.nanoTime() < deadline) {
            try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
                int brokers = admin.describeCluster().nodes().get(5, TimeUnit.SECONDS).size();
                if (brokers > 0) {
                    return;
                }
            } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
                last = e;
            }
            Thread.sleep(100);
        }
        throw new IllegalStateException("broker at " + bootstrap + " not ready after " + timeout, last);
    }

    /**
     * A port free on this machine now, below the kernel's ephemeral range: a broker stopped to be started again on the
     * same port must find it free, and a port of the ephemeral range can meanwhile be handed to any outgoing
     * connection (a Kafka client's, say). Not handed out twice by this JVM.
     */
    public static int freePort() {
        int below = ephemeralLow();
        int span = below - FIXED_PORTS_FROM;
        int start = java.util.concurrent.ThreadLocalRandom.current().nextInt(span);
        for (int i = 0; i < span; i++) {
            int port = FIXED_PORTS_FROM + (start + i) % span;
            if (!HANDED_OUT.contains(port) && bindable(port)) {
                HANDED_OUT.add(port);
                return port;
            }
        }
        throw new IllegalStateException("no free port in [" + FIXED_PORTS_FROM + ", " + below + ")");
    }

    private static final int FIXED_PORTS_FROM = 20_000;
    private static final java.util.Set<Integer> HANDED_OUT = java.util.concurrent.ConcurrentHashMap.newKeySet();

    private static boolean bindable(int port) {
        try (ServerSocket socket = new ServerSocket()) {
            socket.setReuseAddress(false);
            socket.bind(new java.net.InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** The lowest port the kernel hands to outgoing connections (Linux), else 32768. */
    private static int ephemeralLow() {
        try {
            String range = Files.readString(Path.of("/proc/sys/net/ipv4/ip_local_port_range")).trim();
            int low = Integer.parseInt(range.split("\\s+")[0]);
            return low > FIXED_PORTS_FROM + 1_000 ? low : 32_768;
        } catch (IOException | RuntimeException e) {
            return 32_768;
        }
    }

    private static void deleteRecursively(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            LOG.warn("could not delete {}: {}", dir, e.toString());
        }
    }
}
