package io.cohortflow.core.segment;

import org.junit.jupiter.api.Test;

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
    void roundTripsThroughJson() {
        SegmentChangeCodec codec = new SegmentChangeCodec();
        SegmentChange change = SegmentChange.of("u1", "s1", "Segment One", ChangeType.EXIT, 1_000L, 1, 5L,
                Cause.rule("s1", null), Map.of("count", 2.0), "bundle@v1");
        assertThat(codec.decode(codec.encode(change))).isEqualTo(change);
        assertThat(codec.encodeToString(change)).contains("\"type\":\"EXIT\"", "\"kind\":\"rule\"");
    }
}
