package io.cohortflow.jobs.options;

import org.apache.flink.connector.base.DeliveryGuarantee;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class JobArgsTest {
    private static final Set<String> KNOWN = Set.of("a", "flag", "wait", "topic.*");

    @Test
    void parsesBothSpellingsFlagsDurationsAndPrefixes() {
        JobArgs args = JobArgs.parse(new String[] {"--a", "1", "--wait=90s", "--flag", "--topic.raw=r"}, KNOWN);
        assertThat(args.integer("a", 0)).isEqualTo(1);
        assertThat(args.duration("wait", Duration.ZERO)).isEqualTo(Duration.ofSeconds(90));
        assertThat(args.flag("flag")).isTrue();
        assertThat(args.withPrefix("topic.")).containsExactlyEntriesOf(java.util.Map.of("raw", "r"));
        assertThat(args.string("missing", "x")).isEqualTo("x");
    }

    @Test
    void failsFastOnUnknownOptionsAndBadValues() {
        assertThatThrownBy(() -> JobArgs.parse(new String[] {"--bootstrap-server", "x"}, KNOWN))
                .hasMessageContaining("unknown option --bootstrap-server");
        assertThatThrownBy(() -> JobArgs.parse(new String[] {"positional"}, KNOWN)).hasMessageContaining("expected --key");
        assertThatThrownBy(() -> JobArgs.parse(new String[] {"--a", "one"}, KNOWN).integer("a", 0))
                .hasMessageContaining("must be an integer");
        assertThatThrownBy(() -> JobArgs.parse(new String[] {"--wait", "soon"}, KNOWN).duration("wait", Duration.ZERO))
                .hasMessageContaining("must be a duration");
        assertThatThrownBy(() -> JobArgs.parse(new String[] {}, KNOWN).required("a")).hasMessageContaining("--a");
    }

    @Test
    void kafkaOptionsApplyOverridesAndGuarantees() {
        KafkaOptions options = KafkaOptions.from(JobArgs.parse(new String[] {"--bootstrap-servers", "k:9092",
                "--topic.unified=u2", "--delivery-guarantee", "at-least-once"}, KafkaOptions.KEYS));
        assertThat(options.topic("unified")).isEqualTo("u2");
        assertThat(options.topic("raw")).isEqualTo("events.raw");
        assertThat(options.deliveryGuarantee()).isEqualTo(DeliveryGuarantee.AT_LEAST_ONCE);
        assertThat(options.transactionTimeout()).isEqualTo(Duration.ofMinutes(15));
        assertThatThrownBy(() -> KafkaOptions.from(JobArgs.parse(new String[] {"--bootstrap-servers", "k",
                "--topic.nope=x"}, KafkaOptions.KEYS))).hasMessageContaining("nope");
        assertThatThrownBy(() -> KafkaOptions.from(JobArgs.parse(new String[] {"--bootstrap-servers", "k",
                "--delivery-guarantee", "maybe"}, KafkaOptions.KEYS))).hasMessageContaining("exactly-once or at-least-once");
    }
}
