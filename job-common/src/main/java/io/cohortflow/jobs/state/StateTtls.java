package io.cohortflow.jobs.state;

import org.apache.flink.api.common.state.StateTtlConfig;

import java.time.Duration;

/** The one way the jobs expire keyed state. */
public final class StateTtls {
    private StateTtls() {
    }

    /**
     * Expires an entry {@code ttl} after it was last written (processing time) and never returns an expired one.
     * Expired entries are dropped in full snapshots, incrementally on access with the heap backend, and in RocksDB's
     * compaction filter, so state shrinks on every backend without a full scan.
     */
    public static StateTtlConfig afterWrite(Duration ttl) {
        return StateTtlConfig.newBuilder(ttl)
                .updateTtlOnCreateAndWrite()
                .neverReturnExpired()
                .cleanupFullSnapshot()
                .cleanupIncrementally(10, false)
                .cleanupInRocksdbCompactFilter(1_000)
                .build();
    }
}
