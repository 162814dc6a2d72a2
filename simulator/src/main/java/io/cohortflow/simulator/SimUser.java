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

    SimUser(int index, String userId, String email, Persona persona, List<Device> devices, int identifyDay,
            int churnDay, int billingDay) {
        this.index = index;
        this.userId = userId;
        this.email = email;
        this.persona = persona;
        this.devices = devices;
        this.identifyDay = identifyDay;
        this.churnDay = churnDay;
        this.billingDay = billingDay;
    }

    static SimUser create(int index, SimulatorConfig config, SplittableRandom rng) {
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
        return new SimUser(index, userId, "User" + index + "@Example.com", persona, List.copyOf(devices),
                identifyDay, churnDay, rng.nextInt(Math.min(days, 28)));
    }

    boolean activeOn(int day) {
        return churnDay < 0 || day < churnDay;
    }

    /** Mean sessions that day: churners fade out before they stop. */
    double sessionRate(int day) {
        if (!activeOn(day)) {
            return 0;
        }
        if (persona == Persona.CHURNING) {
            double remaining = 1.0 - (double) day / churnDay;
            return persona.sessionsPerDay * Math.max(0.1, remaining);
        }
        return persona.sessionsPerDay;
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
