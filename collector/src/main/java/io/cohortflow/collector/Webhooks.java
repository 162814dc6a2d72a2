package io.cohortflow.collector;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.cohortflow.core.config.ConfFiles;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * Webhook senders and how each signs its deliveries (conf/collector/webhooks.yaml): the collector takes a delivery
 * to {@code POST /v1/webhooks/<source>} only when its signature, made with the source's secret, is right and fresh.
 * Digests are compared in constant time.
 */
public final class Webhooks {
    /** How a sender signs. */
    public enum Scheme {
        STRIPE, HUBSPOT_V3, ZENDESK, HMAC_SHA256;

        static Scheme of(String name) {
            return switch (name) {
                case "stripe" -> STRIPE;
                case "hubspot-v3" -> HUBSPOT_V3;
                case "zendesk" -> ZENDESK;
                case "hmac-sha256" -> HMAC_SHA256;
                default -> throw new IllegalArgumentException("unknown webhook scheme " + name
                        + " (stripe, hubspot-v3, zendesk, hmac-sha256)");
            };
        }
    }

    /** A source that may post, with its secret. */
    public record Source(String name, Scheme scheme, byte[] secret) {
    }

    /** One delivery, as received. {@code url} is the URL the sender called (HubSpot signs it). */
    public record Delivery(String method, String url, Function<String, String> headers, byte[] body, Instant now) {
    }

    record File(Duration tolerance, Map<String, Line> sources) {
        @JsonCreator
        File(@JsonProperty("tolerance") String tolerance, @JsonProperty("sources") Map<String, Line> sources) {
            this(tolerance == null ? Duration.ofMinutes(5) : CollectorOptions.duration(tolerance),
                    sources == null ? Map.of() : sources);
        }
    }

    record Line(String scheme, String secretEnv) {
        @JsonCreator
        Line(@JsonProperty("scheme") String scheme, @JsonProperty("secretEnv") String secretEnv) {
            this.scheme = scheme;
            this.secretEnv = secretEnv;
        }
    }

    private final Map<String, Source> sources;
    private final Map<String, String> unconfigured;
    private final Duration tolerance;

    private Webhooks(Map<String, Source> sources, Map<String, String> unconfigured, Duration tolerance) {
        this.sources = Map.copyOf(sources);
        this.unconfigured = Map.copyOf(unconfigured);
        this.tolerance = tolerance;
    }

    /** No webhook sources at all. */
    public static Webhooks none() {
        return new Webhooks(Map.of(), Map.of(), Duration.ofMinutes(5));
    }

    /**
     * The sources of a webhooks file whose secret {@code secrets} knows (by the variable named in the file; the main
     * passes {@code System::getenv}) and that have a mapping in conf/sources/.
     */
    public static Webhooks load(String location, Function<String, String> secrets) {
        File file = ConfFiles.read(location, File.class);
        Map<String, Source> sources = new LinkedHashMap<>();
        Map<String, String> unconfigured = new LinkedHashMap<>();
        file.sources().forEach((name, line) -> {
            Scheme scheme = Scheme.of(line.scheme());
            String secret = line.secretEnv() == null ? null : secrets.apply(line.secretEnv());
            if (Webhooks.class.getClassLoader().getResource("conf/sources/" + name + ".yaml") == null) {
                unconfigured.put(name, "no mapping in conf/sources/ for " + name);
            } else if (secret == null || secret.isEmpty()) {
                unconfigured.put(name, "no secret for " + name + " (set " + line.secretEnv() + ")");
            } else {
                sources.put(name, new Source(name, scheme, secret.getBytes(StandardCharsets.UTF_8)));
            }
        });
        return new Webhooks(sources, unconfigured, file.tolerance());
    }

    /** The source, if it may post. */
    public Optional<Source> source(String name) {
        return Optional.ofNullable(sources.get(name));
    }

    /** Why a source may not post (not configured), or null when it is unknown altogether. */
    public String whyNot(String name) {
        return unconfigured.get(name);
    }

    public int size() {
        return sources.size();
    }

    /** Null when the delivery is signed right and fresh, else why not (for the 401's body and the metric). */
    public String verify(Source source, Delivery delivery) {
        Function<String, String> header = delivery.headers();
        return switch (source.scheme()) {
            case STRIPE -> stripe(source, header.apply("Stripe-Signature"), delivery);
            case HUBSPOT_V3 -> {
                String timestamp = header.apply("X-HubSpot-Request-Timestamp");
                String stale = staleMillis(timestamp, delivery.now());
                if (stale != null) {
                    yield stale;
                }
                yield matches(signature(source, delivery.method(), delivery.url(), delivery.body(), timestamp),
                        header.apply("X-HubSpot-Signature-v3"));
            }
            case ZENDESK -> {
                String timestamp = header.apply("X-Zendesk-Webhook-Signature-Timestamp");
                String stale;
                try {
                    stale = timestamp == null ? "no signature timestamp"
                            : stale(Instant.parse(timestamp).getEpochSecond(), delivery.now());
                } catch (DateTimeParseException e) {
                    stale = "a signature timestamp that is not ISO 8601";
                }
                if (stale != null) {
                    yield stale;
                }
                yield matches(signature(source, delivery.method(), delivery.url(), delivery.body(), timestamp),
                        header.apply("X-Zendesk-Webhook-Signature"));
            }
            case HMAC_SHA256 -> {
                String timestamp = header.apply("X-Signature-Timestamp");
                String stale = staleSeconds(timestamp, delivery.now());
                if (stale != null) {
                    yield stale;
                }
                yield matches(signature(source, delivery.method(), delivery.url(), delivery.body(), timestamp),
                        header.apply("X-Signature"));
            }
        };
    }

