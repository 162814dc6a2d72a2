package io.cohortflow.training;

import io.cohortflow.core.config.ConfFiles;
import io.cohortflow.registry.ModelBundle;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Names persona clusters from their centroids (conf/personas.yaml), in the vocabulary of one business type.
 *
 * <p>A cluster's profile is its centroid in standard deviations from the population mean. A named persona lists the
 * features it is high in and low in; it fits a cluster when every one of them is at least {@code threshold}
 * deviations in that direction, and when every feature it lists under {@code none} is below {@link #NONE} in the
 * centroid's own units; the better fit is the larger mean deviation. Names are handed out best fit first, each at
 * most once. A cluster no persona fits is described by its two most distinctive features, with the words of
 * {@code descriptors} and the vocabulary's noun ("Lapsed, Support-Heavy Users"). A word that says nobody does
 * something ({@code none}: "Non-Buying") is only used where the centroid is below {@link #NONE}: a name never
 * contradicts the centroid. Features a run did not use (constant in its rows) are not in the profile, so no name is
 * chosen from them.
 *
 * @param business    the vocabulary's business type
 * @param noun        what a described cluster is made of ("Customers")
 * @param personas    the vocabulary of names
 * @param descriptors feature -> {high: word, low: word, none: word}, for clusters the vocabulary does not fit
 * @param threshold   how many standard deviations make "high" or "low"
 */
public record PersonaNames(String business, String noun, List<Named> personas,
                           Map<String, Map<String, String>> descriptors, double threshold) {
    /**
     * Below this, in the feature's own units (orders, sessions, pounds), a cluster "does not" do something: less
     * than half an order on average.
     */
    public static final double NONE = 0.5;

    /** A name and the profile it stands for. */
    public record Named(String name, List<String> high, List<String> low, List<String> none) {
        public Named {
            Objects.requireNonNull(name, "name");
            high = high == null ? List.of() : List.copyOf(high);
            low = low == null ? List.of() : List.copyOf(low);
            none = none == null ? List.of() : List.copyOf(none);
        }

        /** The mean deviation in the listed directions, or NaN when the cluster does not fit. */
        double fit(ModelBundle.Persona cluster, double threshold) {
            Map<String, Double> z = cluster.zScores();
            double sum = 0;
            for (String f : high) {
                Double v = z.get(f);
                if (v == null || v < threshold) {
                    return Double.NaN;
                }
                sum += v;
            }
            for (String f : low) {
                Double v = z.get(f);
                if (v == null || -v < threshold) {
                    return Double.NaN;
                }
                sum -= v;
            }
            for (String f : none) {
                Double v = cluster.centroid().get(f);
                if (v == null || v >= NONE) {
                    return Double.NaN;
                }
            }
            return sum / Math.max(1, high.size() + low.size());
        }
    }

    /** One business type's words. */
    public record Vocabulary(String noun, List<Named> personas) {
    }

    /** conf/personas.yaml: the vocabularies, the default one, the shared descriptors and the threshold. */
    public record File(double threshold, String business, Map<String, Map<String, String>> descriptors,
                       Map<String, Vocabulary> vocabularies) {
    }

    public PersonaNames {
        personas = List.copyOf(personas);
        descriptors = Map.copyOf(descriptors);
    }

    /** The shipped file's default vocabulary. */
    public static PersonaNames defaults() {
        return load(ConfFiles.defaultLocation("personas.yaml"), null);
    }

    /** The vocabulary of {@code business} (null: the file's default) from a personas file. */
    public static PersonaNames load(String location, String business) {
        File file = ConfFiles.read(location, File.class);
        String type = business == null ? file.business() : business;
        Vocabulary vocabulary = file.vocabularies().get(type);
        if (vocabulary == null) {
            throw new IllegalArgumentException("no vocabulary for the business type '" + type + "' in " + location
                    + "; it has " + new java.util.TreeSet<>(file.vocabularies().keySet()));
        }
        return new PersonaNames(type, vocabulary.noun() == null ? "Users" : vocabulary.noun(), vocabulary.personas(),
                file.descriptors() == null ? Map.of() : file.descriptors(), file.threshold());
    }

    /** The same profiles, each with a name; names are unique. */
    public List<ModelBundle.Persona> name(List<ModelBundle.Persona> profiles) {
        record Candidate(ModelBundle.Persona cluster, Named persona, double fit) {
        }
        List<Candidate> candidates = new ArrayList<>();
        for (ModelBundle.Persona cluster : profiles) {
            for (Named persona : personas) {
                double fit = persona.fit(cluster, threshold);
                if (!Double.isNaN(fit)) {
                    candidates.add(new Candidate(cluster, persona, fit));
                }
            }
        }
        candidates.sort(Comparator.comparingDouble(Candidate::fit).reversed()
                .thenComparingInt(c -> c.cluster().cluster()));
        Map<Integer, String> names = new LinkedHashMap<>();
        Set<String> used = new HashSet<>();
        for (Candidate c : candidates) {
            if (!names.containsKey(c.cluster().cluster()) && used.add(c.persona().name())) {
                names.put(c.cluster().cluster(), c.persona().name());
            }
        }
        List<ModelBundle.Persona> named = new ArrayList<>();
        for (ModelBundle.Persona cluster : profiles) {
            String name = names.get(cluster.cluster());
            if (name == null) {
                name = describe(cluster);
                if (!used.add(name)) {
                    name = name + " (cluster " + cluster.cluster() + ")";
                    used.add(name);
                }
            }
            named.add(new ModelBundle.Persona(cluster.cluster(), name, cluster.size(), cluster.centroid(),
                    cluster.zScores()));
        }
        return named;
    }

    /** "Word, Word Noun" from the two features furthest from the mean, in words that agree with the centroid. */
    String describe(ModelBundle.Persona cluster) {
        List<String> words = cluster.zScores().entrySet().stream()
                .filter(e -> descriptors.containsKey(e.getKey()))
                .sorted(Comparator.comparingDouble((Map.Entry<String, Double> e) -> -Math.abs(e.getValue())))
                .map(e -> word(e.getKey(), e.getValue(), cluster.centroid().get(e.getKey())))
                .filter(Objects::nonNull)
                .distinct()
                .limit(2)
                .toList();
        return words.isEmpty() ? "Typical " + noun : String.join(", ", words) + " " + noun;
    }

    /**
     * The word for a feature's deviation; where the centroid is below {@link #NONE} and the feature has a {@code none}
     * word, that word whatever the deviation (half an order on average is above the mean where most never buy, but
     * is not "Repeat-Buying").
     */
    private String word(String feature, double z, Double centroid) {
        Map<String, String> d = descriptors.get(feature);
        if (centroid != null && centroid < NONE && d.containsKey("none")) {
            return d.get("none");
        }
        return d.get(z >= 0 ? "high" : "low");
    }
}
