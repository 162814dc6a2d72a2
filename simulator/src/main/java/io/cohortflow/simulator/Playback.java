package io.cohortflow.simulator;

import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/** Sends a simulation's deliveries to a sink at a steady rate, reporting progress. */
public final class Playback {

    /** What was sent so far. */
    public record Progress(long sent, Map<String, Long> byKind, long simulatedTime, Duration elapsed) {
        public double ratePerSecond() {
            return elapsed.isZero() ? 0 : sent * 1000.0 / Math.max(1, elapsed.toMillis());
        }

        /** This part followed by {@code later}. */
        public Progress plus(Progress later) {
            Map<String, Long> kinds = new TreeMap<>(byKind);
            later.byKind().forEach((k, n) -> kinds.merge(k, n, Long::sum));
            return new Progress(sent + later.sent(), Map.copyOf(kinds), Math.max(simulatedTime, later.simulatedTime()),
                    elapsed.plus(later.elapsed()));
        }
    }

    private Playback() {
    }

    /** A simulation being played in parts: what is left of it, with one delivery of lookahead. */
    public static final class Cursor {
        private final java.util.Iterator<Delivery> deliveries;
        private Delivery next;

        public Cursor(Simulator simulator) {
            this.deliveries = simulator.iterator();
        }

        Delivery peek() {
            if (next == null && deliveries.hasNext()) {
                next = deliveries.next();
            }
            return next;
        }

        Delivery take() {
            Delivery d = peek();
            next = null;
            return d;
        }
    }

    /**
     * Plays every delivery into {@code sink}.
     *
     * @param eventsPerSecond target rate; 0 or less sends as fast as the sink takes them
     * @param progress        called about every {@code progressEvery} and once at the end
     * @param stop            checked between deliveries; true ends the playback early
     */
    public static Progress play(Simulator simulator, DeliverySink sink, double eventsPerSecond, Duration progressEvery,
                                Consumer<Progress> progress, BooleanSupplier stop) {
        return play(new Cursor(simulator), Long.MAX_VALUE, sink, eventsPerSecond, progressEvery, progress, stop);
    }

    /**
     * Plays the deliveries of {@code cursor} delivered before {@code until} (epoch ms of simulated time) and leaves
     * the rest for a later call: a run can stop at a simulated moment, do something (train a model), and go on.
     */
    public static Progress play(Cursor cursor, long until, DeliverySink sink, double eventsPerSecond,
                                Duration progressEvery, Consumer<Progress> progress, BooleanSupplier stop) {
        long startNanos = System.nanoTime();
        long lastReport = startNanos;
        long sent = 0;
        long simulatedTime = 0;
        Map<String, Long> byKind = new TreeMap<>();
        while (cursor.peek() != null && cursor.peek().deliveredAt() < until) {
            Delivery delivery = cursor.take();
            if (stop.getAsBoolean()) {
                break;
            }
            if (eventsPerSecond > 0) {
                // Ahead of the rate: wait. What was sent goes out meanwhile (a producer's linger is a few ms; an
                // HTTP sink posts at once), so a wait does not flush: a flush would wait for every acknowledgement
                // and cap the rate at one round trip per wait.
                long due = startNanos + (long) (sent * 1e9 / eventsPerSecond);
                long wait = due - System.nanoTime();
                if (wait > 1_000_000) {
                    sleepNanos(wait);
                }
            }
            sink.send(delivery);
            sent++;
            simulatedTime = delivery.deliveredAt();
            byKind.merge(delivery.isMalformed() ? "malformed" : delivery.kind(), 1L, Long::sum);
            long now = System.nanoTime();
            if (now - lastReport >= progressEvery.toNanos()) {
                lastReport = now;
                progress.accept(new Progress(sent, Map.copyOf(byKind), simulatedTime, Duration.ofNanos(now - startNanos)));
            }
        }
        sink.flush();
        Progress done = new Progress(sent, Map.copyOf(byKind), simulatedTime, Duration.ofNanos(System.nanoTime() - startNanos));
        progress.accept(done);
        return done;
    }

    private static void sleepNanos(long nanos) {
        try {
            Thread.sleep(nanos / 1_000_000, (int) (nanos % 1_000_000));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
