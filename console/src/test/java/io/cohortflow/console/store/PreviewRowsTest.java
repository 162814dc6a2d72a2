package io.cohortflow.console.store;

import io.cohortflow.core.event.EventTaxonomy;
import io.cohortflow.core.feature.EventTimeline;
import io.cohortflow.core.segment.SegmentRules;
import org.junit.jupiter.api.Test;

import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

import static org.assertj.core.api.Assertions.assertThat;

class PreviewRowsTest {
    static final List<String> NAMES = List.copyOf(new TreeSet<>(EventTaxonomy.defaults().canonicalNames()));

    @Test
    void aRowReadsBackAsTheVariablesItWasWrittenFromWithTheZerosOfEveryEventName() {
        // The store's dictionary is an older taxonomy: a newer name is spelled out, and still reads.
        PreviewRows rows = new PreviewRows(NAMES, NAMES.subList(0, 5));
        Map<String, Object> variables = new HashMap<>();
        SegmentRules.types().keySet().forEach(v -> variables.put(v, null));
        variables.put("recency_days", 3.5);
        variables.put("frequency_30d", 12L);
        variables.put("cart_open", true);
        variables.put("count_7d", Map.of("product_view", 300L, NAMES.get(0), 2L, "not_in_the_taxonomy", 1L));
        variables.put("categories_24h", List.of("Jackets", "Bags"));
        variables.put("scores", Map.of("churn", 0.25));
        variables.put("persona", "Casual Browser");
        EventTimeline history = new EventTimeline(1_000L, Map.of("product_view", new EventTimeline.Event(
                new long[0], new int[0], new long[0], new int[0], new long[] {0}, new int[] {2}, new long[] {5, 9})));
        variables.put("events", history);

        byte[] row = rows.encode(List.of("cart_abandoner", "persona_casual_browser"), variables);
        BitSet all = new BitSet();
        all.set(0, SegmentRules.types().size());
        PreviewRows.Row read = rows.decode(row, rows.encodeEvents(variables), all);

        assertThat(read.memberships()).containsExactly("cart_abandoner", "persona_casual_browser");
        assertThat(read.get("recency_days")).isEqualTo(3.5);
        assertThat(read.get("frequency_30d")).isEqualTo(12L);
        assertThat(read.get("cart_open")).isEqualTo(true);
        @SuppressWarnings("unchecked")
        Map<String, Object> counts = (Map<String, Object>) read.get("count_7d");
        assertThat(counts).containsEntry("product_view", 300L).containsEntry(NAMES.get(0), 2L)
                .containsEntry("not_in_the_taxonomy", 1L).containsEntry("order_completed", 0L)
                .hasSize(NAMES.size() + 1);
        assertThat(read.get("count_1h")).as("absent: every name at zero")
                .isEqualTo(NAMES.stream().collect(java.util.stream.Collectors.toMap(n -> n, n -> 0L)));
        assertThat(read.get("categories_24h")).isEqualTo(List.of("Jackets", "Bags"));
        assertThat(read.get("scores")).isEqualTo(Map.of("churn", 0.25));
        assertThat(read.get("persona")).isEqualTo("Casual Browser");
        assertThat(read.get("events")).isEqualTo(history);

        BitSet one = PreviewRows.indexes(java.util.Set.of("persona"));
        PreviewRows.Row some = rows.decode(row, null, one);
        assertThat(some.variables()).as("only what a condition reads is decoded").containsOnlyKeys("persona");
    }
}
