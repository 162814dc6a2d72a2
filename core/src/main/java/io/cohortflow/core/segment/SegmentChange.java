package io.cohortflow.core.segment;

import io.cohortflow.core.codec.FrozenMap;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;

/**
 * One ENTER or EXIT of one user in one segment, as published on segments.changes.
 *
 * <p>{@code changeId} is derived from (user, segment, type, event time, ordinal of the transition for this user and
 * segment) only, so a replay or an at-least-once redelivery produces the same id and consumers can dedupe on it, while
 * two transitions never share one (a user can leave and re-enter within one millisecond). {@code processingTime} is
 * informational and differs between runs.
 *
 * @param changeId       deterministic id, see {@link #idFor}
 * @param userId         resolved user id
 * @param segmentId      stable segment id
 * @param segmentName    human name of the segment
 * @param type           ENTER or EXIT
 * @param eventTime      event time of the event or timer that caused the change, epoch ms
 * @param processingTime wall-clock time the change was computed, epoch ms
 * @param cause          the rule or model that decided it
 * @param features       a few feature values that explain it
 * @param model          the model bundle scoring the user when the change was computed ({@code bundle@v3}), or
 *                       {@code none}
 */
public record SegmentChange(
        String changeId,
        String userId,
        String segmentId,
        String segmentName,
        ChangeType type,
        long eventTime,
        long processingTime,
        Cause cause,
        Map<String, Double> features,
        String model) {

    public SegmentChange {
        Objects.requireNonNull(changeId, "changeId");
        Objects.requireNonNull(userId, "userId");
        Objects.requireNonNull(segmentId, "segmentId");
        Objects.requireNonNull(segmentName, "segmentName");
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(cause, "cause");
        // A FrozenMap is taken as it is: the changes of one evaluation (with 1,000 segments an event can move dozens)
        // share one map instead of taking a copy each.
        features = features == null ? Map.of() : FrozenMap.copyOf(features);
        model = model == null ? "none" : model;
    }

    /**
     * Builds a change whose id is derived from its identifying fields.
     *
     * @param ordinal how many transitions of this user in this segment came before this one
     */
    public static SegmentChange of(String userId, String segmentId, String segmentName, ChangeType type,
                                   long eventTime, long ordinal, long processingTime, Cause cause,
                                   Map<String, Double> features, String model) {
        return new SegmentChange(idFor(userId, segmentId, type, eventTime, ordinal), userId, segmentId, segmentName,
                type, eventTime, processingTime, cause, features, model);
    }

    /** A name-based (v3) UUID of user, segment, type, event time and the transition's ordinal. */
    public static String idFor(String userId, String segmentId, ChangeType type, long eventTime, long ordinal) {
        String key = userId + '\u0000' + segmentId + '\u0000' + type + '\u0000' + eventTime + '\u0000' + ordinal;
        // UUID.nameUUIDFromBytes, with this thread's MD5 instead of a new one looked up for every change.
        byte[] md5 = MD5.get().digest(key.getBytes(StandardCharsets.UTF_8));
        md5[6] = (byte) ((md5[6] & 0x0f) | 0x30); // version 3
        md5[8] = (byte) ((md5[8] & 0x3f) | 0x80); // IETF variant
        long most = 0;
        long least = 0;
        for (int i = 0; i < 8; i++) {
            most = (most << 8) | (md5[i] & 0xff);
            least = (least << 8) | (md5[i + 8] & 0xff);
        }
        return new UUID(most, least).toString();
    }

    private static final ThreadLocal<MessageDigest> MD5 = ThreadLocal.withInitial(() -> {
        try {
            return MessageDigest.getInstance("MD5");
        } catch (NoSuchAlgorithmException e) {
            throw new InternalError("MD5 not supported", e); // every Java platform has it
        }
    });
}
