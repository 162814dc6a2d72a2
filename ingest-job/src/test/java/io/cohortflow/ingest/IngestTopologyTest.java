package io.cohortflow.ingest;

import io.cohortflow.ingest.functions.DedupeFunction;
import org.apache.flink.api.dag.Transformation;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.graph.StreamEdge;
import org.apache.flink.streaming.api.graph.StreamGraph;
import org.apache.flink.streaming.api.graph.StreamNode;
import org.apache.flink.streaming.api.transformations.SourceTransformation;
import org.junit.jupiter.api.Test;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/** The ingest topology as built, without running it. */
class IngestTopologyTest {
    private static final IngestOptions OPTIONS = IngestOptions.parse(new String[] {
            "--bootstrap-servers", "localhost:9", "--history-path", "file:///tmp/unused"});

    /**
     * A bounded read of events.raw runs without watermark alignment: with it, the Kafka connector failed bounded runs
     * at end of input (FLINK-39728, "No current assignment for partition"). A live read keeps it.
     */
    @Test
    void rawPartitionsAreReadInStepLiveButNotInABoundedRun() {
        assertThat(rawSource(false).getWatermarkStrategy().getAlignmentParameters().isEnabled()).isTrue();
        assertThat(rawSource(true).getWatermarkStrategy().getAlignmentParameters().isEnabled()).isFalse();
    }

    /**
     * The Parquet history gets the user actions as sent and the late events (dedupe's side output), and nothing else.
     * ({@code IngestITCase} reconciles the history with events.unified and events.late, but its run has no late event.)
     */
    @Test
    void theHistoryGetsTheUserActionsAndTheLateEvents() {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        IngestJob.fromOptions(OPTIONS, false).build(env);
        StreamGraph graph = env.getStreamGraph();
        assertThat(inputsOf(graph, "Parquet history: Writer")).hasSize(2)
                .anySatisfy(in -> {
                    assertThat(graph.getSourceVertex(in).getOperatorName()).isEqualTo("user actions, as sent");
                    assertThat(in.getOutputTag()).isNull();
                })
                .anySatisfy(in -> {
                    assertThat(graph.getSourceVertex(in).getOperatorName()).startsWith("dedupe by messageId");
                    assertThat(in.getOutputTag()).isEqualTo(DedupeFunction.LATE);
                });
    }

    /** The edges into the one operator named {@code name}. */
    private static List<StreamEdge> inputsOf(StreamGraph graph, String name) {
        List<StreamNode> nodes = graph.getStreamNodes().stream().filter(n -> n.getOperatorName().equals(name)).toList();
        assertThat(nodes).as("operators named " + name).hasSize(1);
        return nodes.get(0).getInEdges();
    }

    private static SourceTransformation<?, ?, ?> rawSource(boolean bounded) {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        IngestJob.fromOptions(OPTIONS, bounded).build(env);
        Deque<Transformation<?>> todo = new ArrayDeque<>(env.getTransformations());
        Set<Transformation<?>> seen = new HashSet<>();
        while (!todo.isEmpty()) {
            Transformation<?> t = todo.pop();
            if (!seen.add(t)) {
                continue;
            }
            if (t instanceof SourceTransformation<?, ?, ?> source && "events.raw".equals(source.getName())) {
                return source;
            }
            todo.addAll(t.getInputs());
        }
        throw new AssertionError("no events.raw source in the topology");
    }
}
