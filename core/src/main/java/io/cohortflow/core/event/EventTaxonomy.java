package io.cohortflow.core.event;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.cohortflow.core.config.ConfFiles;

import java.io.Serializable;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The tracking plan: canonical event names and the aliases sources use for them (conf/taxonomy.yaml).
 * "Product Viewed" from a web SDK and "product_viewed" from a mobile SDK both become {@code product_view}.
 */
public final class EventTaxonomy implements Serializable {
    private static final long serialVersionUID = 1L;

    /** What ingest does with a track event whose name the plan does not know. */
    public enum Unplanned {
        /** Keep it under its own name (snake case). */
        ALLOW,
        /** Keep it, and mark it {@code context.tracking_plan = "unplanned"}. */
        FLAG,
        /** Dead-letter it with reason UNPLANNED_EVENT. */
        REJECT
    }

    private final Map<String, String> canonicalByKey;
    private final Set<String> canonicalNames;
    private final Unplanned unplanned;

    public EventTaxonomy(Map<String, List<String>> events) {
        this(events, Unplanned.ALLOW);
    }

    @JsonCreator
    public EventTaxonomy(@JsonProperty("events") Map<String, List<String>> events,
                         @JsonProperty("unplanned") Unplanned unplanned) {
        this.unplanned = unplanned == null ? Unplanned.ALLOW : unplanned;
        Map<String, String> byKey = new HashMap<>();
        for (Map.Entry<String, List<String>> entry : events.entrySet()) {
            String canonical = entry.getKey();
            register(byKey, canonical, canonical);
            for (String alias : entry.getValue() == null ? List.<String>of() : entry.getValue()) {
                register(byKey, alias, canonical);
            }
        }
        this.canonicalByKey = Map.copyOf(byKey);
        this.canonicalNames = Set.copyOf(events.keySet());
    }

    public static EventTaxonomy defaults() {
        return load(ConfFiles.defaultLocation("taxonomy.yaml"));
    }

    public static EventTaxonomy load(String location) {
        return ConfFiles.read(location, EventTaxonomy.class);
    }

    /** The canonical name for a name as sent, or empty when the tracking plan does not know it. */
    public Optional<String> canonical(String sentName) {
        if (sentName == null) {
            return Optional.empty();
        }
        return Optional.ofNullable(canonicalByKey.get(key(sentName)));
    }

    public Set<String> canonicalNames() {
        return canonicalNames;
    }

    public Unplanned unplanned() {
        return unplanned;
    }

    /** The same plan with another policy for unplanned names. */
    public EventTaxonomy withUnplanned(Unplanned policy) {
        return new EventTaxonomy(this, policy);
    }

    private EventTaxonomy(EventTaxonomy base, Unplanned policy) {
        this.canonicalByKey = base.canonicalByKey;
        this.canonicalNames = base.canonicalNames;
        this.unplanned = policy;
    }

    private static void register(Map<String, String> byKey, String name, String canonical) {
        String previous = byKey.put(key(name), canonical);
        if (previous != null && !previous.equals(canonical)) {
            throw new IllegalArgumentException("taxonomy alias '" + name + "' maps to both " + previous + " and "
                    + canonical);
        }
    }

    private static String key(String name) {
        StringBuilder sb = new StringBuilder(name.length());
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c != ' ' && c != '_' && c != '-') {
                sb.append(c);
            }
        }
        return sb.toString().toLowerCase(Locale.ROOT);
    }
}
