package io.cohortflow.ingest.mapping;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.cohortflow.core.event.RejectReason;

import java.io.Serializable;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/** Bytes to a JSON object, or the reason they are not one: size cap, UTF-8, JSON syntax, object root. */
final class PayloadParser implements Serializable {
    private static final long serialVersionUID = 1L;
    static final ObjectMapper JSON = JsonMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    /** Either the parsed object or why not. */
    record Parsed(JsonNode json, MappingOutcome.Rejected rejected) {
    }

    private final int maxBytes;

    PayloadParser(int maxBytes) {
        this.maxBytes = maxBytes;
    }

    Parsed parse(byte[] bytes) {
        if (bytes.length > maxBytes) {
            return fail(RejectReason.OVERSIZED, bytes.length + " bytes, over the cap of " + maxBytes);
        }
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            return fail(RejectReason.NOT_UTF8, "payload is not valid UTF-8: " + e.getMessage());
        }
        JsonNode root;
        try {
            root = JSON.readTree(text);
        } catch (JsonProcessingException e) {
            return fail(RejectReason.INVALID_JSON, firstLine(e.getOriginalMessage()));
        }
        if (root == null || !root.isObject()) {
            return fail(RejectReason.NOT_AN_OBJECT, "expected a JSON object, got "
                    + (root == null || root.isMissingNode() ? "nothing" : root.getNodeType().name().toLowerCase(Locale.ROOT)));
        }
        return new Parsed(root, null);
    }

    private static Parsed fail(RejectReason reason, String detail) {
        return new Parsed(null, new MappingOutcome.Rejected(reason, detail, null));
    }

    private static String firstLine(String message) {
        int newline = message == null ? -1 : message.indexOf('\n');
        return newline < 0 ? String.valueOf(message) : message.substring(0, newline);
    }
}
