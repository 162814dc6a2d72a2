package io.cohortflow.core.segment;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class SegmentChangeTest {

    @Test
    void changeIdDependsOnlyOnUserSegmentTypeAndEventTime() {
        SegmentChange a = SegmentChange.of("u1", "s1", "S", ChangeType.ENTER, 1_000L, 0, 5L, Cause.rule("s1", null), Map.of(), "none");
        SegmentChange b = SegmentChange.of("u1", "s1", "S", ChangeType.ENTER, 1_000L, 0, 99L, Cause.rule("s1", "2"),
                Map.of("f", 1.0), "bundle@v2");
        assertThat(a.changeId()).as("a redelivery has the same id").isEqualTo(b.changeId());
        assertThat(SegmentChange.idFor("u1", "s1", ChangeType.EXIT, 1_000L, 0)).isNotEqualTo(a.changeId());
        assertThat(SegmentChange.idFor("u2", "s1", ChangeType.ENTER, 1_000L, 0)).isNotEqualTo(a.changeId());
        assertThat(SegmentChange.idFor("u1", "s1", ChangeType.ENTER, 1_001L, 0)).isNotEqualTo(a.changeId());
        assertThat(SegmentChange.idFor("u1", "s1", ChangeType.ENTER, 1_000L, 2))
                .as("re-entering within the same millisecond is another change").isNotEqualTo(a.changeId());
    }

    @Test
    void changeIdsAreTheNameBasedUuidsPublishedBefore() {
        // Consumers dedupe on these ids across a redeploy: they are UUID.nameUUIDFromBytes of the key, as ever.
        String[] users = {"u1", "user_jane", "anon_123xyz", "ünïcødé-🙂", ""};
        String[] segments = {"s1", "cart_abandoner", "persona_high_value_bundle_purchaser"};
        long[] times = {0L, 1_000L, -5L, Long.MAX_VALUE};
        for (String user : users) {
            for (String segment : segments) {
                for (ChangeType type : ChangeType.values()) {
                    for (long t : times) {
                        for (long ordinal : new long[] {0, 1, 41}) {
                            String key = user + '\u0000' + segment + '\u0000' + type + '\u0000' + t + '\u0000'
                                    + ordinal;
                            assertThat(SegmentChange.idFor(user, segment, type, t, ordinal)).isEqualTo(
                                    java.util.UUID.nameUUIDFromBytes(key.getBytes(StandardCharsets.UTF_8)).toString());
                        }
                    }
                }
            }
        }
        assertThat(SegmentChange.idFor("u1", "s1", ChangeType.ENTER, 1_000L, 0))
                .as("an id as published").isEqualTo("80a5f9bf-bba5-31d2-88dd-f9e1fcda60c3");
    }

    @Test
    void roundTripsThroughJson() {
        SegmentChangeCodec codec = new SegmentChangeCodec();
        SegmentChange change = SegmentChange.of("u1", "s1", "Segment One", ChangeType.EXIT, 1_000L, 1, 5L,
                Cause.rule("s1", null), Map.of("count", 2.0), "bundle@v1");
        assertThat(codec.decode(codec.encode(change))).isEqualTo(change);
        assertThat(codec.encodeToString(change)).contains("\"type\":\"EXIT\"", "\"kind\":\"rule\"");
    }
}
