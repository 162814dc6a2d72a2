package io.cohortflow.core.identity;

import java.util.Objects;

/**
 * One identity link, as published on identity.merges (keyed by {@code fromId}): the anonymous (or previous) id
 * {@code fromId} belongs to the known user {@code toId}.
 *
 * <p>{@code MERGED} links are to be folded downstream: the segmentation job moves the state of {@code fromId} into
 * {@code toId}. {@code REJECTED_CAP} reports a link that was refused because {@code toId} already has the maximum
 * number of linked anonymous ids (a shared kiosk device must not glue people together); ingest reads these back and
 * stops resolving {@code fromId} to {@code toId}.
 *
 * @param fromId    the anonymous id, or the previous id of an alias
 * @param toId      the known user id
 * @param status    MERGED or REJECTED_CAP
 * @param trigger   what created the link: identify, alias, or an event carrying both ids
 * @param messageId the message that created it
 * @param eventTime event time of that message, epoch ms
 * @param linkedIds how many ids were linked to {@code toId} after this decision
 */
public record IdentityMerge(String fromId, String toId, Status status, String trigger, String messageId,
                            long eventTime, int linkedIds) {
    public enum Status {
        MERGED,
        REJECTED_CAP
    }

    public IdentityMerge {
        Objects.requireNonNull(fromId, "fromId");
        Objects.requireNonNull(toId, "toId");
        Objects.requireNonNull(status, "status");
        Objects.requireNonNull(trigger, "trigger");
        Objects.requireNonNull(messageId, "messageId");
    }
}
