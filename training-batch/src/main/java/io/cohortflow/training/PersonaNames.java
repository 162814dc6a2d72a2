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
 * Names persona clusters from their centroids (conf/personas.yaml).
 *
 * <p>A cluster's profile is its centroid in standard deviations from the population mean. A named persona lists the
 * features it is high in and low in; it fits a cluster when every one of them is at least {@code threshold}
 * deviations in that direction, and the better fit is the larger mean deviation. Names are handed out best fit first,
 * each at most once. A cluster no persona fits is described by its two most distinctive features, with the words of
 * {@code descriptors} ("Lapsed, Support-Heavy Users").
 *
 * @param personas    the vocabulary of names
 * @param descriptors feature -> {high: word, low: word}, for clusters the vocabulary does not fit
 * @param threshold   how many standard deviations make "high" or "low"
 */
public record PersonaNames(List<Named> personas, Map<String, Map<String, String>> descriptors, double threshold) {

    /** A name and the profile it stands for. */
    public record Named(String name, List<String> high, List<String> low) {
        public Named {
            Objects.requireNonNull(name, "name");
            high = high == null ? List.of() : List.copyOf(high);
            low = low == null ? List.of() : List.copyOf(low);
        }

        /** The mean deviation in the listed directions, or NaN when one of them is below the threshold. */
        double fit(Map<String, Double> z, double threshold) {
            double sum = 0;
            for (String f : high) {
                double v = z.getOrDefault(f, 0.0);
                if (v < threshold) {
                    return Double.NaN;
                }
                sum += v;
            }
            for (String f : low) {
                double v = -z.getOrDefault(f, 0.0);
                if (v < threshold) {
                    return Double.NaN;
                }
                sum += v;
            }
            return sum / Math.max(1, high.size() + low.size());
        }
    }

    public PersonaNames {
        personas = List.copyOf(personas);
        descriptors = Map.copyOf(descriptors);
    }

    public static PersonaNames defaults() {
        return ConfFiles.read(ConfFiles.defaultLocation("personas.yaml"), PersonaNames.class);
    }

    public static PersonaNames load(String location) {
        return ConfFiles.read(location, PersonaNames.class);
    }

    /** The same profiles, each with a name; names are unique. */
    public List<ModelBundle.Persona> name(List<ModelBundle.Persona> profiles) {
        record Candidate(ModelBundle.Persona cluster, Named persona, double fit) {
        }
        List<Candidate> candidates = new ArrayList<>();
        for (ModelBundle.Persona cluster : profiles) {
            for (Named persona : personas) {
                double fit = persona.fit(cluster.zScores(), threshold);
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
                name = describe(cluster.zScores());
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

    /** "Word, Word Users" from the two features furthest from the mean. */
    String describe(Map<String, Double> z) {
        List<String> words = z.entrySet().stream()
                .filter(e -> descriptors.containsKey(e.getKey()))
                .sorted(Comparator.comparingDouble((Map.Entry<String, Double> e) -> -Math.abs(e.getValue())))
                .limit(2)
                .map(e -> descriptors.get(e.getKey()).get(e.getValue() >= 0 ? "high" : "low"))
                .filter(Objects::nonNull)
                .toList();
        return words.isEmpty() ? "Typical Users" : String.join(", ", words) + " Users";
    }
}
