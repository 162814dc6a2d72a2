package io.cohortflow.ingest.privacy;

import io.cohortflow.core.event.DeadLetter;
import io.cohortflow.core.event.UnifiedEvent;
import io.cohortflow.core.privacy.PrivacyRequest;
import io.cohortflow.core.event.EventType;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.BroadcastOperatorTestHarness;
import org.apache.flink.streaming.util.ProcessFunctionTestHarnesses;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class SuppressTest {
    private static final long T0 = 1_772_445_600_000L;

    @Test
    void eventsOfASuppressedIdAreDroppedByAnyOfTheirIdsButNeverHalfOfALink() throws Exception {
        try (BroadcastOperatorTestHarness<UnifiedEvent, PrivacyRequest, UnifiedEvent> harness =
                     ProcessFunctionTestHarnesses.forBroadcastProcessFunction(new Suppress.Resolved(null),
                             Suppress.SUPPRESSED)) {
            UnifiedEvent janes = event(null, "user_jane", "user_jane");
            UnifiedEvent phone = event("anon_phone", null, "user_jane"); // a device linked to her, after stitching
            UnifiedEvent other = event("anon_other", null, "anon_other");
            harness.processElement(new StreamRecord<>(janes));
            harness.processBroadcastElement(new StreamRecord<>(request("r1", PrivacyRequest.Type.DELETE, "user_jane")));
            harness.processElement(new StreamRecord<>(janes));
            assertThat(harness.extractOutputValues()).as("no suppression yet, and a DELETE is not one").hasSize(2);

            harness.processBroadcastElement(new StreamRecord<>(
                    request("r2", PrivacyRequest.Type.SUPPRESS_WITH_DELETE, "user_jane")));
            harness.processElement(new StreamRecord<>(janes));
            harness.processElement(new StreamRecord<>(phone));
            harness.processElement(new StreamRecord<>(other));
            assertThat(harness.extractOutputValues()).hasSize(3).last().isEqualTo(other);

            // A link's marker passes: dedupe vetted its identify, and half a link would leave segmentation waiting.
            UnifiedEvent marker = io.cohortflow.core.identity.IdentityLink.marker(event("anon_phone", "user_jane",
                    "user_jane"), "anon_phone");
            harness.processElement(new StreamRecord<>(marker));
            assertThat(harness.extractOutputValues()).hasSize(4).last().isEqualTo(marker);

            // An email address stands for its key form, as ingest keys emails.
            harness.processBroadcastElement(new StreamRecord<>(
                    request("r3", PrivacyRequest.Type.SUPPRESS, "Jane.Doe@Example.com")));
            String key = io.cohortflow.ingest.mapping.EventNormalizer.emailKey("Jane.Doe@Example.com");
            harness.processElement(new StreamRecord<>(event(null, key, key)));
            assertThat(harness.extractOutputValues()).hasSize(4);
        }
    }

    @Test
    void deadLettersNamingASuppressedIdAreDropped() throws Exception {
        try (BroadcastOperatorTestHarness<DeadLetter, PrivacyRequest, DeadLetter> letters =
                     ProcessFunctionTestHarnesses.forBroadcastProcessFunction(new Suppress.DeadLetters(null),
                             Suppress.SUPPRESSED)) {
            letters.processBroadcastElement(new StreamRecord<>(request("r", PrivacyRequest.Type.SUPPRESS, "user_jane")));
            String janesKey = io.cohortflow.ingest.mapping.EventNormalizer.emailKey("jane@example.com");
            letters.processBroadcastElement(new StreamRecord<>(request("r2", PrivacyRequest.Type.SUPPRESS, janesKey)));
            DeadLetter byEmail = letter("{\"type\":\"identify\",\"userId\":\" Jane@Example.com\"}");
            DeadLetter nested = letter("{\"type\":\"track\",\"context\":{\"traits\":{\"id\":\"user_jane\"}}}");
            DeadLetter broken = letter("{\"type\":\"track\",\"userId\":\"user_jane\",\"event\":");
            DeadLetter notJson = letter("userId=\"user_jane\" and then some");
            DeadLetter mentionsInText = letter("{\"type\":\"track\",\"event\":\"about user_jane_2\"}");
            DeadLetter binary = DeadLetter.of("INVALID_JSON", "", "web", T0, new byte[] {(byte) 0xff, 1, 2}, 100);
            for (DeadLetter letter : List.of(nested, broken, notJson, mentionsInText, binary, byEmail)) {
                letters.processElement(new StreamRecord<>(letter));
            }
            assertThat(letters.extractOutputValues()).as("an id only as part of a longer string is someone else's")
                    .containsExactly(mentionsInText, binary);
        }
    }

    private static UnifiedEvent event(String anonymousId, String userId, String resolvedId) {
        return new UnifiedEvent("m-" + resolvedId, EventType.TRACK, "product_view", anonymousId, userId, resolvedId, T0,
                null, T0, "web", null, java.util.Map.of(), java.util.Map.of(), java.util.Map.of());
    }

    private static PrivacyRequest request(String id, PrivacyRequest.Type type, String... ids) {
        return new PrivacyRequest(id, type, List.of(ids), T0, "test");
    }

    private static DeadLetter letter(String payload) {
        return DeadLetter.of("INVALID_JSON", "", "web", T0, payload.getBytes(StandardCharsets.UTF_8), 1_000);
    }
}
