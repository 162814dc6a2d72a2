package io.cohortflow.benchmarks;

import java.util.Arrays;

/**
 * When repeated runs of warming jobs stop getting faster: the benchmarks' rule for how many runs to make. A round
 * records one rate per job; it is stale when no job's rate beat that job's best before it by more than a twentieth.
 * The runs stop after {@code stale} stale rounds in a row, once {@code minRounds} rounds are run, or at {@code
 * maxRounds}. A job compiled by the JIT in steps gets faster in steps, so one round no faster need not be the end
 * (issue "Speed to lead": P1's rounds, P2's bursts). (P2's loop counted a burst of exactly 1.05 times the best as
 * faster; it is stale here, as P1's rounds always had it.)
 */
public final class Plateau {
    /** How much faster than its best a job's run must be for the round to count as faster: a twentieth. */
    static final double GAIN = 1.05;

    private final int minRounds;
    private final int maxRounds;
    private final int stale;
    private final double[] best;
    private int rounds;
    private int staleInARow;

    /**
     * @param jobs      the rates each round records
     * @param minRounds the rounds run whatever their rates
     * @param maxRounds the most rounds
     * @param stale     the stale rounds in a row that end the runs
     */
    public Plateau(int jobs, int minRounds, int maxRounds, int stale) {
        if (jobs < 1 || maxRounds < 1 || stale < 1 || minRounds > maxRounds) {
            throw new IllegalArgumentException("a plateau of " + jobs + " jobs, " + minRounds + " to " + maxRounds
                    + " rounds, ending after " + stale + " stale rounds");
        }
        this.minRounds = minRounds;
        this.maxRounds = maxRounds;
        this.stale = stale;
        this.best = new double[jobs];
    }

    /** Records a round's rates, one per job in the constructor's order; returns whether to run another round. */
    public boolean record(double... rates) {
        if (rates.length != best.length) {
            throw new IllegalArgumentException("a round records " + best.length + " rates, not " + rates.length);
        }
        if (rounds == maxRounds) {
            throw new IllegalStateException("the " + maxRounds + " rounds are run");
        }
        rounds++;
        boolean faster = false;
        for (int job = 0; job < rates.length; job++) {
            faster |= rounds == 1 || rates[job] > best[job] * GAIN;
            best[job] = Math.max(best[job], rates[job]);
        }
        staleInARow = faster ? 0 : staleInARow + 1;
        return rounds < maxRounds && (rounds < minRounds || staleInARow < stale);
    }

    /** The rounds recorded. */
    public int rounds() {
        return rounds;
    }

    /** Each job's best rate so far. */
    public double[] best() {
        return Arrays.copyOf(best, best.length);
    }
}
