package io.cohortflow.jobs.kafka;

import io.cohortflow.jobs.options.KafkaOptions;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Checks, before a job starts, that the topics it writes accept records as large as it may write
 * ({@code --max-record-bytes}): a topic whose {@code max.message.bytes} is lower would refuse such a record only when
 * one comes, and fail the job then. Refusing to start names the topic and both numbers instead.
 */
public final class KafkaLimits {
    private KafkaLimits() {
    }

    /** Throws {@link IllegalStateException} naming every output topic that accepts less than the jobs may write. */
    public static void check(KafkaOptions kafka, Collection<String> outputTopics) {
        List<String> tooSmall = new ArrayList<>();
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()))) {
            List<ConfigResource> resources = outputTopics.stream()
                    .map(topic -> new ConfigResource(ConfigResource.Type.TOPIC, topic)).toList();
            Map<ConfigResource, Config> configs = admin.describeConfigs(resources).all().get(60, TimeUnit.SECONDS);
            configs.forEach((resource, config) -> {
                ConfigEntry entry = config.get(TopicConfig.MAX_MESSAGE_BYTES_CONFIG);
                long limit = entry == null || entry.value() == null ? Long.MAX_VALUE : Long.parseLong(entry.value());
                if (limit < kafka.maxRecordBytes()) {
                    tooSmall.add(resource.name() + " (max.message.bytes " + limit + ")");
                }
            });
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("cannot read the output topics' size limits from " + kafka.bootstrapServers()
                    + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
        if (!tooSmall.isEmpty()) {
            throw new IllegalStateException("these topics accept smaller records than --max-record-bytes "
                    + kafka.maxRecordBytes() + " lets the job write: " + tooSmall + "; raise their max.message.bytes "
                    + "or lower --max-record-bytes");
        }
    }
}
