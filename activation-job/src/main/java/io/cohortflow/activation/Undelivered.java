package io.cohortflow.activation;

import io.cohortflow.core.codec.JsonCodec;

/**
 * A change a destination did not take, on activation.dlq (key: user id): why, the last HTTP status (0 when there was
 * no answer), how often and since when it was tried, and the payload it would have carried, so that an operator can
 * see what was missed and replay it.
 *
 * @param destination  the destination's id
 * @param changeId     the change's id (its Idempotency-Key when sent alone)
 * @param userId       the user
 * @param segmentId    the segment
 * @param type         ENTER or EXIT
 * @param reason       why it was given up: "refused: HTTP 400 (...)", "gave up after 8 attempts: HTTP 503", ...
 * @param status       the last HTTP status, 0 when none came
 * @param attempts     requests made
 * @param firstAttempt epoch ms of the first request
 * @param givenUpAt    epoch ms
 * @param payload      the body this change would have been sent in, alone
 */
public record Undelivered(String destination, String changeId, String userId, String segmentId, String type,
                          String reason, int status, int attempts, long firstAttempt, long givenUpAt, String payload) {

    static Undelivered of(DestinationClient.Outcome outcome) {
        var change = outcome.activation().change();
        return new Undelivered(outcome.activation().destination(), change.changeId(), change.userId(),
                change.segmentId(), change.type().name(), outcome.reason(), outcome.status(), outcome.attempts(),
                outcome.firstAttemptMillis(), outcome.doneMillis(), outcome.payload());
    }

    public static final class Codec extends JsonCodec<Undelivered> {
        private static final long serialVersionUID = 1L;

        public Codec() {
            super(Undelivered.class);
        }
    }
}
