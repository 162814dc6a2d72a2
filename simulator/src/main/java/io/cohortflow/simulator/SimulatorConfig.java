package io.cohortflow.simulator;

import java.time.Instant;
import java.util.Objects;

/**
 * What to simulate.
 *
 * @param seed           fixes every random choice: the same config gives the same bytes
 * @param users          number of people
 * @param days           simulated days
 * @param start          start of day 0 (UTC)
 * @param duplicateRate  share of events delivered twice with the same messageId
 * @param lateRate       share of events delivered minutes late (offline mobile batches), out of order
 * @param malformedRate  share of extra deliveries that are malformed payloads of various kinds
 * @param skewedDeviceRate share of devices whose clock is off (timestamp and sentAt shifted alike)
 * @param seedStory      whether to play the seed's anon_123xyz journey
 * @param storyDay       the day of her visit (0 = the first); she signs up that evening. Placed at the end of weeks
 *                       of history, a nightly training right after it sees the whole population's past
 * @param realism        0 (the default): every person acts out one persona, crisply; up to 1: people mix in a second
 *                       persona's sessions, their pace drifts over the period, some take breaks and come back, some
 *                       stop with no warning, and some churners stop at once instead of fading ({@link SimUser}).
 *                       The ground truth stays the drawn persona and churn: a person whose second persona signs up
 *                       may identify before their recorded day, and a break may last to the end of the period
 *                       without counting as churn (as a model sees it, it looks like one)
 */
public record SimulatorConfig(long seed, int users, int days, Instant start, double duplicateRate, double lateRate,
                              double malformedRate, double skewedDeviceRate, boolean seedStory, int storyDay,
                              double realism) {
    public SimulatorConfig {
        Objects.requireNonNull(start, "start");
        if (users < 0 || days < 1) {
            throw new IllegalArgumentException("need users >= 0 and days >= 1");
        }
        for (double rate : new double[] {duplicateRate, lateRate, malformedRate, skewedDeviceRate, realism}) {
            if (!(rate >= 0 && rate <= 1)) { // NaN too
                throw new IllegalArgumentException("rates and realism are shares in [0, 1]");
            }
        }
        if (storyDay < 0 || storyDay >= days) {
            throw new IllegalArgumentException("the story's day must be one of the simulated days (0 to " + (days - 1)
                    + "), not " + storyDay);
        }
    }

    /** Defaults: 1% duplicates, 2% late, 0.5% malformed, 5% skewed devices, the seed story on. */
    public static SimulatorConfig of(long seed, int users, int days, Instant start) {
        return new SimulatorConfig(seed, users, days, start, 0.01, 0.02, 0.005, 0.05, true, 0, 0);
    }

    public SimulatorConfig withRates(double duplicates, double late, double malformed) {
        return new SimulatorConfig(seed, users, days, start, duplicates, late, malformed, skewedDeviceRate, seedStory,
                storyDay, realism);
    }

    public SimulatorConfig withSeedStory(boolean on) {
        return new SimulatorConfig(seed, users, days, start, duplicateRate, lateRate, malformedRate, skewedDeviceRate, on,
                storyDay, realism);
    }

    /** The seed story, with her visit on {@code day}. */
    public SimulatorConfig withSeedStoryOn(int day) {
        return new SimulatorConfig(seed, users, days, start, duplicateRate, lateRate, malformedRate, skewedDeviceRate,
                true, day, realism);
    }

    /** The same with {@code level} of realism (0 to 1): see {@link #realism()}. */
    public SimulatorConfig withRealism(double level) {
        return new SimulatorConfig(seed, users, days, start, duplicateRate, lateRate, malformedRate, skewedDeviceRate,
                seedStory, storyDay, level);
    }
}