    /**
     * The headers the source's sender puts on a delivery of {@code body} to {@code url} at {@code at}: what
     * {@link #verify} takes. For whoever plays a sender (the local run's simulated SaaS sources).
     */
    public static Map<String, String> sign(Source source, String method, String url, byte[] body, Instant at) {
        return switch (source.scheme()) {
            case STRIPE -> {
                String timestamp = Long.toString(at.getEpochSecond());
                yield Map.of("Stripe-Signature", "t=" + timestamp + ",v1=" + signature(source, method, url, body, timestamp));
            }
            case HUBSPOT_V3 -> {
                String timestamp = Long.toString(at.toEpochMilli());
                yield Map.of("X-HubSpot-Request-Timestamp", timestamp, "X-HubSpot-Signature-v3",
                        signature(source, method, url, body, timestamp));
            }
            case ZENDESK -> {
                String timestamp = Instant.ofEpochSecond(at.getEpochSecond()).toString();
                yield Map.of("X-Zendesk-Webhook-Signature-Timestamp", timestamp,
                        "X-Zendesk-Webhook-Signature", signature(source, method, url, body, timestamp));
            }
            case HMAC_SHA256 -> {
                String timestamp = Long.toString(at.getEpochSecond());
                yield Map.of("X-Signature-Timestamp", timestamp,
                        "X-Signature", signature(source, method, url, body, timestamp));
            }
        };
    }

    /** The scheme's signature of a delivery at {@code timestamp} (as its header writes it): what sign and verify share. */
    private static String signature(Source source, String method, String url, byte[] body, String timestamp) {
        return switch (source.scheme()) {
            case STRIPE, HMAC_SHA256 -> HexFormat.of().formatHex(hmac(source, concat(timestamp + ".", body, "")));
            case HUBSPOT_V3 -> base64(hmac(source, concat(method.toUpperCase(Locale.ROOT) + url, body, timestamp)));
            case ZENDESK -> base64(hmac(source, concat(timestamp, body, "")));
        };
    }

    private String stripe(Source source, String signature, Delivery delivery) {
        if (signature == null) {
            return "no Stripe-Signature header";
        }
        String timestamp = null;
        java.util.List<String> candidates = new java.util.ArrayList<>();
        for (String part : signature.split(",")) {
            String[] kv = part.trim().split("=", 2);
            if (kv.length == 2 && kv[0].equals("t")) {
                timestamp = kv[1];
            } else if (kv.length == 2 && kv[0].equals("v1")) {
                candidates.add(kv[1]);
            }
        }
        String stale = staleSeconds(timestamp, delivery.now());
        if (stale != null) {
            return stale;
        }
        String expected = signature(source, delivery.method(), delivery.url(), delivery.body(), timestamp);
        boolean any = false;
        for (String candidate : candidates) { // Stripe sends one v1 per active secret
            any |= matches(expected, candidate) == null;
        }
        return any ? null : "the signature does not match";
    }

    private String staleSeconds(String timestamp, Instant now) {
        try {
            return timestamp == null ? "no signature timestamp" : stale(Long.parseLong(timestamp.trim()), now);
        } catch (NumberFormatException e) {
            return "a signature timestamp that is not a number";
        }
    }

    private String staleMillis(String timestamp, Instant now) {
        try {
            return timestamp == null ? "no signature timestamp" : stale(Long.parseLong(timestamp.trim()) / 1000, now);
        } catch (NumberFormatException e) {
            return "a signature timestamp that is not a number";
        }
    }

    private String stale(long epochSecond, Instant now) {
        return Math.abs(now.getEpochSecond() - epochSecond) > tolerance.toSeconds()
                ? "a stale signature (more than " + tolerance.toSeconds() + " s from now)" : null;
    }

    private static String matches(String expected, String presented) {
        if (presented == null) {
            return "no signature header";
        }
        return MessageDigest.isEqual(expected.getBytes(StandardCharsets.UTF_8), presented.trim().getBytes(StandardCharsets.UTF_8))
                ? null : "the signature does not match";
    }

    private static byte[] hmac(Source source, byte[] data) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(source.secret(), "HmacSHA256"));
            return mac.doFinal(data);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String base64(byte[] bytes) {
        return Base64.getEncoder().encodeToString(bytes);
    }

    private static byte[] concat(String before, byte[] body, String after) {
        byte[] head = before == null ? new byte[0] : before.getBytes(StandardCharsets.UTF_8);
        byte[] tail = after == null ? new byte[0] : after.getBytes(StandardCharsets.UTF_8);
        byte[] all = new byte[head.length + body.length + tail.length];
        System.arraycopy(head, 0, all, 0, head.length);
        System.arraycopy(body, 0, all, head.length, body.length);
        System.arraycopy(tail, 0, all, head.length + body.length, tail.length);
        return all;
    }
}
