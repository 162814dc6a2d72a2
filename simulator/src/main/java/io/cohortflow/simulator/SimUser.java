package io.cohortflow.simulator;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;

/** One simulated person: persona, devices, when they identify and when (if ever) they churn. */
final class SimUser {
    record Device(String anonymousId, String source, long clockSkewMs) {
    }

    static final long DAY_MS = 86_400_000L;

    final int index;
    final String userId;
    final String email;
    final Persona persona;
    final List<Device> devices;
    /** First day the person identifies, or -1. */
    final int identifyDay;
    /** First day with no activity at all, or -1 when they never churn. */
    final int churnDay;
    /** Day of month the subscription renews (SaaS personas). */
    final int billingDay;
    /** Devices (by anonymous id) that have identified; the SDK sends userId from then on. */
    final Set<String> identifiedDevices = new HashSet<>();
    /** With realism: the person's traits beyond their persona. */
    final Realism realism;
    /**
     * A bundle a person will come back to buy after building a look ({@link Journeys#buildLook}): when, on which
     * device, the item in the cart and the one picked from what they browsed around it. Kept by the playback (a
     * simulation can be played more than once), by person.
     */
    record PendingBundle(long at, SimUser.Device device, Catalog.Product inCart, Catalog.Product addOn) {
    }

    /** The simulated days, over which the pace drifts. */
    private final int periodDays;

    /**
     * What makes a person less than a textbook persona (all zero without realism): a second persona whose journey a
     * share of their sessions follows; a drift of their pace over the period (log-rate change from its start to its
     * end); a break of some days (vacation, a busy month) after which they come back; and, for a churner, stopping
     * at once rather than fading.
     */
    record Realism(Persona secondary, double overlap, double drift, int breakStart, int breakEnd, boolean abrupt) {
        static final Realism NONE = new Realism(null, 0, 0, -1, -1, false);
    }

    SimUser(int index, String userId, String email, Persona persona, List<Device> devices, int identifyDay,
            int churnDay, int billingDay, Realism realism, int periodDays) {
        this.index = index;
        this.userId = userId;
        this.email = email;
        this.persona = persona;
        this.devices = devices;
        this.identifyDay = identifyDay;
        this.churnDay = churnDay;
        this.billingDay = billingDay;
        this.realism = realism;
        this.periodDays = periodDays;
    }

    /**
     * @param traits the draws of realism, a stream of their own: without realism none is taken, and every other draw
     *               is what it always was
     */
    static SimUser create(int index, SimulatorConfig config, SplittableRandom rng, SplittableRandom traits) {
        Persona persona = pickPersona(rng);
        List<Device> devices = new ArrayList<>();
        int deviceCount = 1 + (rng.nextDouble() < 0.35 ? 1 : 0) + (rng.nextDouble() < 0.10 ? 1 : 0);
        for (int d = 0; d < deviceCount; d++) {
            String source = d == 0 ? "web" : (rng.nextBoolean() ? "ios" : "android");
            long skew = rng.nextDouble() < config.skewedDeviceRate()
                    ? (rng.nextBoolean() ? 1 : -1) * (60_000L + rng.nextLong(6 * 3_600_000L))
                    : 0L;
            devices.add(new Device(anonymousId(rng), source, skew));
        }
        int days = config.days();
        double identifyChance = switch (persona) {
            case BROWSER -> 0.2;
            case CART_ABANDONER -> 0.5;
            case BUNDLE_BUYER -> 0.9;
            case SAAS_POWER_USER, CHURNING, EMAIL_ENGAGED_NON_TRIALIST -> 1.0;
        };
        int identifyDay = -1;
        if (rng.nextDouble() < identifyChance) {
            boolean fromStart = persona == Persona.SAAS_POWER_USER || persona == Persona.CHURNING
                    || persona == Persona.EMAIL_ENGAGED_NON_TRIALIST;
            identifyDay = fromStart ? 0 : rng.nextInt(days);
        }
        int churnDay = -1;
        if (persona == Persona.CHURNING) {
            // Active for a while, then gone: churn lands in the second half of the period (at least day 1).
            churnDay = Math.max(1, days / 2 + rng.nextInt(Math.max(1, days - days / 2)));
        } else if (rng.nextDouble() < 0.03 && days > 1) {
            churnDay = 1 + rng.nextInt(days - 1); // some people just stop, without warning signs
        }
        String userId = String.format("u%07d", index);
        int billingDay = rng.nextInt(Math.min(days, 28));
        Realism realism = Realism.NONE;
        double level = config.realism();
        if (level > 0) {
            Persona secondary = pickPersona(traits);
            double overlap = secondary == persona ? 0 : level * 0.35 * traits.nextDouble();
            double drift = level * traits.nextGaussian(0, 0.6);
            int breakStart = -1;
            int breakEnd = -1;
            if (traits.nextDouble() < 0.25 * level && days > 10) {
                breakStart = traits.nextInt(days - 7);
                breakEnd = Math.min(days, breakStart + 7 + traits.nextInt(Math.max(1, days / 4)));
            }
            boolean abrupt = persona == Persona.CHURNING && traits.nextDouble() < 0.4 * level;
            if (churnDay < 0 && persona != Persona.CHURNING && traits.nextDouble() < 0.08 * level && days > 1) {
                churnDay = 1 + traits.nextInt(days - 1); // more people stop without any warning sign
            }
            realism = new Realism(secondary, overlap, drift, breakStart, breakEnd, abrupt);
        }
        return new SimUser(index, userId, "User" + index + "@Example.com", persona, List.copyOf(devices),
                identifyDay, churnDay, billingDay, realism, days);
    }

    /**
     * The persona whose journey a session starting at {@code start} follows: the person's own, or with realism now
     * and then their second one. Decided by a hash of the person and the time, so no draw of the session's own is
     * taken and the crisp simulation is unchanged.
     */
    Persona actingPersona(long start) {
        if (realism.overlap() <= 0) {
            return persona;
        }
        long h = (index * 0x9E3779B97F4A7C15L) ^ (start * 0xBF58476D1CE4E5B9L);
        h ^= h >>> 31;
        h *= 0x94D049BB133111EBL;
        h ^= h >>> 29;
        return (h >>> 11) * 0x1.0p-53 < realism.overlap() ? realism.secondary() : persona;
    }

    boolean activeOn(int day) {
        return churnDay < 0 || day < churnDay;
    }

    /** Mean sessions that day: churners fade out before they stop. */
    double sessionRate(int day) {
        if (!activeOn(day) || day >= realism.breakStart() && day < realism.breakEnd()) {
            return 0;
        }
        double pace = realism.drift() == 0 ? 1 : Math.exp(realism.drift() * ((double) day / periodDays - 0.5));
        if (persona == Persona.CHURNING && !realism.abrupt()) {
            double remaining = 1.0 - (double) day / churnDay;
            return persona.sessionsPerDay * Math.max(0.1, remaining) * pace;
        }
        return persona.sessionsPerDay * pace;
    }

    boolean churns() {
        return churnDay >= 0;
    }

    private static Persona pickPersona(SplittableRandom rng) {
        double r = rng.nextDouble();
        double acc = 0;
        for (Persona p : Persona.values()) {
            acc += p.weight;
            if (r < acc) {
                return p;
            }
        }
        return Persona.BROWSER;
    }

    static String anonymousId(SplittableRandom rng) {
        return "anon_" + Long.toHexString(rng.nextLong() | Long.MIN_VALUE).substring(0, 10);
    }
}
