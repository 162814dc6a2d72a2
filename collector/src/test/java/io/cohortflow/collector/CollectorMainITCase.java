package io.cohortflow.collector;

import io.cohortflow.core.config.TopicsConfig;
import io.cohortflow.kafka.local.LocalKafkaBroker;
import io.cohortflow.testkit.KafkaTestSupport;
import io.cohortflow.testkit.Repository;
import io.cohortflow.testkit.SharedKafka;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The README's collector commands, taken from the README: make a write key and its keys file, start the runnable jar
 * against a broker, post with curl. Only the addresses are the test's own (its broker, a free port) and the jar's
 * path is made absolute; the rest runs as written, in bash.
 */
@ExtendWith(SharedKafka.class)
class CollectorMainITCase {

    @Test
    void theReadmesCommandsStartTheJarAndCurlGetsAnAcknowledgedCall(LocalKafkaBroker broker, @TempDir Path dir)
            throws Exception {
        List<String> start = Repository.readmeBashBlock("openssl rand -hex");
        List<String> curl = Repository.readmeBashBlock("curl -s -u");
        TopicsConfig topics = KafkaTestSupport.uniqueTopics(broker, "collector-main");
        int port = LocalKafkaBroker.freePort();
        String jarDir = Repository.root().resolve("collector/target").toString() + "/";

        List<String> script = new ArrayList<>(List.of("set -e"));
        for (String line : start) {
            if (line.startsWith("mvn ")) {
                continue; // the build that made the jar is the one running this test
            }
            if (line.startsWith("java -jar")) {
                line = line.replace("collector/target/", jarDir).replace("localhost:9092", broker.bootstrapServers())
                        + " --port " + port + " --topic.raw=" + topics.name(TopicsConfig.RAW) + " > collector.log 2>&1 &";
                script.add(line);
                script.add("pid=$!");
                script.add("for i in $(seq 1 120); do grep -q 'collector listening' collector.log && break; sleep 0.5; done");
                continue;
            }
            script.add(line);
        }
        script.add(String.join("\n", curl).replace("localhost:8088", "localhost:" + port) + " > response.json");
        script.add("kill -TERM $pid");
        script.add("wait $pid || true");
        Process bash = new ProcessBuilder("bash", "-c", String.join("\n", script)).directory(dir.toFile())
                .redirectErrorStream(true).start();
        String output = new String(bash.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(bash.waitFor(120, TimeUnit.SECONDS)).isTrue();
        String log = Files.exists(dir.resolve("collector.log")) ? Files.readString(dir.resolve("collector.log")) : "";
        assertThat(bash.exitValue()).as(output + "\n--- collector.log ---\n" + log).isZero();
        assertThat(Files.readString(dir.resolve("response.json"))).isEqualTo("{\"success\":true}");
        assertThat(Files.readString(dir.resolve("write-keys.yaml"))).contains("sha256:").contains("source: web");
        assertThat(log).contains("collector listening").as("drained and stopped on SIGTERM").doesNotContain("Exception");

        List<ConsumerRecord<byte[], byte[]>> raw = KafkaTestSupport.readAllCommitted(broker.bootstrapServers(),
                topics.name(TopicsConfig.RAW));
        assertThat(raw).singleElement().satisfies(r -> {
            assertThat(new String(r.value(), StandardCharsets.UTF_8)).contains("\"messageId\":\"m-1\"", "\"type\":\"track\"");
            assertThat(new String(r.key(), StandardCharsets.UTF_8)).isEqualTo("anon_1");
        });
    }
}
