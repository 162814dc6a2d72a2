package io.cohortflow.training;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * How well the persona clusters agree with a simulation's ground truth (the simulator's JSON lines: userId, persona,
 * anonymousIds): the adjusted Rand index over the users the truth knows, by their known id or any of their devices.
 */
final class GroundTruthAgreement {
    private GroundTruthAgreement() {
    }

    static double ari(Path truthFile, List<TrainingRow> rows, PersonaTrainer.Clustering clustering) {
        Map<String, String> personaById = new HashMap<>();
        ObjectMapper json = new ObjectMapper();
        try {
            for (String line : Files.readAllLines(truthFile)) {
                if (line.isBlank()) {
                    continue;
                }
                JsonNode t = json.readTree(line);
                String persona = t.path("persona").asText();
                personaById.put(t.path("userId").asText(), persona);
                t.path("anonymousIds").forEach(id -> personaById.put(id.asText(), persona));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the ground truth " + truthFile, e);
        }
        Map<String, Integer> personaCodes = new HashMap<>();
        List<Integer> truth = new ArrayList<>();
        List<Integer> clusters = new ArrayList<>();
        for (int i = 0; i < rows.size(); i++) {
            String persona = personaById.get(rows.get(i).userId());
            if (persona != null) {
                truth.add(personaCodes.computeIfAbsent(persona, p -> personaCodes.size()));
                clusters.add(clustering.assignments()[i]);
            }
        }
        if (truth.isEmpty()) {
            throw new IllegalArgumentException("none of the users in the history is in the ground truth " + truthFile);
        }
        return PersonaTrainer.adjustedRandIndex(clusters.stream().mapToInt(Integer::intValue).toArray(),
                truth.stream().mapToInt(Integer::intValue).toArray());
    }
}
