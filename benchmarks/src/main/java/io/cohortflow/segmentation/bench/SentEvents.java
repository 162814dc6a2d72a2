package io.cohortflow.segmentation.bench;

import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * What {@link LatencyBenchmark} records of each event it sends: four times (its append to events.raw, its unified
 * form visible, its change visible, its change's append), in arrays indexed by the event's number, and the number of
 * each (user, event time) in an open-addressing table of longs, which is how a sighting on an output finds its event.
 *
 * <p>The benchmark shares its JVM, and so its collector, with the broker and both jobs. It used to keep these times in
 * four maps from strings ({@code u-17@1764...}) to boxed longs: a run's 80,000 events made 320,000 entries that every
 * young collection copied until they were old enough to be promoted, and the wait for the changes hashed every key
 * anew every 20 ms. Its pauses were the jobs' pauses, and counted in their latency.
 *
 * <p>Times are set once (the first sighting counts: at-least-once may write an event twice) and read by the thread
 * that waits and reports. Thread-safe.
 */
final class SentEvents {
    static final int RAW_APPENDED = 0;
    static final int UNIFIED_VISIBLE = 1;
    static final int CHANGE_VISIBLE = 2;
    static final int CHANGE_APPENDED = 3;
    private static final int TIMES = 4;
    private static final int CHUNK_BITS = 16;
    private static final int CHUNK = 1 << CHUNK_BITS;
    /** Users are numbered below 2^20 and event times are epoch milliseconds below 2^43 (the year 2248). */
    private static final int TIME_BITS = 43;

    /** The events {@code [first, end)} of one {@link #reserve}. */
    record Range(int first, int end) {
        int size() {
            return end - first;
        }
    }

    private final AtomicReferenceArray<AtomicLongArray> chunks = new AtomicReferenceArray<>(1 << 12);
    private int reserved;
    private long[] keys = new long[1 << 17];
    private int[] numbers = new int[1 << 17];
    private int size;

    /** Numbers {@code count} more events and makes room for their times. */
    synchronized Range reserve(int count) {
        int first = reserved;
        reserved += count;
        for (int chunk = first >>> CHUNK_BITS; chunk <= (reserved - 1) >>> CHUNK_BITS; chunk++) {
            if (chunk >= chunks.length()) {
                throw new IllegalStateException("more than " + ((long) chunks.length() << CHUNK_BITS) + " events");
            }
            if (chunks.get(chunk) == null) {
                chunks.set(chunk, new AtomicLongArray(CHUNK * TIMES));
            }
        }
        return new Range(first, reserved);
    }

    /** Event {@code number} is user {@code user}'s at {@code time}. */
    synchronized void add(int number, int user, long time) {
        if (user < 0 || user >= 1 << (63 - TIME_BITS) || time <= 0 || time >= 1L << TIME_BITS) {
            throw new IllegalArgumentException("user " + user + " at " + time);
        }
        if (2 * (size + 1) > keys.length) {
            grow();
        }
        if (put(keys, numbers, key(user, time), number)) {
            size++;
        }
    }

    /** The number of the event of user {@code userId} ({@code u-N}) at {@code time}; -1 for one not sent here. */
    int find(String userId, long time) {
        if (userId == null || !userId.startsWith("u-")) {
            return -1;
        }
        int user;
        try {
            user = Integer.parseInt(userId, 2, userId.length(), 10);
        } catch (NumberFormatException e) {
            return -1;
        }
        return user < 1 << (63 - TIME_BITS) ? number(key(user, time)) : -1;
    }

    /** Sets time {@code which} of event {@code number}, unless it was set. */
    void record(int number, int which, long at) {
        chunks.get(number >>> CHUNK_BITS).compareAndSet(offset(number, which), 0, at);
    }

    /** Time {@code which} of event {@code number}; 0 until it is set. */
    long time(int number, int which) {
        return chunks.get(number >>> CHUNK_BITS).get(offset(number, which));
    }

    private static int offset(int number, int which) {
        return (number & (CHUNK - 1)) * TIMES + which;
    }

    private static long key(int user, long time) {
        return (long) user << TIME_BITS | time;
    }

    private synchronized int number(long key) {
        int mask = keys.length - 1;
        for (int slot = slot(key, mask); keys[slot] != 0; slot = (slot + 1) & mask) {
            if (keys[slot] == key) {
                return numbers[slot];
            }
        }
        return -1;
    }

    /** Puts {@code key} (never 0: times are positive); whether it was new. */
    private static boolean put(long[] keys, int[] numbers, long key, int number) {
        int mask = keys.length - 1;
        int slot = slot(key, mask);
        while (keys[slot] != 0 && keys[slot] != key) {
            slot = (slot + 1) & mask;
        }
        boolean added = keys[slot] == 0;
        keys[slot] = key;
        numbers[slot] = number;
        return added;
    }

    private static int slot(long key, int mask) {
        return Long.hashCode(key * 0x9E3779B97F4A7C15L) & mask;
    }

    private void grow() {
        long[] bigger = new long[keys.length * 2];
        int[] biggerNumbers = new int[keys.length * 2];
        for (int slot = 0; slot < keys.length; slot++) {
            if (keys[slot] != 0) {
                put(bigger, biggerNumbers, keys[slot], numbers[slot]);
            }
        }
        keys = bigger;
        numbers = biggerNumbers;
    }
}
