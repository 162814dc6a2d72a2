package io.cohortflow.registry;

import io.cohortflow.core.model.ModelManifest;

import java.util.Optional;

/**
 * What a candidate must reach to be promoted: {@code metric} at least {@code floor}, and no worse than the current
 * version's by more than {@code maxRegression}. {@link #NONE} admits everything (a first model, or a forced one).
 */
public record Gate(String metric, double floor, double maxRegression) {
    public static final Gate NONE = new Gate(null, Double.NEGATIVE_INFINITY, Double.POSITIVE_INFINITY);

    /** Why the candidate may not be promoted, or empty when it may. */
    public Optional<String> refusal(ModelManifest candidate, Optional<ModelManifest> current) {
        if (metric == null) {
            return Optional.empty();
        }
        Double value = candidate.metrics().get(metric);
        if (value == null) {
            return Optional.of(candidate.name() + " v" + candidate.version() + " has no metric '" + metric + "'");
        }
        if (value < floor) {
            return Optional.of(String.format("%s v%d: %s %.4f is below the floor %.4f", candidate.name(),
                    candidate.version(), metric, value, floor));
        }
        if (current.isPresent()) {
            Double now = current.get().metrics().get(metric);
            if (now != null && value < now - maxRegression) {
                return Optional.of(String.format("%s v%d: %s %.4f is worse than the current v%d's %.4f by more than %.4f",
                        candidate.name(), candidate.version(), metric, value, current.get().version(), now, maxRegression));
            }
        }
        return Optional.empty();
    }
}
