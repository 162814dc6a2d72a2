package io.cohortflow.core.segment;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class WindowedCountRuleTest {
    private static final long MIN = 60_000L;
    private final WindowedCountRule rule = WindowedCountRule.highIntent();

    @Test
    void countsOnlyMinutesInsideTheWindowAsOfAGivenTime() {
        Map<Long, Integer> buckets = new TreeMap<>(Map.of(0L, 1, MIN, 2, 59 * MIN, 1));
        assertThat(rule.count(buckets.entrySet(), 59 * MIN)).isEqualTo(4);
        assertThat(rule.count(buckets.entrySet(), 60 * MIN)).as("minute 0 has left").isEqualTo(3);
        assertThat(rule.count(buckets.entrySet(), 61 * MIN)).isEqualTo(1);
        assertThat(rule.count(buckets.entrySet(), 30 * MIN)).as("future minutes do not count").isEqualTo(3);
    }

    @Test
    void nextExpiryIsWhenTheOldestCountedMinuteLeaves() {
        assertThat(rule.nextExpiry(List.of(5 * MIN, 2 * MIN, 9 * MIN), 10 * MIN)).hasValue(62 * MIN);
        assertThat(rule.nextExpiry(List.of(2 * MIN), 70 * MIN)).isEmpty();
        assertThat(WindowedCountRule.bucketStart(2 * MIN + 59_999)).isEqualTo(2 * MIN);
        assertThat(WindowedCountRule.bucketStart(-1)).isEqualTo(-MIN);
    }

    @Test
    void validatesItsDefinition() {
        assertThat(rule.counts("add_to_cart")).isTrue();
        assertThat(rule.counts("page_view")).isFalse();
        assertThat(rule.counts(null)).isFalse();
        assertThatThrownBy(() -> new WindowedCountRule("x", "X", Set.of("a"), Duration.ofSeconds(90), 1))
                .hasMessageContaining("whole minutes");
        assertThatThrownBy(() -> new WindowedCountRule("x", "X", Set.of("a"), Duration.ofHours(1), 0))
                .hasMessageContaining("positive");
    }
}
