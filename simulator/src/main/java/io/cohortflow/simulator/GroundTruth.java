package io.cohortflow.simulator;

import java.util.List;

/**
 * What the simulator intended for one person, written to a file for model evaluation.
 *
 * @param userId        the known id the person identifies with (also for people who never identify)
 * @param persona       their persona
 * @param anonymousIds  their devices' anonymous ids
 * @param identifiedDay the day they first identify, or -1 if never
 * @param churned       whether they stop all activity within the simulated period
 * @param churnedAt     epoch ms after which they do nothing, or -1
 */
public record GroundTruth(String userId, Persona persona, List<String> anonymousIds, int identifiedDay,
                          boolean churned, long churnedAt) {
}
