package io.cohortflow.core.identity;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;

/**
 * Email addresses as keys: ingest never keys, stores or publishes an address as it came; it keys by
 * {@code email_sha256:<hex>} of the trimmed, lower-cased address (the form ad platforms match customers by).
 */
public final class EmailKeys {
    public static final String PREFIX = "email_sha256:";

    private EmailKeys() {
    }

    /** An email address as a key: normalised and hashed; any other id (null included) unchanged. */
    public static String of(String id) {
        if (id == null || id.indexOf('@') <= 0) {
            return id;
        }
        String normalised = id.trim().toLowerCase(Locale.ROOT);
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(normalised.getBytes(StandardCharsets.UTF_8));
            return PREFIX + HexFormat.of().formatHex(digest);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JVM", e);
        }
    }
}
