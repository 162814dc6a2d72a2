package io.cohortflow.ingest.privacy;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import io.cohortflow.core.event.DeadLetter;
import io.cohortflow.core.event.UnifiedEvent;
import io.cohortflow.core.identity.IdentityLink;
import io.cohortflow.core.privacy.PrivacyRequest;
import io.cohortflow.core.privacy.PrivacyRequestCodec;
import io.cohortflow.core.privacy.PrivacyStatus;
import io.cohortflow.core.privacy.PrivacyStatusCodec;
import io.cohortflow.ingest.mapping.EventNormalizer;
import io.cohortflow.jobs.metrics.ProductMetrics;
import io.cohortflow.jobs.types.JsonRecordTypeInfo;
import org.apache.flink.api.common.TaskInfo;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.BroadcastState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.ReadOnlyBroadcastState;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.co.BroadcastProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

import java.io.IOException;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.HashSet;
import java.util.Set;

/**
 * Drops what concerns a suppressed id (privacy.requests of type {@code SUPPRESS} or {@code SUPPRESS_WITH_DELETE})
 * before anything is written. The ids are the requests read whole when the operator opens ({@link Baseline}: so that
 * a backlog read at a fresh start or after an upgrade is checked against every request, not against those broadcast
 * so far) and those broadcast since (state: id to request id). An email-address id also stands for its key form
 * ({@code email_sha256:…}, as ingest keys emails).
 *
 * <p>The dedupe stage drops mapped events, on time or late, by their own ids ({@link #carries}), on the shuffle it has
 * anyway; so an identify naming a suppressed id never forms a link. The variants here cover the other paths: dead
 * letters (any string of the payload that is a suppressed id) and events after identity stitching (a device resolving
 * to a suppressed user: his devices follow him). A link marker or a linking event passes the latter untouched: dedupe
 * vetted the identify already, and dropping half of a link (as a request arrives between its two records) would leave
 * segmentation waiting at it. Each dropped call is counted in {@code suppressed}, so that
 * {@code in = unified + dead-lettered + duplicates + late + suppressed}, counting outputs on their topics (the metric
 * {@code eventsUnified} is taken before the check after stitching).
 *
 * @param <T> what flows on the path
 */
public abstract class Suppress<T> extends BroadcastProcessFunction<T, PrivacyRequest, T> {
    private static final long serialVersionUID = 2L;

    /** Suppressed id -> the request that suppressed it. */
    public static final MapStateDescriptor<String, String> SUPPRESSED =
            new MapStateDescriptor<>("suppressed-ids", Types.STRING, Types.STRING);
    /** The requests' wire type, for the broadcast input. */
    public static final JsonRecordTypeInfo<PrivacyRequest> REQUESTS = new JsonRecordTypeInfo<>(new PrivacyRequestCodec());
    private static final JsonFactory JSON = new JsonFactory();

    /** Each checking subtask's report that it has taken a request in (privacy.status). */
    public static final OutputTag<PrivacyStatus> STATUS = new OutputTag<>("privacy-status",
            new JsonRecordTypeInfo<>(new PrivacyStatusCodec()));
    private final Baseline baseline;
    private final String check;
    private transient Set<String> atOpen;
    private transient Counter suppressed;

    /** @param baseline where to read the requests when opening; null when there is no topic (a test's sources) */
    protected Suppress(Baseline baseline, String check) {
        this.baseline = baseline;
        this.check = check;
    }

    /** The privacy.requests topic, read whole by each operator that checks ids, when it opens. */
    public record Baseline(String bootstrapServers, String topic) implements Serializable {
        /** The ids suppressed by every request on the topic now. */
        public Set<String> load() {
            Set<String> ids = new HashSet<>();
            for (PrivacyRequest request : io.cohortflow.jobs.kafka.PrivacyTopics.requests(bootstrapServers, topic)) {
                if (request.type().suppresses()) {
                    ids.addAll(request.idsWithKeys());
                }
            }
            return ids;
        }

        /** The ids suppressed by {@code baseline}'s requests, none when there is no topic (a test's sources). */
        public static Set<String> of(Baseline baseline) {
            return baseline == null ? Set.of() : baseline.load();
        }
    }

    /** The suppressed ids an element is checked against: those read at open, and those broadcast since. */
    public static final class Ids {
        private final Set<String> atOpen;
        private final ReadOnlyBroadcastState<String, String> broadcast;

        public Ids(Set<String> atOpen, ReadOnlyBroadcastState<String, String> broadcast) {
            this.atOpen = atOpen;
            this.broadcast = broadcast;
        }

        /** Whether any id is suppressed at all (the common case is none: nothing to look up). */
        public boolean any() throws Exception {
            return !atOpen.isEmpty() || broadcast.immutableEntries().iterator().hasNext();
        }

        public boolean contains(String id) throws Exception {
            return id != null && (atOpen.contains(id) || broadcast.contains(id));
        }

