package io.cohortflow.jobs.kafka;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ExecutionException;

/**
 * How far a job's consumer group is behind the end of its input topic. Flink's Kafka source commits offsets when a
 * checkpoint completes, so a lag of zero means the input is processed and the outputs of that checkpoint committed.
 * What the local run's drain and the tests that wait for a job to take something in look at. The commit can come up
 * to 10 s after the checkpoint: the source (connector 5.0.0) sends it from its fetcher thread, which waits in a 10 s
 * poll once its partitions have nothing left to read.
 */
public final class PipelineLag {
    private PipelineLag() {
    }

    /**
     * Per partition, end offset minus committed offset; -1 for a partition the group has not committed yet.
     * On a transactional topic the end offset counts trailing commit markers, so a caught-up group shows a small lag.
     */
    public static Map<Integer, Long> lag(Admin admin, String groupId, String topic) throws ExecutionException, InterruptedException {
        Map<TopicPartition, OffsetAndMetadata> committed =
                admin.listConsumerGroupOffsets(groupId).partitionsToOffsetAndMetadata().get();
        int partitions = admin.describeTopics(java.util.List.of(topic)).allTopicNames().get().get(topic).partitions().size();
        Map<TopicPartition, OffsetSpec> request = new HashMap<>();
        for (int p = 0; p < partitions; p++) {
            request.put(new TopicPartition(topic, p), OffsetSpec.latest());
        }
        Map<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> ends = admin.listOffsets(request).all().get();
        Map<Integer, Long> lag = new HashMap<>();
        for (var entry : ends.entrySet()) {
            long end = entry.getValue().offset();
            OffsetAndMetadata done = committed.get(entry.getKey());
            lag.put(entry.getKey().partition(), end == 0 ? 0 : done == null ? -1 : end - done.offset());
        }
        return lag;
    }

    /** Caught up: every partition at most {@code slack} behind (transactional topics end in commit markers). */
    public static boolean caughtUp(Map<Integer, Long> lag, long slack) {
        return lag.values().stream().allMatch(l -> l >= 0 && l <= slack);
    }
}
