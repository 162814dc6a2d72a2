package io.cohortflow.segmentation;

import io.cohortflow.core.config.TopicsConfig;
import io.cohortflow.core.identity.IdentityMerge;
import io.cohortflow.core.identity.IdentityMergeCodec;
import io.cohortflow.core.segment.SegmentChange;
import io.cohortflow.kafka.local.LocalKafkaBroker;
import io.cohortflow.testkit.KafkaTestSupport;
import io.cohortflow.testkit.MiniClusters;
import io.cohortflow.testkit.SharedKafka;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Same input, same changes, with identity merges: a merge-heavy events.unified and identity.merges (written once by
 * the real ingest job) through the live segmentation job three times, at parallelism 2, 2 and 1, each with its own
 * handoff loop through Kafka. Handoffs and decisions arrive when they arrive; the changes must not care.
 */
@ExtendWith(SharedKafka.class)
class MergeDeterminismITCase {
    @RegisterExtension
    static final MiniClusterExtension FLINK = MiniClusters.extension();

    @Test
    void threeRunsAtParallelismTwoAndOneGiveTheSameChanges(LocalKafkaBroker broker) throws Exception {
        LoopedRuns.Input input = LoopedRuns.mergeHeavyInput(broker, "merge-determinism", 200, 3);
        TopicsConfig in = KafkaTestSupport.uniqueTopics(broker, "merge-determinism");
        input.writeTo(broker, in);
        List<IdentityMerge> decisions = KafkaTestSupport.readAllCommitted(broker.bootstrapServers(),
                in.name(TopicsConfig.MERGES), new IdentityMergeCodec());
        long merged = decisions.stream().filter(m -> m.status() == IdentityMerge.Status.MERGED).count();
        assertThat(merged).as("a merge-heavy input").isGreaterThan(100);

        List<SegmentChange> first = run(broker, in, merged, 2);
        List<SegmentChange> second = run(broker, in, merged, 2);
        List<SegmentChange> third = run(broker, in, merged, 1);

        Set<String> expected = LoopedRuns.comparable(first);
        long mergeExits = first.stream().filter(c -> c.cause().kind().equals("identity")).count();
        System.out.printf("merge determinism: %d link decisions (%d merged), %d changes per run (%d exits by merge); "
                        + "runs at parallelism 2, 2, 1%n", decisions.size(), merged, first.size(), mergeExits);
        assertThat(mergeExits).as("merges that moved members").isGreaterThan(10);
        List<String> diff = LoopedRuns.difference(expected, LoopedRuns.comparable(second));
        if (!diff.isEmpty()) {
            LoopedRuns.printFirstDifferentUser(broker, in, diff, first, second);
        }
        assertThat(diff).as("second run, parallelism 2").isEmpty();
        assertThat(LoopedRuns.difference(expected, LoopedRuns.comparable(third))).as("third run, parallelism 1").isEmpty();
        Map<String, List<String>> order = LoopedRuns.perUserOrder(first);
        assertThat(LoopedRuns.perUserOrder(second)).isEqualTo(order);
        assertThat(LoopedRuns.perUserOrder(third)).isEqualTo(order);
        assertThat(first.stream().map(SegmentChange::changeId).distinct().count()).isEqualTo(first.size());
    }

    private static List<SegmentChange> run(LocalKafkaBroker broker, TopicsConfig in, long links, int parallelism)
            throws Exception {
        TopicsConfig out = KafkaTestSupport.uniqueTopics(broker, "merge-determinism-out");
        JobClient job = PipelineITCase.start(PipelineITCase.segmentation(broker, in, out, parallelism));
        LoopedRuns.awaitHandoffsThenDrain(broker, links, out, job, 180_000);
        return PipelineITCase.changes(broker, out);
    }
}
