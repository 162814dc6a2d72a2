package io.cohortflow.core.codec;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.io.SerializedString;

import java.io.IOException;
import java.util.concurrent.ConcurrentHashMap;

/**
 * JSON object keys written from their quoted UTF-8, kept since the first time each was written: a profile's keys are
 * the same few hundred names (features, rule inputs, event names, traits) in every profile, and encoding them again
 * was most of the generator's text encoding in JFR (P1 end to end). At most {@link #MAX_NAMES} names are kept; any
 * other is written as it is. The bytes are the same either way.
 */
public final class JsonNames {
    /** The most names kept encoded. */
    static final int MAX_NAMES = 10_000;
    private static final ConcurrentHashMap<String, SerializedString> NAMES = new ConcurrentHashMap<>();

    private JsonNames() {
    }

    /** Writes {@code name} as the next field name of {@code out}. */
    public static void write(JsonGenerator out, String name) throws IOException {
        SerializedString quoted = NAMES.get(name);
        if (quoted == null) {
            if (NAMES.size() >= MAX_NAMES) {
                out.writeFieldName(name);
                return;
            }
            quoted = NAMES.computeIfAbsent(name, SerializedString::new);
        }
        out.writeFieldName(quoted);
    }
}
