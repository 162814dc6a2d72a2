package io.cohortflow.ingest.privacy;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import io.cohortflow.core.event.DeadLetter;
import io.cohortflow.core.event.UnifiedEvent;
import io.cohortflow.core.identity.IdentityMerge;
import io.cohortflow.core.privacy.PrivacyRequest;
import io.cohortflow.core.privacy.PrivacyRequestCodec;
import io.cohortflow.jobs.metrics.ProductMetrics;
import io.cohortflow.jobs.types.JsonRecordTypeInfo;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.ReadOnlyBroadcastState;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.co.BroadcastProcessFunction;
import org.apache.flink.util.Collector;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * Drops what concerns a suppressed id (privacy.requests of type {@code SUPPRESS} or {@code SUPPRESS_WITH_DELETE},
 * kept as broadcast state: id to request id) before anything is written. The job places one on each path to its
 * outputs that the dedupe stage does not cover (it drops mapped events, on time or late, by their own ids, with
 * {@link #carries(UnifiedEvent, ReadOnlyBroadcastState)}, saving a hop): dead letters (any id the payload names),
 * events after identity stitching (the user a device resolves to: a suppressed user's devices follow him), and link
 * requests. Each
 * dropped call is counted in {@code suppressed} (so that {@code in = unified + dead-lettered + duplicates + late +
 * suppressed}); dropped link requests, which are not calls, in {@code suppressedLinks}.
 *
 * @param <T> what flows on the path
 */
public abstract class Suppress<T> extends BroadcastProcessFunction<T, PrivacyRequest, T> {
    private static final long serialVersionUID = 1L;

    /** Suppressed id -> the request that suppressed it. */
    public static final MapStateDescriptor<String, String> SUPPRESSED =
            new MapStateDescriptor<>("suppressed-ids", Types.STRING, Types.STRING);
    /** The requests' wire type, for the broadcast input. */
    public static final JsonRecordTypeInfo<PrivacyRequest> REQUESTS = new JsonRecordTypeInfo<>(new PrivacyRequestCodec());
    private static final JsonFactory JSON = new JsonFactory();

    private transient Counter suppressed;

    @Override
    public void open(OpenContext openContext) {
        suppressed = ProductMetrics.of(getRuntimeContext().getMetricGroup()).counter(metric());
    }

    @Override
    public void processElement(T element, ReadOnlyContext ctx, Collector<T> out) throws Exception {
        ReadOnlyBroadcastState<String, String> ids = ctx.getBroadcastState(SUPPRESSED);
        if (ids.immutableEntries().iterator().hasNext() && mentions(element, ids)) {
            suppressed.inc();
            return;
        }
        out.collect(element);
    }

    @Override
    public void processBroadcastElement(PrivacyRequest request, Context ctx, Collector<T> out) throws Exception {
        take(request, ctx.getBroadcastState(SUPPRESSED));
    }

    /** Records the ids of a request that suppresses. */
    public static void take(PrivacyRequest request, org.apache.flink.api.common.state.BroadcastState<String, String> ids)
            throws Exception {
        if (request.type().suppresses()) {
            for (String id : request.ids()) {
                ids.put(id, request.requestId());
            }
        }
    }

    /** Whether the event carries a suppressed id: user, device, resolved, or an alias's previous id. */
    public static boolean carries(UnifiedEvent event, ReadOnlyBroadcastState<String, String> ids) throws Exception {
        return in(ids, event.userId()) || in(ids, event.anonymousId()) || in(ids, event.resolvedId())
                || in(ids, event.previousId());
    }

    /** The counter of what this drops. */
    protected String metric() {
        return "suppressed";
    }

    /** Whether the element concerns an id of {@code ids}. */
    protected abstract boolean mentions(T element, ReadOnlyBroadcastState<String, String> ids) throws Exception;

    /** Events, by every id they carry: user, device, resolved, and an alias's previous id. */
    public static final class Events extends Suppress<UnifiedEvent> {
        private static final long serialVersionUID = 1L;

        @Override
        protected boolean mentions(UnifiedEvent event, ReadOnlyBroadcastState<String, String> ids) throws Exception {
            return carries(event, ids);
        }
    }

    /** Link requests, by both ends. */
    public static final class Links extends Suppress<IdentityMerge> {
        private static final long serialVersionUID = 1L;

        @Override
        protected String metric() {
            return "suppressedLinks";
        }

        @Override
        protected boolean mentions(IdentityMerge link, ReadOnlyBroadcastState<String, String> ids) throws Exception {
            return in(ids, link.fromId()) || in(ids, link.toId());
        }
    }

    /**
     * Dead letters, by any string value of their payload that is a suppressed id (the payload could not be mapped, so
     * where its ids are is not known). A payload that is not JSON is read as far as it is; one whose text is not kept
     * whole (too big, or binary) is searched for each id's quoted form.
     */
    public static final class DeadLetters extends Suppress<DeadLetter> {
        private static final long serialVersionUID = 1L;

        @Override
        protected boolean mentions(DeadLetter letter, ReadOnlyBroadcastState<String, String> ids) throws Exception {
            if (letter.payload() == null) {
                return false;
            }
            byte[] payload = letter.payloadBase64() ? Base64.getDecoder().decode(letter.payload())
                    : letter.payload().getBytes(StandardCharsets.UTF_8);
            try (JsonParser parser = JSON.createParser(payload)) {
                for (JsonToken token = parser.nextToken(); token != null; token = parser.nextToken()) {
                    if (token == JsonToken.VALUE_STRING && in(ids, parser.getText())) {
                        return true;
                    }
                }
                return false;
            } catch (IOException notJson) {
                String text = new String(payload, StandardCharsets.UTF_8);
                for (var entry : ids.immutableEntries()) {
                    if (text.contains("\"" + entry.getKey() + "\"")) {
                        return true;
                    }
                }
                return false;
            }
        }
    }

    private static boolean in(ReadOnlyBroadcastState<String, String> ids, String id) throws Exception {
        return id != null && ids.contains(id);
    }
}
