package io.cohortflow.core.engine;

import io.cohortflow.core.segment.SegmentChange;
import io.cohortflow.core.segment.SegmentProfile;
import io.cohortflow.core.segment.StateHandoff;

import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * What one step of a user's engine produced, for its host (the stream operator, a batch replay, a preview) to publish.
 *
 * @param changes  ENTER and EXIT transitions, in the order they happened
 * @param published the user's profile after the step, when an input moved (an event, state from another id, a
 *                 windowed feature moving with time) or a membership changed; built when asked for ({@link #profile})
 * @param handoffs feature state to move to another id (a merge, or a straggler of an id already merged away)
 * @param wakeUp   the event time at which time alone changes something next (a window passing, a cart turning
 *                 abandoned, cleanup): the host calls {@link UserSegments#advanceTo} once its clock
 *                 reaches it; empty when nothing is due; {@link UserSegments#END_OF_INPUT} while the user waits for
 *                 an identity link's state
 * @param cleared  nothing is left of the user: the host drops the state
 * @param linksGivenUp identity links whose handoff or decision never came, given up after too many inputs were held
 *                 waiting (the host counts them: each is a merge lost upstream)
 */
public record Outcome(List<SegmentChange> changes, Optional<StepProfile> published, List<StateHandoff> handoffs,
                      OptionalLong wakeUp, boolean cleared, int linksGivenUp) {

    public Outcome {
        changes = List.copyOf(changes);
        handoffs = List.copyOf(handoffs);
    }

    /** The profile the step publishes, built now if it was not yet ({@link StepProfile#get}). */
    public Optional<SegmentProfile> profile() {
        return published.map(StepProfile::get);
    }
}
