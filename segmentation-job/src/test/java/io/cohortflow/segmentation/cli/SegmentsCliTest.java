package io.cohortflow.segmentation.cli;

import io.cohortflow.core.config.TopicsConfig;
import io.cohortflow.core.segment.SegmentDefinition;
import io.cohortflow.core.segment.SegmentDefinitionCodec;
import io.cohortflow.kafka.local.LocalKafkaBroker;
import io.cohortflow.testkit.KafkaTestSupport;
import io.cohortflow.testkit.Repository;
import io.cohortflow.testkit.SharedKafka;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

@ExtendWith(SharedKafka.class)
class SegmentsCliTest {

    @Test
    void validatesTheShippedFileAndRefusesABadOneWithTheReason(@TempDir Path dir) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        Path shipped = Repository.conf().resolve("segments.yaml");
        assertThat(SegmentsCli.run(new String[] {"validate", shipped.toString()}, new PrintStream(out), new PrintStream(err)))
                .isZero();
        assertThat(out.toString()).contains("ok       high_intent_footwear");

        Path bad = dir.resolve("bad.yaml");
        Files.writeString(bad, "segments:\n  - {id: ok_one, name: Ok, condition: 'frequency_30d >= 1'}\n"
                + "  - {id: broken, name: Broken, condition: 'frequency_30d >= '}\n");
        err.reset();
        assertThat(SegmentsCli.run(new String[] {"publish", bad.toString(), "--bootstrap-servers", "127.0.0.1:1"},
                new PrintStream(out), new PrintStream(err))).isEqualTo(1);
        assertThat(err.toString()).contains("INVALID  segment broken").contains("nothing published");
    }

    @Test
    void publishesDefinitionsAndDeletionsKeyedById(LocalKafkaBroker broker, @TempDir Path dir) throws Exception {
        TopicsConfig topics = KafkaTestSupport.uniqueTopics(broker, "cli");
        String topic = topics.name(TopicsConfig.DEFINITIONS);
        Path file = dir.resolve("vip.yaml");
        Files.writeString(file, "segments:\n  - {id: vip, name: VIP, condition: 'monetary_value_90d >= 500.0'}\n");
        PrintStream quiet = new PrintStream(new ByteArrayOutputStream());
        assertThat(SegmentsCli.run(new String[] {"publish", file.toString(), "--bootstrap-servers",
                broker.bootstrapServers(), "--topic", topic}, quiet, quiet)).isZero();
        assertThat(SegmentsCli.run(new String[] {"delete", "vip", "--bootstrap-servers", broker.bootstrapServers(),
                "--topic", topic}, quiet, quiet)).isZero();
        assertThat(KafkaTestSupport.readAllCommitted(broker.bootstrapServers(), topic, new SegmentDefinitionCodec()))
                .extracting(SegmentDefinition::id, SegmentDefinition::deleted)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("vip", false), org.assertj.core.groups.Tuple.tuple("vip", true));
    }
}
