package io.cohortflow.jobs.options;

import org.apache.flink.util.TimeUtils;

import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Command-line arguments of a job: {@code --key value} or {@code --key=value}; a {@code --flag} with no value is
 * "true". Parsing is strict: a key the job does not know fails fast with the list of known keys, so a typo in a
 * deployment manifest does not silently fall back to a default.
 */
public final class JobArgs {
    private final Map<String, String> values;

    private JobArgs(Map<String, String> values) {
        this.values = Collections.unmodifiableMap(values);
    }

    /**
     * Parses {@code args}. Keys must be in {@code known}; a key ending in {@code .*} in {@code known} admits any key
     * with that prefix (e.g. {@code topic.*}).
     */
    public static JobArgs parse(String[] args, Set<String> known) {
        Map<String, String> values = new LinkedHashMap<>();
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            if (!arg.startsWith("--") || arg.length() == 2) {
                throw new IllegalArgumentException("expected --key, got '" + arg + "'");
            }
            String key;
            String value;
            int eq = arg.indexOf('=');
            if (eq > 0) {
                key = arg.substring(2, eq);
                value = arg.substring(eq + 1);
            } else {
                key = arg.substring(2);
                boolean hasValue = i + 1 < args.length && !args[i + 1].startsWith("--");
                value = hasValue ? args[++i] : "true";
            }
            if (!isKnown(key, known)) {
                throw new IllegalArgumentException("unknown option --" + key + "; known options: " + new TreeSet<>(known));
            }
            values.put(key, value);
        }
        return new JobArgs(values);
    }

    private static boolean isKnown(String key, Set<String> known) {
        if (known.contains(key)) {
            return true;
        }
        for (String k : known) {
            if (k.endsWith(".*") && key.startsWith(k.substring(0, k.length() - 1))) {
                return true;
            }
        }
        return false;
    }

    public String string(String key, String fallback) {
        return values.getOrDefault(key, fallback);
    }

    public String required(String key) {
        String value = values.get(key);
        if (value == null || value.isBlank()) {
            throw new IllegalArgumentException("missing required option --" + key);
        }
        return value;
    }

    public int integer(String key, int fallback) {
        String value = values.get(key);
        try {
            return value == null ? fallback : Integer.parseInt(value.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--" + key + " must be an integer, got '" + value + "'");
        }
    }

    public boolean flag(String key) {
        return Boolean.parseBoolean(values.getOrDefault(key, "false"));
    }

    /** A duration such as {@code 90s}, {@code 5 min}, {@code 7d} (Flink's duration syntax). */
    public Duration duration(String key, Duration fallback) {
        String value = values.get(key);
        try {
            return value == null ? fallback : TimeUtils.parseDuration(value);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--" + key + " must be a duration like 30s or 5min, got '" + value + "'");
        }
    }

    /** All keys with a prefix, the prefix removed (e.g. {@code topic.} gives {@code raw -> events.raw}). */
    public Map<String, String> withPrefix(String prefix) {
        Map<String, String> out = new LinkedHashMap<>();
        values.forEach((k, v) -> {
            if (k.startsWith(prefix)) {
                out.put(k.substring(prefix.length()), v);
            }
        });
        return out;
    }

    public Map<String, String> asMap() {
        return values;
    }
}
