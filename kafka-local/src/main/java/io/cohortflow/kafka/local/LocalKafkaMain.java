package io.cohortflow.kafka.local;

import io.cohortflow.core.config.CommandLine;
import io.cohortflow.core.config.TopicsConfig;

import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;

/**
 * A real single-node Kafka broker (KRaft) for operators' own checks, on fixed ports and a kept directory, so that it
 * can be stopped (Ctrl-C) and started again on the same data, for example to see what the jobs do across a broker
 * restart. Creates the product's topics (conf/topics.yaml, or {@code --topics-config}) unless they exist.
 *
 * <pre>
 * java -cp ... io.cohortflow.kafka.local.LocalKafkaMain --data-dir .kafka [--port 9092] [--controller-port 9093]
 *     [--topics-config conf/topics.yaml]
 * </pre>
 * Prints {@code Kafka broker up at 127.0.0.1:PORT} once it answers, then runs until stopped.
 */
public final class LocalKafkaMain {
    private static final Set<String> KEYS = Set.of("data-dir", "port", "controller-port", "topics-config");

    private LocalKafkaMain() {
    }

    public static void main(String[] args) throws InterruptedException {
        Map<String, String> options = CommandLine.parse(args, KEYS);
        String dataDir = options.get("data-dir");
        if (dataDir == null) {
            throw new IllegalArgumentException("--data-dir is required: the broker keeps its data there across restarts");
        }
        LocalKafkaBroker broker = LocalKafkaBroker.start(Path.of(dataDir), false,
                Integer.parseInt(options.getOrDefault("port", "9092")),
                Integer.parseInt(options.getOrDefault("controller-port", "9093")));
        String topicsConfig = options.get("topics-config");
        broker.createTopics(topicsConfig == null ? TopicsConfig.defaults() : TopicsConfig.load(topicsConfig));
        System.out.println("Kafka broker up at " + broker.bootstrapServers() + " (data in " + dataDir
                + "; Ctrl-C stops it, the data stays)");
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            broker.close();
            stopped.countDown();
        }, "kafka-local-shutdown"));
        stopped.await();
    }
}
