package io.cohortflow.core.engine;

import io.cohortflow.core.segment.SegmentRules;

import java.util.List;
import java.util.Map;

/**
 * Why a user is in a segment or not, as of the engine's clock: the condition, its verdict and the values of the
 * variables it reads.
 *
 * @param segmentId the segment
 * @param condition its CEL condition
 * @param asOf      the event time the explanation is computed for (the user's clock)
 * @param matches   whether the condition holds now
 * @param member    whether the user is a member (equal to {@code matches} right after an evaluation)
 * @param since     when the user entered, epoch ms, or null when not a member
 * @param inputs    each variable the condition reads, with its value now
 */
public record Explanation(String segmentId, String condition, long asOf, boolean matches, boolean member, Long since,
                          Map<String, Object> inputs, List<SegmentRules.Clause> clauses) {
}
