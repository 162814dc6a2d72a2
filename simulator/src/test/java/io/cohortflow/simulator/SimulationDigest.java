package io.cohortflow.simulator;

import java.security.MessageDigest;
import java.time.Instant;
import java.util.HexFormat;

/** Prints the SHA-256 of every delivery of a small simulation (payloads, keys, times), to compare JVMs. */
public final class SimulationDigest {
    private SimulationDigest() {
    }

    public static void main(String[] args) throws Exception {
        System.out.println(digest());
    }

    static String digest() throws Exception {
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        for (Delivery d : new Simulator(SimulatorConfig.of(7, 200, 3, Instant.parse("2026-03-02T00:00:00Z")))) {
            sha.update(d.payload());
            sha.update(String.valueOf(d.key()).getBytes(java.nio.charset.StandardCharsets.UTF_8));
            sha.update(Long.toString(d.deliveredAt()).getBytes(java.nio.charset.StandardCharsets.UTF_8));
        }
        return HexFormat.of().formatHex(sha.digest());
    }
}
