package io.cohortflow.activation;

import io.cohortflow.jobs.metrics.ProductMetrics;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.state.FunctionInitializationContext;
import org.apache.flink.runtime.state.FunctionSnapshotContext;
import org.apache.flink.streaming.api.checkpoint.CheckpointedFunction;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.metrics.ThreadSafeSimpleCounter;
import org.apache.flink.runtime.metrics.DescriptiveStatisticsHistogram;
import org.apache.flink.streaming.api.functions.async.ResultFuture;
import org.apache.flink.streaming.api.functions.async.RichAsyncFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;

/**
 * Flink's async I/O around one destination's {@link DestinationClient}: the activations in flight are in the async
 * operator's checkpointed queue (in order), so after a failure they are submitted again, in order, and delivered at
 * least once. The ordered queue emits an outcome only when every earlier one is out, so at a checkpoint it can hold
 * changes that already have their outcome (delivered, or given up) behind one still being retried: the last outcomes
 * are checkpointed with it, and a restored change found among them gets that outcome again without being sent. So a
 * user's later change is never sent after a restore while an earlier one that had been given up is sent again, and
 * what was delivered is not delivered twice. Metrics, under {@code cohortflow.destination.<id>}: {@code delivered}, {@code failed} (requests),
 * {@code retried}, {@code deadLettered}, {@code latencyMs} (from the change's making to the destination's answer).
 */
public final class DeliveryFunction extends RichAsyncFunction<Activation, DestinationClient.Outcome>
        implements CheckpointedFunction {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(DeliveryFunction.class);

    private final Destination destination;
    /** Secrets given on the command line's side (tests, the local run); else the environment variable is read. */
    private final Map<String, String> secrets;
    /** How many outcomes are remembered: more than the async queue can hold behind a blocked head. */
    private final int remembered;
    /** Change id -> its outcome's reason ("" when delivered), the most recent last. */
    private transient Map<String, String> outcomes;
    private transient ListState<String> outcomesState;
    private transient int limit;
    private transient ScheduledExecutorService scheduler;
    private transient DestinationClient client;
    private transient String unusable;

    /** {@code capacity}: the async operator's queue size. */
    public DeliveryFunction(Destination destination, Map<String, String> secrets, int capacity) {
        this.destination = destination;
        this.secrets = Map.copyOf(secrets);
        this.remembered = 4 * capacity;
    }

    @Override
    public void initializeState(FunctionInitializationContext context) throws Exception {
        outcomes = java.util.Collections.synchronizedMap(new java.util.LinkedHashMap<>(16, 0.75f, false) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, String> eldest) {
                return size() > limit;
            }
        });
        // Union state: after a rescale every instance knows every instance's outcomes (a change may be restored on
        // any of them); all of them are kept, on top of the instance's own allowance.
        outcomesState = context.getOperatorStateStore().getUnionListState(
                new ListStateDescriptor<>("change-outcomes", Types.STRING));
        List<String> restored = new java.util.ArrayList<>();
        outcomesState.get().forEach(restored::add);
        limit = remembered + restored.size();
        for (String entry : restored) {
            int split = entry.indexOf('\u0000');
            outcomes.put(entry.substring(0, split), entry.substring(split + 1));
        }
    }

    @Override
    public void snapshotState(FunctionSnapshotContext context) throws Exception {
        synchronized (outcomes) {
            List<String> entries = new java.util.ArrayList<>(outcomes.size());
            outcomes.forEach((id, reason) -> entries.add(id + '\u0000' + reason));
            outcomesState.update(entries);
        }
    }

    @Override
    public void open(OpenContext openContext) {
        MetricGroup group = ProductMetrics.of(getRuntimeContext().getMetricGroup())
                .addGroup("destination", destination.id());
        Counter delivered = group.counter("delivered", new ThreadSafeSimpleCounter());
        Counter failed = group.counter("failed", new ThreadSafeSimpleCounter());
        Counter retried = group.counter("retried", new ThreadSafeSimpleCounter());
        Counter deadLettered = group.counter("deadLettered", new ThreadSafeSimpleCounter());
        Histogram latency = group.histogram("latencyMs", new DescriptiveStatisticsHistogram(1024));
        scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread thread = new Thread(r, "activation-" + destination.id());
            thread.setDaemon(true);
            return thread;
        });
        String secret = destination.secretEnv() == null ? null
                : secrets.getOrDefault(destination.secretEnv(), System.getenv(destination.secretEnv()));
        if (destination.auth() != Destination.Auth.NONE && (secret == null || secret.isEmpty())) {
            unusable = "no secret: set " + destination.secretEnv() + " where the job runs";
            LOG.error("destination {} cannot be called ({}); its changes go to the dead-letter topic",
                    destination.id(), unusable);
            return;
        }
        HttpClient http = HttpClient.newBuilder().connectTimeout(destination.timeout())
                .version(HttpClient.Version.HTTP_1_1).build();
        client = new DestinationClient(destination, secret, http, scheduler, new DestinationClient.Listener() {
            @Override
            public void delivered(int changes, long latencyMillis) {
                delivered.inc(changes);
                synchronized (latency) {
                    latency.update(latencyMillis);
                }
            }

            @Override
            public void failed(int changes, String why) {
                failed.inc();
                LOG.debug("{}: a request of {} changes failed: {}", destination.id(), changes, why);
            }

            @Override
            public void retried(int changes) {
                retried.inc(changes);
            }

            @Override
            public void deadLettered(int changes, String reason) {
                deadLettered.inc(changes);
                LOG.warn("{}: {} changes dead-lettered: {}", destination.id(), changes, reason);
            }
        }, System::currentTimeMillis);
    }

    @Override
    public void asyncInvoke(Activation activation, ResultFuture<DestinationClient.Outcome> result) {
        if (client == null) {
            result.complete(List.of(notSent(activation, unusable)));
            return;
        }
        String known = outcomes.get(activation.change().changeId());
        if (known != null) { // its outcome came before the restore: not sent again
            result.complete(List.of(known.isEmpty() ? delivered(activation)
                    : notSent(activation, known + " (the outcome before a restore)")));
            return;
        }
        client.submit(activation).whenComplete((outcome, error) -> {
            DestinationClient.Outcome done = error != null
                    ? notSent(activation, "internal error: " + error) : outcome;
            outcomes.put(activation.change().changeId(), done.delivered() ? "" : String.valueOf(done.reason()));
            result.complete(List.of(done));
        });
    }

    @Override
    public void timeout(Activation activation, ResultFuture<DestinationClient.Outcome> result) {
        result.complete(List.of(notSent(activation,
                "no outcome within the async operator's timeout (the destination may still receive it)")));
    }

    private DestinationClient.Outcome notSent(Activation activation, String reason) {
        long now = System.currentTimeMillis();
        String payload;
        try {
            payload = new String(Payloads.body(destination, List.of(activation)), StandardCharsets.UTF_8);
        } catch (RuntimeException e) {
            payload = "(the payload cannot be built: " + e.getMessage() + ")";
        }
        return new DestinationClient.Outcome(activation, false, 0, 0, reason, now, now, payload);
    }

    private static DestinationClient.Outcome delivered(Activation activation) {
        long now = System.currentTimeMillis();
        return new DestinationClient.Outcome(activation, true, 0, 0, null, now, now, null);
    }

    @Override
    public void close() {
        if (client != null) {
            client.close();
        }
        if (scheduler != null) {
            scheduler.shutdownNow();
        }
    }
}
