package io.cohortflow.jobs.options;

import io.cohortflow.core.config.CommandLine;
import org.apache.flink.util.TimeUtils;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * Command-line arguments of a job, parsed strictly by {@link CommandLine}, with typed getters (durations in Flink's
 * syntax).
 */
public final class JobArgs {
    private final Map<String, String> values;

    private JobArgs(Map<String, String> values) {
        this.values = values;
    }

    /** Parses {@code args} with the strict convention of {@link CommandLine}. */
    public static JobArgs parse(String[] args, Set<String> known) {
        return new JobArgs(CommandLine.parse(args, known));
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
