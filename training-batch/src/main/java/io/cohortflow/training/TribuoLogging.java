package io.cohortflow.training;

import java.util.logging.Level;
import java.util.logging.Logger;

/** Tribuo logs every 1,000 SGD steps and every tree at INFO (java.util.logging); the trainers print their own progress. */
final class TribuoLogging {
    /** Held so that the level sticks (java.util.logging keeps loggers weakly). */
    private static final Logger TRIBUO = Logger.getLogger("org.tribuo");

    private TribuoLogging() {
    }

    static void quiet() {
        TRIBUO.setLevel(Level.WARNING);
    }
}
