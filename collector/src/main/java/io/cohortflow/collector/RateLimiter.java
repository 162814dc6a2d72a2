package io.cohortflow.collector;

import java.util.concurrent.ConcurrentHashMap;

/**
 * Calls per second per write key: a token bucket per key, refilled continuously, holding at most one second's worth
 * (the burst). A request takes as many tokens as it carries calls; one that finds too few is refused whole, with
 * the seconds until there will be enough. A request larger than the burst passes when the bucket is full and leaves
 * it in debt, so a big batch is slowed, never refused for ever.
 */
final class RateLimiter {
    private final double perSecond;
    private final ConcurrentHashMap<String, Bucket> buckets = new ConcurrentHashMap<>();

    RateLimiter(double perSecond) {
        this.perSecond = perSecond;
    }

    /** 0 when {@code calls} may go now (and they are counted), else the whole seconds to wait. */
    long acquire(String key, int calls, long nowNanos) {
        if (perSecond <= 0) {
            return 0;
        }
        Bucket bucket = buckets.computeIfAbsent(key, k -> new Bucket(perSecond, nowNanos));
        synchronized (bucket) {
            bucket.refill(perSecond, nowNanos);
            if (bucket.tokens >= Math.min(calls, perSecond)) {
                bucket.tokens -= calls;
                return 0;
            }
            double missing = Math.min(calls, perSecond) - bucket.tokens;
            return Math.max(1, (long) Math.ceil(missing / perSecond));
        }
    }

    private static final class Bucket {
        double tokens;
        long at;

        Bucket(double tokens, long at) {
            this.tokens = tokens;
            this.at = at;
        }

        void refill(double perSecond, long now) {
            tokens = Math.min(perSecond, tokens + (now - at) / 1e9 * perSecond);
            at = now;
        }
    }
}
