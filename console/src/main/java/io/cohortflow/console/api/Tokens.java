package io.cohortflow.console.api;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.cohortflow.core.config.ConfFiles;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * The console's API tokens, by SHA-256 (conf/console/tokens.yaml): a token is read-only or read-write. The file never
 * holds a token, so it can live in a repository or a ConfigMap.
 */
public final class Tokens {
    public enum Access {
        READ, WRITE;

        @com.fasterxml.jackson.annotation.JsonCreator
        public static Access of(String text) {
            return valueOf(text.trim().toUpperCase(java.util.Locale.ROOT));
        }
    }

    /** One token: a name for logs, its SHA-256 in hex, its access. */
    public record Token(String name, String sha256, Access access) {
        @JsonCreator
        public Token(@JsonProperty("name") String name, @JsonProperty("sha256") String sha256,
                     @JsonProperty("access") Access access) {
            if (sha256 == null || !sha256.matches("[0-9a-f]{64}")) {
                throw new IllegalArgumentException("token " + name + ": sha256 must be 64 lower-case hex digits");
            }
            this.name = name == null ? sha256.substring(0, 8) : name;
            this.sha256 = sha256;
            this.access = access == null ? Access.READ : access;
        }
    }

    public record File(List<Token> tokens) {
        @JsonCreator
        public File(@JsonProperty("tokens") List<Token> tokens) {
            this.tokens = tokens == null ? List.of() : List.copyOf(tokens);
        }
    }

    private final Map<String, Token> bySha;

    public Tokens(List<Token> tokens) {
        this.bySha = tokens.stream().collect(Collectors.toUnmodifiableMap(Token::sha256, Function.identity()));
    }

    public static Tokens load(String location) {
        return new Tokens(ConfFiles.read(location, File.class).tokens());
    }

    /** The token's entry, when the presented text is one. */
    public Optional<Token> check(String presented) {
        return presented == null || presented.isBlank() ? Optional.empty()
                : Optional.ofNullable(bySha.get(sha256(presented.trim())));
    }

    public boolean isEmpty() {
        return bySha.isEmpty();
    }

    public static String sha256(String text) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
