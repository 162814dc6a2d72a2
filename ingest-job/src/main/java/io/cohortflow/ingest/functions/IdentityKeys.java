package io.cohortflow.ingest.functions;

import io.cohortflow.core.event.EventType;
import io.cohortflow.core.event.UnifiedEvent;

/**
 * The key of the identity stage: the device (anonymous id) when there is one, so that every event of a device
 * passes one place in order; an alias is keyed by the id it merges away. Events with only a user id need no
 * resolution and are keyed by that id.
 */
public final class IdentityKeys {
    static final String DEVICE = "a:";
    static final String USER = "u:";

    private IdentityKeys() {
    }

    public static String forEvent(UnifiedEvent event) {
        if (event.type() == EventType.ALIAS && event.previousId() != null && event.userId() != null
                && !event.previousId().equals(event.userId())) { // an alias of an id to itself links nothing
            return DEVICE + event.previousId();
        }
        if (event.anonymousId() != null) {
            return DEVICE + event.anonymousId();
        }
        return USER + event.userId();
    }

    /** The key of the device a link was made for. */
    public static String forDevice(String anonymousId) {
        return DEVICE + anonymousId;
    }
}