        /** Whether {@code text} holds a suppressed id as a quoted string. */
        boolean quotedIn(String text) throws Exception {
            for (String id : atOpen) {
                if (text.contains("\"" + id + "\"")) {
                    return true;
                }
            }
            for (var entry : broadcast.immutableEntries()) {
                if (text.contains("\"" + entry.getKey() + "\"")) {
                    return true;
                }
            }
            return false;
        }
    }

    @Override
    public void open(OpenContext openContext) {
        atOpen = Baseline.of(baseline);
        suppressed = ProductMetrics.of(getRuntimeContext().getMetricGroup()).counter("suppressed");
    }

    @Override
    public void processElement(T element, ReadOnlyContext ctx, Collector<T> out) throws Exception {
        Ids ids = new Ids(atOpen, ctx.getBroadcastState(SUPPRESSED));
        if (ids.any() && mentions(element, ids)) {
            suppressed.inc();
            return;
        }
        out.collect(element);
    }

    @Override
    public void processBroadcastElement(PrivacyRequest request, Context ctx, Collector<T> out) throws Exception {
        if (take(request, ctx.getBroadcastState(SUPPRESSED))) {
            ctx.output(STATUS, report(request, check, getRuntimeContext().getTaskInfo()));
        }
    }

    /**
     * Records the ids of a request that suppresses (an email address with its key form); returns whether it
     * suppresses.
     */
    public static boolean take(PrivacyRequest request, BroadcastState<String, String> ids) throws Exception {
        if (!request.type().suppresses()) {
            return false;
        }
        for (String id : request.idsWithKeys()) {
            ids.put(id, request.requestId());
        }
        return true;
    }

    /**
     * The report that one subtask of {@code check} has taken {@code request} in. It goes out in the transaction of
     * the checkpoint whose state holds the request, so it is read once suppression survives a restart.
     */
    public static PrivacyStatus report(PrivacyRequest request, String check, TaskInfo task) {
        return new PrivacyStatus(request.requestId(), PrivacyStatus.Stage.INGEST, check,
                Integer.toString(task.getIndexOfThisSubtask()), task.getNumberOfParallelSubtasks(),
                PrivacyStatus.State.DONE, System.currentTimeMillis(), "");
    }

    /**
     * Whether the event carries a suppressed id: user, resolved, an alias's previous id, or the device of an event
     * without a user id (a device someone else signs in on, a shared computer, is his for his signed-in events).
     */
    public static boolean carries(UnifiedEvent event, Ids ids) throws Exception {
        return ids.contains(event.userId()) || ids.contains(event.resolvedId()) || ids.contains(event.previousId())
                || (event.userId() == null || event.userId().equals(event.anonymousId()))
                && ids.contains(event.anonymousId());
    }

    /** Whether the element concerns a suppressed id. */
    protected abstract boolean mentions(T element, Ids ids) throws Exception;

    /**
     * Events after identity stitching, by every id they carry (the resolved one is a device's user); a link marker or
     * a linking event passes (see the class comment).
     */
    public static final class Resolved extends Suppress<UnifiedEvent> {
        private static final long serialVersionUID = 1L;

        public Resolved(Baseline baseline) {
            super(baseline, PrivacyStatus.CHECK_RESOLVED);
        }

        @Override
        protected boolean mentions(UnifiedEvent event, Ids ids) throws Exception {
            return IdentityLink.of(event).isEmpty() && carries(event, ids);
        }
    }

    /**
     * Dead letters, by any string value of their payload that is a suppressed id or whose key form is (the payload
     * could not be mapped, so where its ids are is not known). A payload that is not JSON is read as far as it is;
     * one whose text is not kept whole (too big, or binary) is searched for each quoted id read at open or broadcast.
     */
    public static final class DeadLetters extends Suppress<DeadLetter> {
        private static final long serialVersionUID = 1L;

        public DeadLetters(Baseline baseline) {
            super(baseline, PrivacyStatus.CHECK_DEAD_LETTERS);
        }

        @Override
        protected boolean mentions(DeadLetter letter, Ids ids) throws Exception {
            if (letter.payload() == null) {
                return false;
            }
            byte[] payload = letter.payloadBase64() ? Base64.getDecoder().decode(letter.payload())
                    : letter.payload().getBytes(StandardCharsets.UTF_8);
            try (JsonParser parser = JSON.createParser(payload)) {
                for (JsonToken token = parser.nextToken(); token != null; token = parser.nextToken()) {
                    if (token == JsonToken.VALUE_STRING && (ids.contains(parser.getText())
                            || ids.contains(EventNormalizer.emailKey(parser.getText())))) {
                        return true;
                    }
                }
                return false;
            } catch (IOException notJson) {
                String text = new String(payload, StandardCharsets.UTF_8);
                return ids.quotedIn(text);
            }
        }
    }
}
