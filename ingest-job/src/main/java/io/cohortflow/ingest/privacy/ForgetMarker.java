package io.cohortflow.ingest.privacy;

import io.cohortflow.core.event.EventType;
import io.cohortflow.core.event.UnifiedEvent;
import io.cohortflow.core.privacy.PrivacyRequest;
import io.cohortflow.ingest.functions.IdentityKeys;
import org.apache.flink.api.common.TaskInfo;
import org.apache.flink.runtime.state.KeyGroupRangeAssignment;
import org.apache.flink.util.Collector;

import java.util.Map;

/**
 * Tells identity stitching to forget a device's link: an in-band record on the device's key, from dedupe to
 * stitching, never written anywhere. Dedupe emits one for each id of a privacy request when it takes the request in
 * (each subtask for the ids whose device key it owns), so it reaches stitching after every earlier event of the device
 * and before any later one; dedupe drops the later ones of a suppressed id itself, so the link is not needed to
 * recognise them. A user's devices are named by ingest's follow-up request ({@link PrivacyRequest#forLinkedDevices}),
 * whose markers clear their links.
 */
public final class ForgetMarker {
    static final String CONTEXT_KEY = "cohortflow_forget";

    private ForgetMarker() {
    }

    /** Whether {@code event} is a marker, not a user action. */
    public static boolean is(UnifiedEvent event) {
        return event.context().containsKey(CONTEXT_KEY);
    }

    /** The markers of {@code request} this subtask owns (by the device key each id would have), to {@code out}. */
    public static void emit(PrivacyRequest request, TaskInfo task, Collector<UnifiedEvent> out) {
        for (String id : request.idsWithKeys()) {
            int owner = KeyGroupRangeAssignment.assignKeyToParallelOperator(IdentityKeys.forDevice(id),
                    task.getMaxNumberOfParallelSubtasks(), task.getNumberOfParallelSubtasks());
            if (owner == task.getIndexOfThisSubtask()) {
                out.collect(of(id, request));
            }
        }
    }

    /** The marker for device {@code id}: keyed as the device's events are ({@link IdentityKeys#forEvent}). */
    static UnifiedEvent of(String id, PrivacyRequest request) {
        return new UnifiedEvent("privacy:" + request.requestId(), EventType.TRACK, null, id, null, id,
                request.requestedAt(), null, request.requestedAt(), "privacy", null, Map.of(), Map.of(),
                Map.of(CONTEXT_KEY, request.requestId()));
    }
}
