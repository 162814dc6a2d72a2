package io.cohortflow.core.privacy;

import io.cohortflow.core.identity.EmailKeys;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Objects;

/**
 * One report of progress on a privacy request, as the part of the product that did the work writes it to the compacted
 * privacy.status topic (keyed by {@link #key()}, so a part's latest report is kept). {@link RegulationStatus} rolls a
 * request's reports up into one status per stage.
 *
 * @param requestId the request's id
 * @param stage     where the work was done
 * @param group     which piece of the stage: an ingest operator ({@link #INGEST_CHECKS}), {@code ids} for the
 *                  segmentation's erasures, {@code run} for the history and the models
 * @param part      which part of the group: a subtask's index, or an id's {@link #idHash} (a pseudonym, not the id)
 * @param parts     how many parts the group has: the operator's parallelism, the request's ids, or 1
 * @param state     running, or done
 * @param at        when, epoch ms
 * @param detail    what was done, for a person reading the status ("412 rows removed from 3 files")
 */
public record PrivacyStatus(String requestId, Stage stage, String group, String part, int parts, State state, long at,
                            String detail) {
    /** The ingest operators that check ids, by the group their reports name. */
    public static final String CHECK_DEDUPE = "dedupe";
    public static final String CHECK_RESOLVED = "after stitching";
    public static final String CHECK_DEAD_LETTERS = "dead letters";
    /** Suppression is in force once each subtask of each of these has taken the request in. */
    public static final java.util.List<String> INGEST_CHECKS = java.util.List.of(CHECK_DEDUPE, CHECK_RESOLVED,
            CHECK_DEAD_LETTERS);

    /** The stages a request goes through (which apply depends on its type: {@link RegulationStatus}). */
    public enum Stage {
        /** ingest-job drops the ids' new events (requests that suppress). */
        INGEST,
        /** segmentation-job has erased each id: EXITs with cause privacy, a profile tombstone, its state dropped. */
        SEGMENTATION,
        /** The Parquet history has been rewritten without the ids' rows (requests that delete). */
        HISTORY,
        /** A training that excluded the ids has published a model. */
        MODELS
    }

    public enum State { RUNNING, DONE }

    public PrivacyStatus {
        Objects.requireNonNull(requestId, "requestId");
        Objects.requireNonNull(stage, "stage");
        Objects.requireNonNull(state, "state");
        if (parts < 1) {
            throw new IllegalArgumentException("a group has at least one part, got " + parts);
        }
        group = group == null ? "" : group;
        part = part == null ? "" : part;
        detail = detail == null ? "" : detail;
    }

    /** The record's key on the compacted topic: one latest report per part. */
    public String key() {
        return requestId + "/" + stage + "/" + group + "/" + part;
    }

    /** A report of a stage done in one piece (the history, the models). */
    public static PrivacyStatus whole(String requestId, Stage stage, State state, long at, String detail) {
        return new PrivacyStatus(requestId, stage, "run", "0", 1, state, at, detail);
    }

    /**
     * An id of a request as a status report names it: the first 16 hex digits of the SHA-256 of the request's id and
     * the id's key form (an email address as ingest keys it, {@link EmailKeys}). The request names the ids; a report
     * repeats none of them, and its pseudonym differs from request to request and from the id's key, so it joins to
     * nothing else. A reader holding the request can tell which ids are done.
     */
    public static String idHash(String requestId, String id) {
        String keyed = requestId + "\n" + EmailKeys.of(id);
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(keyed.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest, 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JVM", e);
        }
    }
}
