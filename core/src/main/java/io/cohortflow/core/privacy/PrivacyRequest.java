package io.cohortflow.core.privacy;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * A request to forget or silence people (GDPR erasure, CCPA deletion, do-not-track), as recorded on the compacted
 * privacy.requests topic, keyed by {@code requestId}. Segment's regulations API takes the same shape: a type and up to
 * {@link #MAX_IDS} user or anonymous ids.
 *
 * @param requestId   unique id of the request (the record's key)
 * @param type        what to do
 * @param ids         the user ids and anonymous ids it is about, distinct, at most {@link #MAX_IDS}
 * @param requestedAt when it was made, epoch ms
 * @param requester   who made it (a person or a system), for the record
 * @param origin      for a request the product made itself, the request it follows from (ingest names the devices
 *                    linked to a person a request names: {@link #forLinkedDevices}); null for a request made by a
 *                    person
 */
public record PrivacyRequest(String requestId, Type type, List<String> ids, long requestedAt, String requester,
                             String origin) {
    /** The most ids one request takes (as Segment's regulations API). */
    public static final int MAX_IDS = 5_000;
    private static final Pattern REQUEST_ID = Pattern.compile("[A-Za-z0-9._:-]{1,128}");

    /** What a request asks for. */
    public enum Type {
        /** Drop the ids' new events from now on; what is stored stays. */
        SUPPRESS,
        /** Delete what is stored of the ids (state, memberships, profiles, history); new events are let in again. */
        DELETE,
        /** Both: delete what is stored, and drop what comes. */
        SUPPRESS_WITH_DELETE;

        public boolean deletes() {
            return this != SUPPRESS;
        }

        public boolean suppresses() {
            return this != DELETE;
        }
    }

    /** A request made by a person (no origin). */
    public PrivacyRequest(String requestId, Type type, List<String> ids, long requestedAt, String requester) {
        this(requestId, type, ids, requestedAt, requester, null);
    }

    /**
     * The follow-up request for the devices linked to {@code userId}, one of the ids of {@code origin}: same type and
     * time, so every stage treats the devices as the person. Its id is fixed by the origin and the user, so a replay
     * writes the same record again (the topic is compacted by request id), and names neither.
     */
    public static PrivacyRequest forLinkedDevices(PrivacyRequest origin, String userId, List<String> devices) {
        return new PrivacyRequest("linked-" + PrivacyStatus.idHash(origin.requestId(), userId),
                origin.type(), devices, origin.requestedAt(), "ingest: the devices linked to an id of "
                + origin.requestId(), origin.requestId());
    }

    /**
     * The ids as ingest keys them: an email address as its {@code email_sha256:} key ({@link
     * io.cohortflow.core.identity.EmailKeys}), any other id as it is; distinct, in order.
     */
    public java.util.Set<String> keys() {
        LinkedHashSet<String> keys = new LinkedHashSet<>();
        ids.forEach(id -> keys.add(io.cohortflow.core.identity.EmailKeys.of(id)));
        return keys;
    }

    /** The ids as named and as ingest keys them: what a check matches, whichever form an input carries. */
    public java.util.Set<String> idsWithKeys() {
        LinkedHashSet<String> forms = new LinkedHashSet<>();
        ids.forEach(id -> {
            forms.add(id);
            forms.add(io.cohortflow.core.identity.EmailKeys.of(id));
        });
        return forms;
    }

    public PrivacyRequest {
        Objects.requireNonNull(type, "type: SUPPRESS, DELETE or SUPPRESS_WITH_DELETE");
        if (requestId == null || !REQUEST_ID.matcher(requestId).matches()) {
            throw new IllegalArgumentException("requestId must be 1 to 128 letters, digits or ._:- characters, got "
                    + requestId);
        }
        if (ids == null || ids.isEmpty()) {
            throw new IllegalArgumentException("a request names at least one id");
        }
        LinkedHashSet<String> distinct = new LinkedHashSet<>();
        for (String id : ids) {
            if (id == null || id.isBlank()) {
                throw new IllegalArgumentException("blank id in the request");
            }
            distinct.add(id.strip());
        }
        if (distinct.size() > MAX_IDS) {
            throw new IllegalArgumentException("a request takes at most " + MAX_IDS + " ids, got " + distinct.size()
                    + ": split it");
        }
        ids = List.copyOf(distinct);
        if (requester == null || requester.isBlank()) {
            throw new IllegalArgumentException("a request records who made it (requester)");
        }
    }
}
