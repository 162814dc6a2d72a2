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

    /**
     * {@link #afterWrite} without the incremental cleanup, for state whose function reads its entries back itself (a
     * read of an expired entry drops it): identity stitching's links, read by a timer of their own once their time has
     * passed, and dedupe's messages as the versions before kept them, moved out when their key comes back. Flink's
     * incremental cleanup runs at every read and write of the state and looks for entries to check across the key
     * groups: on state that only some keys have, most of the walk finds nothing (stitching's device links, read at
     * every device's event: 37% of that task's time in JFR, P5; dedupe's old messages, empty: 29% of its task, P2).
     * Entries that nothing reads back still leave in full snapshots and RocksDB's compactions.
     */
    public static StateTtlConfig afterWriteWithoutIncrementalCleanup(Duration ttl) {
        return StateTtlConfig.newBuilder(ttl)
                .updateTtlOnCreateAndWrite()
                .neverReturnExpired()
                .disableCleanupInBackground()
                .cleanupFullSnapshot()
                .cleanupInRocksdbCompactFilter(1_000)
                .build();
    }
}
