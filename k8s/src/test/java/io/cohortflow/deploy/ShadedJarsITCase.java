package io.cohortflow.deploy;

import io.cohortflow.core.config.TopicsConfig;
import io.cohortflow.core.segment.ChangeType;
import io.cohortflow.core.segment.SegmentChangeCodec;
import io.cohortflow.kafka.local.LocalKafkaBroker;
import io.cohortflow.simulator.Delivery;
import io.cohortflow.simulator.KafkaDeliverySink;
import io.cohortflow.simulator.Simulator;
import io.cohortflow.simulator.SimulatorConfig;
import io.cohortflow.testkit.KafkaTestSupport;
import io.cohortflow.testkit.MiniClusters;
import io.cohortflow.testkit.Repository;
import io.cohortflow.testkit.SharedKafka;
import org.apache.flink.api.common.JobID;
import org.apache.flink.client.program.ClusterClient;
import org.apache.flink.client.program.PackagedProgram;
import org.apache.flink.client.program.PackagedProgramUtils;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.runtime.jobgraph.JobGraph;
import org.apache.flink.test.junit5.InjectClusterClient;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The shaded job jars, exactly as `flink run` or the operator would submit them, on a cluster that only has Flink:
 * neither the Kafka connector nor the job classes are on this test's classpath, so the jobs can only run if their jars
 * carry everything they need. Against the real broker, through to a segment change of the seed story.
 */
@ExtendWith(SharedKafka.class)
class ShadedJarsITCase {
    @RegisterExtension
    static final MiniClusterExtension FLINK = MiniClusters.extension();

    private static final Path ROOT = Repository.root();

    @Test
    void bothJobJarsRunOnAClusterThatOnlyHasFlink(LocalKafkaBroker broker, @InjectClusterClient ClusterClient<?> client)
            throws Exception {
        assertThatThrownBy(() -> Class.forName("org.apache.flink.connector.kafka.source.KafkaSource"))
                .as("the connector is not on the cluster's classpath").isInstanceOf(ClassNotFoundException.class);
        assertThatThrownBy(() -> Class.forName("io.cohortflow.ingest.IngestJob")).isInstanceOf(ClassNotFoundException.class);

        TopicsConfig topics = KafkaTestSupport.uniqueTopics(broker, "jars");
        try (KafkaDeliverySink sink = new KafkaDeliverySink(broker.bootstrapServers(), topics.name(TopicsConfig.RAW))) {
            for (Delivery d : new Simulator(SimulatorConfig.of(1, 20, 2, Instant.parse("2026-03-02T00:00:00Z")))) {
                sink.send(d);
            }
            sink.flush();
        }
        List<String> common = new ArrayList<>(List.of("--bootstrap-servers", broker.bootstrapServers(),
                "--transaction-timeout", "60s"));
        common.addAll(KafkaTestSupport.topicArgs(topics));
        List<String> ingestArgs = new ArrayList<>(common);
        ingestArgs.addAll(List.of("--history-path", Files.createTempDirectory("jar-history-").toUri().toString()));
        List<String> segmentationArgs = new ArrayList<>(common);
        segmentationArgs.addAll(List.of("--idleness", "2s"));

        JobID ingest = submit(client, ROOT.resolve("ingest-job/target/ingest-job-0.1.0-SNAPSHOT-job.jar"), ingestArgs);
        JobID segmentation = submit(client,
                ROOT.resolve("segmentation-job/target/segmentation-job-0.1.0-SNAPSHOT-job.jar"), segmentationArgs);
        try {
            long deadline = System.currentTimeMillis() + 120_000;
            boolean entered = false;
            while (!entered && System.currentTimeMillis() < deadline) {
                Thread.sleep(1_000);
                entered = KafkaTestSupport.readAllCommitted(broker.bootstrapServers(), topics.name(TopicsConfig.CHANGES),
                        new SegmentChangeCodec()).stream().anyMatch(c -> c.userId().equals("anon_123xyz")
                        && c.segmentId().equals("high_intent_footwear") && c.type() == ChangeType.ENTER);
            }
            assertThat(entered).as("anon_123xyz enters high intent footwear, computed by the jobs from their jars").isTrue();
        } finally {
            String savepoints = Files.createTempDirectory("jar-savepoints-").toUri().toString();
            for (JobID job : List.of(segmentation, ingest)) {
                client.stopWithSavepoint(job, false, savepoints, SavepointFormatType.CANONICAL).get(2, TimeUnit.MINUTES);
            }
        }
    }

    private static JobID submit(ClusterClient<?> client, Path jar, List<String> args) throws Exception {
        assertThat(jar).as("built by the job module's package phase").exists();
        PackagedProgram program = PackagedProgram.newBuilder()
                .setJarFile(jar.toFile())
                .setArguments(args.toArray(String[]::new))
                .build();
        JobGraph graph = PackagedProgramUtils.createJobGraph(program, MiniClusters.jobConfig(), 2, false);
        return client.submitJob(graph).get(1, TimeUnit.MINUTES);
    }
}
