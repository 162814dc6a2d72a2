package io.cohortflow.activation;

import io.cohortflow.core.config.TopicsConfig;
import io.cohortflow.core.feature.ProfileTraits;
import io.cohortflow.core.segment.SegmentProfile;
import io.cohortflow.core.segment.SegmentProfileCodec;
import io.cohortflow.kafka.local.LocalKafkaBroker;
import io.cohortflow.testkit.KafkaTestSupport;
import io.cohortflow.testkit.SharedKafka;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** The audience snapshot over a real compacted profiles topic: the latest profile per user decides. */
@ExtendWith(SharedKafka.class)
class AudienceSnapshotITCase {
    @Test
    void writesTheCurrentMembersWithTheirHashedContactDetails(LocalKafkaBroker broker, @TempDir Path dir)
            throws Exception {
        TopicsConfig topics = KafkaTestSupport.uniqueTopics(broker, "snapshot");
        String topic = topics.name(TopicsConfig.PROFILES);
        String jane = ProfileTraits.hashEmail("Jane.Doe@Example.com");
        String phone = ProfileTraits.hashPhone("+1 415 555 0123");
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.<String, Object>of(
                "bootstrap.servers", broker.bootstrapServers(), "acks", "all"),
                new ByteArraySerializer(), new ByteArraySerializer())) {
            send(producer, topic, profile("user_jane", 1, List.of("bundle"), Map.of("email_sha256", jane)));
            send(producer, topic, profile("user,odd", 1, List.of("bundle"), Map.of("phone_sha256", phone)));
            send(producer, topic, profile("u_left", 1, List.of("bundle"), Map.of("email_sha256", jane)));
            send(producer, topic, profile("u_left", 2, List.of(), Map.of("email_sha256", jane))); // left since
            send(producer, topic, profile("u_no_contact", 1, List.of("bundle"), Map.of()));
            send(producer, topic, profile("u_other", 1, List.of("churn_risk_high"), Map.of("email_sha256", jane)));
            producer.send(new ProducerRecord<>(topic, "u_gone".getBytes(StandardCharsets.UTF_8),
                    new SegmentProfileCodec().encode(profile("u_gone", 1, List.of("bundle"), Map.of("email_sha256", jane)))))
                    .get(30, TimeUnit.SECONDS);
            producer.send(new ProducerRecord<>(topic, "u_gone".getBytes(StandardCharsets.UTF_8), null)) // forgotten
                    .get(30, TimeUnit.SECONDS);
        }
        Path csv = dir.resolve("out/audience.csv");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int exit = AudienceSnapshot.run(new String[] {"--bootstrap-servers", broker.bootstrapServers(), "--segment",
                "bundle", "--out", csv.toString(), "--topic", topic}, new PrintStream(out, true, StandardCharsets.UTF_8),
                System.err);
        assertThat(exit).isZero();
        assertThat(Files.readAllLines(csv)).containsExactly("email,phone,extern_id",
                "," + phone + ",\"user,odd\"",
                jane + ",,user_jane");
        assertThat(out.toString(StandardCharsets.UTF_8))
                .contains("bundle: 3 members among 5 profiles; 2 rows written").contains("(1 without a hashed email or phone)");

        assertThat(AudienceSnapshot.run(new String[] {"--segment", "bundle"}, new PrintStream(out), new PrintStream(out)))
                .isEqualTo(1);
    }

    /** Sends one profile and waits for it: a fixture record that did not land fails here, not in an assertion. */
    private static void send(KafkaProducer<byte[], byte[]> producer, String topic, SegmentProfile profile)
            throws Exception {
        producer.send(new ProducerRecord<>(topic, profile.userId().getBytes(StandardCharsets.UTF_8),
                new SegmentProfileCodec().encode(profile))).get(30, TimeUnit.SECONDS);
    }

    private static SegmentProfile profile(String user, long asOf, List<String> segments, Map<String, Object> traits) {
        return new SegmentProfile(user, asOf, segments, Map.of(), Map.of(), null, "none", null, traits, Map.of());
    }
}
