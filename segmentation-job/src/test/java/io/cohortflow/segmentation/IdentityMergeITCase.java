package io.cohortflow.segmentation;

import io.cohortflow.core.config.TopicsConfig;
import io.cohortflow.core.segment.ChangeType;
import io.cohortflow.core.segment.SegmentChange;
import io.cohortflow.core.segment.SegmentProfile;
import io.cohortflow.kafka.local.LocalKafkaBroker;
import io.cohortflow.simulator.Delivery;
import io.cohortflow.simulator.Simulator;
import io.cohortflow.simulator.SimulatorConfig;
import io.cohortflow.testkit.KafkaTestSupport;
import io.cohortflow.testkit.MiniClusters;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.groups.Tuple.tuple;

/**
 * The live identity merge: both jobs running (unbounded), the anonymous id's state handed through segments.handoff
 * and folded into the known user. Runs on a broker of its own, because its jobs are stopped midway.
 */
class IdentityMergeITCase {
    @RegisterExtension
    static final MiniClusterExtension FLINK = MiniClusters.extension();

    private static LocalKafkaBroker broker;

    @BeforeAll
    static void startBroker() {
        broker = LocalKafkaBroker.start();
    }

    @AfterAll
    static void stopBroker() {
        broker.close();
    }

    @Test
    void afterSheIdentifiesHerKnownIdCarriesTheCart() throws Exception {
        TopicsConfig topics = KafkaTestSupport.uniqueTopics(broker, "merge");
        PipelineITCase.produce(broker, topics, seedStoryThenTraffic());

        List<JobClient> jobs = startLive(broker, topics);
        try {
            // Her first profile (her sign-up's own event) can come before the handoff of her anonymous history: the
            // test waits for the fold, and fails if the cart never reaches her.
            SegmentProfile jane = PipelineITCase.awaitProfile(broker, topics, "user_jane",
                    p -> p.segments().contains("cart_abandoner"), 90_000);
            assertThat(PipelineITCase.changes(broker, topics))
                    .extracting(SegmentChange::userId, SegmentChange::segmentId, SegmentChange::type)
                    .contains(tuple("anon_123xyz", "cart_abandoner", ChangeType.EXIT),
                            tuple("user_jane", "cart_abandoner", ChangeType.ENTER));
        } finally {
            String savepoints = KafkaTestSupport.tempDir("savepoints-").toUri().toString();
            for (JobClient job : jobs) {
                job.stopWithSavepoint(false, savepoints, SavepointFormatType.CANONICAL).get(2, TimeUnit.MINUTES);
            }
        }
    }

    /** Segmentation (parallelism 2) and ingest, unbounded, on {@code topics}: to stop in that order. */
    static List<JobClient> startLive(LocalKafkaBroker broker, TopicsConfig topics) throws Exception {
        return startLive(broker, topics, io.cohortflow.testkit.KafkaTestSupport.tempDir("history-"));
    }

    /** Ingest (history under {@code history}) and segmentation (with {@code segmentationArgs}), running; segmentation first. */
    static List<JobClient> startLive(LocalKafkaBroker broker, TopicsConfig topics, java.nio.file.Path history,
                                     String... segmentationArgs) throws Exception {
        JobClient ingest = PipelineITCase.start(PipelineITCase.ingest(broker, topics, history));
        // Short idleness: most partitions stay empty here, and a live run waits that long for them before time moves.
        List<String> args = new ArrayList<>(List.of("--idleness", "2s"));
        args.addAll(List.of(segmentationArgs));
        JobClient segmentation = PipelineITCase.start(PipelineITCase.segmentation(broker, topics, topics, 2,
                args.toArray(String[]::new)));
        return List.of(segmentation, ingest);
    }

    /**
     * The seed story alone (she browses anonymously, then signs up as user_jane), and someone else's later traffic,
     * which moves event time past her sign-up as live traffic would.
     */
    static List<Delivery> seedStoryThenTraffic() {
        List<Delivery> deliveries = new ArrayList<>();
        new Simulator(SimulatorConfig.of(1, 0, 2, PipelineITCase.START)).forEach(deliveries::add);
        deliveries.add(PipelineITCase.track("m-clock", "it_clock", "Page Viewed",
                PipelineITCase.IDENTIFIED + PipelineITCase.HOUR));
        return deliveries;
    }
}
