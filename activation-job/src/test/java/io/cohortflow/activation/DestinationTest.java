package io.cohortflow.activation;

import io.cohortflow.core.segment.ChangeType;
import io.cohortflow.testkit.Repository;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class DestinationTest {
    @Test
    void theShippedDestinationsLoad() {
        List<Destination> shipped = Destination.loadAll(Repository.conf().resolve("destinations"));
        assertThat(shipped).extracting(Destination::id).containsExactly("ad-platform", "crm-webhook");
        Destination ads = shipped.get(0);
        assertThat(ads.format()).isEqualTo(Destination.Format.SEGMENT);
        assertThat(ads.auth()).isEqualTo(Destination.Auth.HMAC);
        assertThat(ads.takes(DestinationClientTest.change("u1", "bundle_buyer_high_propensity", ChangeType.ENTER, 0)))
                .isTrue();
        assertThat(ads.takes(DestinationClientTest.change("u1", "frequent_visitor", ChangeType.ENTER, 0))).isFalse();
        Destination crm = shipped.get(1);
        assertThat(crm.format()).isEqualTo(Destination.Format.WEBHOOK);
        assertThat(crm.takes(DestinationClientTest.change("u1", "churn_risk_high", ChangeType.EXIT, 1))).isFalse();
    }

    @Test
    void aBadFileIsRefusedWithItsReason(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("x.yaml");
        Files.writeString(file, """
                id: x
                format: webhook
                endpoint: ftp://example.com/
                segments: ["*"]
                """);
        assertThatThrownBy(() -> Destination.load(file)).hasMessageContaining("http or https");
        Files.writeString(file, """
                id: x
                format: webhook
                endpoint: https://example.com/hook
                auth: {type: bearer}
                segments: ["*"]
                """);
        assertThatThrownBy(() -> Destination.load(file)).hasMessageContaining("needs secretEnv");
        Files.writeString(file, """
                id: x
                format: webhook
                endpoint: https://example.com/hook
                segments: ["*"]
                batch: {size: 10, lingr: 1s}
                """);
        assertThatThrownBy(() -> Destination.load(file)).hasMessageContaining("unknown batch or retry settings [lingr]");
        Files.writeString(file, """
                id: x
                format: webhook
                endpoint: https://example.com/hook
                segments: ["*"]
                timeout: 5 seconds
                """);
        assertThatThrownBy(() -> Destination.load(file)).hasMessageContaining("not a duration");
    }

    @Test
    void durationsReadAsWritten() {
        assertThat(Destination.duration("250ms", null)).isEqualTo(Duration.ofMillis(250));
        assertThat(Destination.duration("10m", null)).isEqualTo(Duration.ofMinutes(10));
        assertThat(Destination.duration(null, Duration.ofSeconds(3))).isEqualTo(Duration.ofSeconds(3));
    }
}
