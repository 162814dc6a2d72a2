package io.cohortflow.core.segment;

import java.util.Objects;

/**
 * The feature state of one id handed to another, on the segments.handoff topic (keyed by {@code toId}): how the
 * segmentation job moves an anonymous device's history into the known user after an identity merge, across keys.
 *
 * @param fromId    the id whose state this is (merged away)
 * @param toId      the user it is folded into
 * @param features  the state, as {@code UserFeatures.toBytes()}, Base64
 * @param eventTime event time of the merge, epoch ms
 * @param linkId    the link this hands over (the linking event's messageId, see {@code IdentityLink}): the user
 *                  folds it in at that event's place in its stream. Null for a straggler (an event of an id already
 *                  merged away), which the user folds in when it arrives.
 */
public record StateHandoff(String fromId, String toId, String features, long eventTime, String linkId) {
    public StateHandoff {
        Objects.requireNonNull(fromId, "fromId");
        Objects.requireNonNull(toId, "toId");
        Objects.requireNonNull(features, "features");
    }
}
