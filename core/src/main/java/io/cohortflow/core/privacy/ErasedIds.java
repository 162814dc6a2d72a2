package io.cohortflow.core.privacy;

import java.util.Collection;
import java.util.HashMap;
import java.util.Map;

/**
 * The people whose stored rows go, for the history erasure and the training: the ids the requests name (an email
 * address with its key form, as ingest keys it), and every anonymous id the stored rows link to one of them (an
 * identify or an alias naming both, or a row resolved to one of them), so a device she browsed on before she signed
 * up goes with her.
 *
 * <p>Each id keeps the time of the request that named it: a request that deletes without suppressing lets new events
 * in, so only rows received by then go ({@link #covers}); a request that suppresses takes all of them.
 */
public final class ErasedIds implements java.io.Serializable {
    private static final long serialVersionUID = 1L;
    /** Id to the latest receive time of the rows that go (Long.MAX_VALUE: all of them). */
    private final Map<String, Long> until = new HashMap<>();

    /** The ids named by {@code requests} that apply: each with the request's scope. */
    public static ErasedIds of(Collection<PrivacyRequest> requests) {
        ErasedIds ids = new ErasedIds();
        for (PrivacyRequest r : requests) {
            long scope = r.type().suppresses() ? Long.MAX_VALUE : r.requestedAt();
            r.idsWithKeys().forEach(id -> ids.add(id, scope));
        }
        return ids;
    }

    private void add(String id, long scope) {
        until.merge(id, scope, Math::max);
    }

    /**
     * Takes in one stored row's ids: when it links an anonymous id to an id that goes (its user id or the id it was
     * resolved to), the anonymous id goes too, with the same scope. Returns whether the set grew. One pass over the
     * stored rows finds every link (they are one level deep: a device belongs to one person); a second pass then
     * finds the rows that go ({@link #covers}), a device's rows from before its link included.
     */
    public boolean link(String userId, String anonymousId, String resolvedId, String previousId) {
        boolean grew = false;
        if (previousId != null && !previousId.isEmpty()) {
            grew = linkDevice(userId, previousId, resolvedId); // an alias: the previous id was the device
        }
        if (anonymousId != null && !anonymousId.isEmpty()) {
            grew |= linkDevice(userId, anonymousId, resolvedId);
        }
        return grew;
    }

    private boolean linkDevice(String userId, String anonymousId, String resolvedId) {
        String via = userId != null && until.containsKey(userId) ? userId
                : resolvedId != null && until.containsKey(resolvedId) ? resolvedId : null;
        if (via == null || via.equals(anonymousId)) {
            return false;
        }
        long scope = until.get(via);
        Long before = until.get(anonymousId);
        if (before != null && before >= scope) {
            return false;
        }
        until.put(anonymousId, scope);
        return true;
    }

    /** {@link #link} for a history row read with {@link io.cohortflow.core.event.UnifiedEventAvro#ID_COLUMNS}. */
    public boolean link(org.apache.avro.generic.GenericRecord row) {
        return link(text(row, "userId"), text(row, "anonymousId"), text(row, "resolvedId"), text(row, "previousId"));
    }

    /** {@link #covers} for a history row read with {@link io.cohortflow.core.event.UnifiedEventAvro#ID_COLUMNS}. */
    public boolean covers(org.apache.avro.generic.GenericRecord row) {
        return covers(text(row, "userId"), text(row, "anonymousId"), text(row, "resolvedId"),
                (Long) row.get("receivedAt"));
    }

    private static String text(org.apache.avro.generic.GenericRecord row, String field) {
        Object value = row.get(field);
        return value == null ? null : value.toString();
    }

    /**
     * Whether a stored row goes: it was received within the scope of its user id or the id it was resolved to, or it
     * is an anonymous row (no user id) of a device that goes and was not resolved to someone else. A device someone
     * else signed in on (a shared computer) keeps that person's rows.
     */
    public boolean covers(String userId, String anonymousId, String resolvedId, long receivedAt) {
        return within(userId, receivedAt) || within(resolvedId, receivedAt)
                || userId == null && within(anonymousId, receivedAt)
                && (resolvedId == null || resolvedId.equals(anonymousId));
    }

    private boolean within(String id, long receivedAt) {
        if (id == null) {
            return false;
        }
        Long scope = until.get(id);
        return scope != null && receivedAt <= scope;
    }

    public boolean isEmpty() {
        return until.isEmpty();
    }

    /** How many ids go, key forms and linked devices included. */
    public int size() {
        return until.size();
    }
}
