package io.cohortflow.collector;

import io.cohortflow.core.config.ConfFiles;
import org.junit.jupiter.api.Test;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** Each sender's signature scheme, valid, tampered and stale, against the shipped webhooks file. */
class WebhooksTest {
    static final Map<String, String> SECRETS = Map.of("STRIPE_WEBHOOK_SECRET", "whsec_test",
            "HUBSPOT_CLIENT_SECRET", "hs-secret", "ZENDESK_WEBHOOK_SECRET", "zd-secret",
            "SALESFORCE_WEBHOOK_SECRET", "sf-secret");
    private static final Webhooks WEBHOOKS = Webhooks.load(ConfFiles.defaultLocation("collector/webhooks.yaml"), SECRETS::get);
    private static final Instant NOW = Instant.parse("2026-12-02T10:00:00Z");
    private static final byte[] BODY = "{\"id\":\"evt_1\",\"type\":\"charge.succeeded\"}".getBytes(StandardCharsets.UTF_8);
    private static final byte[] TAMPERED = "{\"id\":\"evt_1\",\"type\":\"charge.refunded\"}".getBytes(StandardCharsets.UTF_8);

    @Test
    void stripeSignsTheTimestampAndBody() {
        Webhooks.Source stripe = WEBHOOKS.source("stripe").orElseThrow();
        assertThat(WEBHOOKS.verify(stripe, delivery(Map.of("Stripe-Signature", stripeHeader(NOW, BODY)), BODY, NOW))).isNull();
        assertThat(WEBHOOKS.verify(stripe, delivery(Map.of("Stripe-Signature", "t=" + NOW.getEpochSecond()
                + ",v1=00ff,v1=" + stripeSignature(NOW, BODY)), BODY, NOW))).as("one of several v1").isNull();
        assertThat(WEBHOOKS.verify(stripe, delivery(Map.of("Stripe-Signature", stripeHeader(NOW, BODY)), TAMPERED, NOW)))
                .isEqualTo("the signature does not match");
        assertThat(WEBHOOKS.verify(stripe, delivery(Map.of("Stripe-Signature", stripeHeader(NOW.minusSeconds(301), BODY)),
                BODY, NOW))).startsWith("a stale signature");
        assertThat(WEBHOOKS.verify(stripe, delivery(Map.of(), BODY, NOW))).isEqualTo("no Stripe-Signature header");
    }

    @Test
    void hubspotV3SignsMethodUrlBodyAndTimestamp() {
        Webhooks.Source hubspot = WEBHOOKS.source("hubspot").orElseThrow();
        String url = "https://collector.example.com/v1/webhooks/hubspot";
        String ts = Long.toString(NOW.toEpochMilli());
        String signature = base64(hmac("hs-secret", "POST" + url + new String(BODY, StandardCharsets.UTF_8) + ts));
        Map<String, String> headers = Map.of("X-HubSpot-Signature-v3", signature, "X-HubSpot-Request-Timestamp", ts);
        assertThat(WEBHOOKS.verify(hubspot, new Webhooks.Delivery("POST", url, headers::get, BODY, NOW))).isNull();
        assertThat(WEBHOOKS.verify(hubspot, new Webhooks.Delivery("POST", url + "?x=1", headers::get, BODY, NOW)))
                .as("another URL").isEqualTo("the signature does not match");
        assertThat(WEBHOOKS.verify(hubspot, new Webhooks.Delivery("POST", url, headers::get, TAMPERED, NOW)))
                .isEqualTo("the signature does not match");
        assertThat(WEBHOOKS.verify(hubspot, new Webhooks.Delivery("POST", url, headers::get, BODY, NOW.plusSeconds(400))))
                .startsWith("a stale signature");
    }

    @Test
    void zendeskSignsTheTimestampAndBody() {
        Webhooks.Source zendesk = WEBHOOKS.source("zendesk").orElseThrow();
        String ts = NOW.toString();
        Map<String, String> headers = Map.of("X-Zendesk-Webhook-Signature",
                base64(hmac("zd-secret", ts + new String(BODY, StandardCharsets.UTF_8))),
                "X-Zendesk-Webhook-Signature-Timestamp", ts);
        assertThat(WEBHOOKS.verify(zendesk, delivery(headers, BODY, NOW))).isNull();
        assertThat(WEBHOOKS.verify(zendesk, delivery(headers, TAMPERED, NOW))).isEqualTo("the signature does not match");
        assertThat(WEBHOOKS.verify(zendesk, delivery(headers, BODY, NOW.plusSeconds(3600)))).startsWith("a stale signature");
        assertThat(WEBHOOKS.verify(zendesk, delivery(Map.of("X-Zendesk-Webhook-Signature-Timestamp", "yesterday"), BODY, NOW)))
                .contains("ISO 8601");
    }

