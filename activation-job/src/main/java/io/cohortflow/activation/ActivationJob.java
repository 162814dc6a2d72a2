package io.cohortflow.activation;

import io.cohortflow.core.config.TopicsConfig;
import io.cohortflow.core.segment.SegmentChange;
import io.cohortflow.core.segment.SegmentChangeCodec;
import io.cohortflow.core.segment.SegmentProfile;
import io.cohortflow.core.segment.SegmentProfileCodec;
import io.cohortflow.jobs.kafka.KafkaIo;
import io.cohortflow.jobs.kafka.KafkaLimits;
import io.cohortflow.jobs.options.JobEnvironment;
import io.cohortflow.jobs.types.JsonRecordTypeInfo;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.source.Source;
import org.apache.flink.streaming.api.datastream.AsyncDataStream;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The activation job: delivers segment changes to the destinations of conf/destinations.
 *
 * <p>Reads segments.changes and segments.profiles (read_committed), joins each change with the user's profile
 * ({@link ProfileJoin}, keyed by user id), and for each destination that takes it (its segments, ENTER and/or EXIT)
 * delivers it through Flink's async I/O ({@link DeliveryFunction}, one ordered async operator per destination, so
 * that a slow or failing destination holds back only its own changes). Delivery is at least once with the change id
 * as Idempotency-Key, in each user's order; what a destination does not take ends on activation.dlq
 * ({@link Undelivered}) with the reason, the status and the payload. Nothing is dropped silently.
 *
 * <p>A rescale moves users between instances: deliveries in flight at that moment are sent again from their new
 * instance, and a user's ENTER and EXIT both in flight then might go out of order. Stop with a savepoint when the
 * queues are empty to rescale safely.
 */
public final class ActivationJob {
    /** The job's connections to the outside: built from options by {@link #fromOptions}, or by tests. */
    public record Io(Source<SegmentChange, ?, ?> changes, Source<SegmentProfile, ?, ?> profiles,
                     Sink<Undelivered> undelivered) {
    }

    private static final JsonRecordTypeInfo<Activation> ACTIVATION = new JsonRecordTypeInfo<>(new Activation.Codec());
    private static final JsonRecordTypeInfo<DestinationClient.Outcome> OUTCOME = new JsonRecordTypeInfo<>(new OutcomeCodec());
    private static final JsonRecordTypeInfo<Undelivered> UNDELIVERED = new JsonRecordTypeInfo<>(new Undelivered.Codec());

    private final Io io;
    private final ActivationOptions options;
    private final Map<String, String> secrets;

    /** {@code secrets}: by environment variable name, for secrets not in the environment (tests, the local run). */
    public ActivationJob(Io io, ActivationOptions options, Map<String, String> secrets) {
        this.io = io;
        this.options = options;
        this.secrets = Map.copyOf(secrets);
    }

    public static ActivationJob fromOptions(ActivationOptions options, boolean bounded, Map<String, String> secrets) {
        var kafka = options.kafka();
        String bs = kafka.bootstrapServers();
        String group = options.groupId();
        Io io = new Io(
                KafkaIo.jsonSource(bs, kafka.topic(TopicsConfig.CHANGES), group, new SegmentChangeCodec(),
                        JsonRecordTypeInfo.SEGMENT_CHANGE, bounded),
                KafkaIo.jsonSource(bs, kafka.topic(TopicsConfig.PROFILES), group + "-profiles",
                        new SegmentProfileCodec(), new JsonRecordTypeInfo<>(new SegmentProfileCodec()), bounded,
                        SegmentProfile::tombstone),
                KafkaIo.sink(kafka, kafka.topic(TopicsConfig.UNDELIVERED), new Undelivered.Codec(),
                        u -> KafkaIo.utf8(u.userId()), group + "-undelivered"));
        return new ActivationJob(io, options, secrets);
    }

    public void build(StreamExecutionEnvironment env) {
        DataStream<SegmentChange> changes = env
                .fromSource(io.changes(), WatermarkStrategy.noWatermarks(), "segments.changes").uid("changes-source");
        DataStream<SegmentProfile> profiles = env
                .fromSource(io.profiles(), WatermarkStrategy.noWatermarks(), "segments.profiles").uid("profiles-source");
        SingleOutputStreamOperator<Activation> joined = changes.keyBy(SegmentChange::userId)
                .connect(profiles.keyBy(SegmentProfile::userId))
                .process(new ProfileJoin(options.destinations(), options.profileWait(), options.profileTtl()))
                .returns(ACTIVATION).name("join profiles, fan out").uid("join");
        DataStream<DestinationClient.Outcome> outcomes = null;
        for (Destination destination : options.destinations()) {
            String id = destination.id();
            DataStream<Activation> mine = joined.filter(a -> a.destination().equals(id)).name("to " + id)
                    .uid("filter-" + id);
            // Long enough for a user's chain: a change may wait for the previous one's retries before its own.
            long timeout = 3 * (destination.maxAge().toMillis() + destination.timeout().toMillis()
                    + destination.linger().toMillis()) + 60_000;
            DataStream<DestinationClient.Outcome> delivered = AsyncDataStream
                    .orderedWait(mine, new DeliveryFunction(destination, secrets, options.capacity()), timeout, TimeUnit.MILLISECONDS,
                            options.capacity())
                    .returns(OUTCOME).name("deliver to " + id).uid("deliver-" + id);
            outcomes = outcomes == null ? delivered : outcomes.union(delivered);
        }
        outcomes.filter(outcome -> !outcome.delivered()).name("undelivered").uid("undelivered")
                .map(Undelivered::of).returns(UNDELIVERED).name("dead letters").uid("dead-letters")
                .sinkTo(io.undelivered()).name("activation.dlq").uid("undelivered-sink");
    }

    public static void configure(StreamExecutionEnvironment env, ActivationOptions options) {
        JobEnvironment.configure(env, options.maxParallelism(), options.summary());
    }

    public static void main(String[] args) throws Exception {
        ActivationOptions options = ActivationOptions.parse(args);
        var kafka = options.kafka();
        KafkaLimits.check(kafka, List.of(kafka.topic(TopicsConfig.UNDELIVERED)));
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        configure(env, options);
        fromOptions(options, false, Map.of()).build(env);
        env.execute("cohortflow activation");
    }
}
