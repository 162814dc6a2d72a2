package io.cohortflow.core.config;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The command-line convention of every cohortflow program: {@code --key value} or {@code --key=value}; a
 * {@code --flag} with no value is "true". Parsing is strict: a key the program does not know fails with the list of
 * known keys, so a typo in a script or manifest never falls back to a default silently. A known key ending in
 * {@code .*} admits any key with that prefix (e.g. {@code topic.*}).
 */
public final class CommandLine {
    private CommandLine() {
    }

    public static Map<String, String> parse(String[] args, Set<String> known) {
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
        return Collections.unmodifiableMap(values);
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
}