    @Test
    void theGenericSchemeSignsTimestampDotBody() {
        Webhooks.Source salesforce = WEBHOOKS.source("salesforce").orElseThrow();
        String ts = Long.toString(NOW.getEpochSecond());
        Map<String, String> headers = Map.of("X-Signature",
                HexFormat.of().formatHex(hmac("sf-secret", ts + "." + new String(BODY, StandardCharsets.UTF_8))),
                "X-Signature-Timestamp", ts);
        assertThat(WEBHOOKS.verify(salesforce, delivery(headers, BODY, NOW))).isNull();
        assertThat(WEBHOOKS.verify(salesforce, delivery(headers, TAMPERED, NOW))).isEqualTo("the signature does not match");
        assertThat(WEBHOOKS.verify(salesforce, delivery(headers, BODY, NOW.minusSeconds(600)))).startsWith("a stale signature");
    }

    @Test
    void whatSignMakesIsWhatEachSenderSendsAndVerifyTakesIt() {
        String url = "http://127.0.0.1:8088/v1/webhooks/x";
        for (String name : new String[] {"stripe", "hubspot", "zendesk", "salesforce"}) {
            Webhooks.Source source = WEBHOOKS.source(name).orElseThrow();
            Map<String, String> headers = Webhooks.sign(source, "POST", url, BODY, NOW);
            assertThat(WEBHOOKS.verify(source, new Webhooks.Delivery("POST", url, headers::get, BODY, NOW))).as(name).isNull();
            assertThat(WEBHOOKS.verify(source, new Webhooks.Delivery("POST", url, headers::get, TAMPERED, NOW))).as(name)
                    .isEqualTo("the signature does not match");
        }
        // The same bytes as the senders' schemes computed by hand above.
        assertThat(Webhooks.sign(WEBHOOKS.source("stripe").orElseThrow(), "POST", url, BODY, NOW))
                .containsEntry("Stripe-Signature", stripeHeader(NOW, BODY));
        assertThat(Webhooks.sign(WEBHOOKS.source("zendesk").orElseThrow(), "POST", url, BODY, NOW))
                .containsEntry("X-Zendesk-Webhook-Signature", base64(hmac("zd-secret", NOW + new String(BODY, StandardCharsets.UTF_8))));
        assertThat(Webhooks.sign(WEBHOOKS.source("hubspot").orElseThrow(), "post", url, BODY, NOW))
                .containsEntry("X-HubSpot-Signature-v3", base64(hmac("hs-secret",
                        "POST" + url + new String(BODY, StandardCharsets.UTF_8) + NOW.toEpochMilli())));
    }

    @Test
    void aSourceWithoutItsSecretIsNotTakenUnsigned() {
        Webhooks partial = Webhooks.load(ConfFiles.defaultLocation("collector/webhooks.yaml"),
                Map.of("STRIPE_WEBHOOK_SECRET", "s")::get);
        assertThat(partial.source("stripe")).isPresent();
        assertThat(partial.source("zendesk")).isEmpty();
        assertThat(partial.whyNot("zendesk")).contains("ZENDESK_WEBHOOK_SECRET");
        assertThat(partial.whyNot("mailchimp")).isNull();
    }

    static String stripeHeader(Instant at, byte[] body) {
        return "t=" + at.getEpochSecond() + ",v1=" + stripeSignature(at, body);
    }

    private static String stripeSignature(Instant at, byte[] body) {
        return HexFormat.of().formatHex(hmac("whsec_test", at.getEpochSecond() + "." + new String(body, StandardCharsets.UTF_8)));
    }

    private static Webhooks.Delivery delivery(Map<String, String> headers, byte[] body, Instant now) {
        return new Webhooks.Delivery("POST", "http://localhost/v1/webhooks/x", headers::get, body, now);
    }

    static byte[] hmac(String secret, String data) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
            return mac.doFinal(data.getBytes(StandardCharsets.UTF_8));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static String base64(byte[] bytes) {
        return Base64.getEncoder().encodeToString(bytes);
    }
}
