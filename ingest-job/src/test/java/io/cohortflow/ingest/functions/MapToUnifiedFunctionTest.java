package io.cohortflow.ingest.functions;

import io.cohortflow.core.event.DeadLetter;
import io.cohortflow.core.event.EventTaxonomy;
import io.cohortflow.core.event.UnifiedEvent;
import io.cohortflow.ingest.mapping.RawEvent;
import io.cohortflow.ingest.mapping.IngestMapper;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.apache.flink.streaming.util.ProcessFunctionTestHarnesses;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class MapToUnifiedFunctionTest {

    @Test
    void goodEventsGoOnAndBadOnesToTheDeadLetterOutputWithTheirBytes() throws Exception {
        MapToUnifiedFunction fn = new MapToUnifiedFunction(new IngestMapper(EventTaxonomy.defaults(),
                IngestMapper.loadMappings(null), 32 * 1024, Duration.ofHours(1), Duration.ofDays(3650)));
        try (OneInputStreamOperatorTestHarness<RawEvent, UnifiedEvent> harness = ProcessFunctionTestHarnesses.forProcessFunction(fn)) {
            harness.processElement(raw("{\"type\":\"track\",\"event\":\"Product Viewed\",\"messageId\":\"m1\",\"anonymousId\":\"a\"}"
                    .getBytes(StandardCharsets.UTF_8)), 0);
            harness.processElement(raw("{\"type\":\"track\"".getBytes(StandardCharsets.UTF_8)), 0);
            byte[] binary = {(byte) 0xff, (byte) 0xfe, 0x00, 0x41};
            harness.processElement(raw(binary), 0);

            assertThat(harness.extractOutputValues()).extracting(UnifiedEvent::event).containsExactly("product_view");
            List<DeadLetter> dead = harness.getSideOutput(MapToUnifiedFunction.DEAD_LETTERS).stream()
                    .map(r -> r.getValue()).toList();
            assertThat(dead).extracting(DeadLetter::reason).containsExactly("INVALID_JSON", "NOT_UTF8");
            assertThat(dead.get(0).payload()).isEqualTo("{\"type\":\"track\"");
            assertThat(dead.get(0).payloadBase64()).isFalse();
            assertThat(dead.get(1).payloadBase64()).isTrue();
            assertThat(Base64.getDecoder().decode(dead.get(1).payload())).isEqualTo(binary);
            assertThat(dead).extracting(DeadLetter::source).containsOnly("web");
        }
    }

    private static RawEvent raw(byte[] bytes) {
        return new RawEvent(bytes, "web", 1_000L);
    }
}
