package io.cohortflow.simulator;

import java.util.Map;

/**
 * One call before it is serialised: what happened (true time) and how the device reported it.
 *
 * @param type        Segment call type: track, page, screen, identify, alias
 * @param name        event name as the source sends it (track), or page/screen name
 * @param anonymousId device id, or null for server-side calls
 * @param userId      known id, or null while anonymous
 * @param trueTime    when it really happened, epoch ms
 * @param clockSkewMs how far the device clock is off; timestamp and sentAt carry it, receivedAt does not
 * @param source      the source that sends it (web, ios, android, stripe, zendesk, hubspot)
 * @param properties  track/page properties
 * @param traits      identify traits
 * @param previousId  alias: the id merged into userId
 */
record SimEvent(String type, String name, String anonymousId, String userId, long trueTime, long clockSkewMs,
                String source, Map<String, Object> properties, Map<String, Object> traits, String previousId) {
}
