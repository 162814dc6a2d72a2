package io.cohortflow.console.api;

import io.cohortflow.console.store.ConsoleStore;
import io.cohortflow.console.store.PreviewRows;
import io.cohortflow.core.segment.SegmentRules;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * A condition evaluated over every stored profile, before it is published: how many match, a sample of members with
 * the values that made them match, and the overlap with every segment they are in. The evaluation is the stream's:
 * {@link SegmentRules#matches} over the variables the segmentation job published with each profile. The store's
 * shards are scanned in parallel, one per task; the result does not depend on how the tasks interleave (the sample
 * is the first members in user-id order).
 */
public final class Preview implements AutoCloseable {
    public static final int SAMPLE = 20;

    /** One sampled member and the values of the variables the condition reads. */
    public record Member(String userId, Map<String, Object> values) {
    }

    /**
     * @param segmentId a segment the matching users are in
     * @param members   its members among the evaluated profiles
     * @param both      of those, how many the condition matches
     */
    public record Overlap(String segmentId, long members, long both) {
    }

    /**
     * @param matched       profiles the condition matches
     * @param evaluated     profiles evaluated: every stored one with inputs (a merged id's last profile has none, and
     *                      counts as its user)
         * @param variables     what the condition reads
     * @param sample        up to {@value #SAMPLE} members, by user id
     * @param overlap       for each segment with members, how many of them match, largest overlap first
     * @param millis        how long the evaluation took
     */
    public record Result(String condition, long matched, long evaluated, List<String> variables,
                         List<Member> sample, List<Overlap> overlap, long millis) {
    }

    private final ConsoleStore store;
    private final ExecutorService pool;

    public Preview(ConsoleStore store, int threads) {
        this.store = store;
        this.pool = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "console-preview");
            t.setDaemon(true);
            return t;
        });
    }

    private static final class Shard {
        long matched;
        long evaluated;
        final List<Member> sample = new ArrayList<>();
        final Map<String, long[]> overlap = new HashMap<>();
    }

    /** Evaluates a compiled condition over the store. */
    public Result run(SegmentRules.Compiled condition) {
        long start = System.nanoTime();
        BitSet needed = PreviewRows.indexes(condition.variables());
        Map<String, Integer> index = new HashMap<>();
        condition.variables().forEach(v -> index.put(v, PreviewRows.index(v)));
        List<Future<Shard>> futures = new ArrayList<>();
        for (int shard = 0; shard < ConsoleStore.SHARDS; shard++) {
            int s = shard;
            futures.add(pool.submit(() -> scan(s, condition, needed, index)));
        }
        long matched = 0;
        long evaluated = 0;
        List<Member> sample = new ArrayList<>();
        Map<String, long[]> overlap = new HashMap<>();
        for (Future<Shard> future : futures) {
            Shard shard = join(future);
            matched += shard.matched;
            evaluated += shard.evaluated;
            sample.addAll(shard.sample);
            shard.overlap.forEach((segment, counts) -> {
                long[] total = overlap.computeIfAbsent(segment, k -> new long[2]);
                total[0] += counts[0];
                total[1] += counts[1];
            });
        }
        sample.sort(Comparator.comparing(Member::userId));
        List<Overlap> overlaps = overlap.entrySet().stream()
                .map(e -> new Overlap(e.getKey(), e.getValue()[0], e.getValue()[1]))
                .sorted(Comparator.comparingLong(Overlap::both).reversed().thenComparing(Overlap::segmentId))
                .toList();
        return new Result(condition.definition().condition(), matched, evaluated,
                condition.variables().stream().sorted().toList(),
                List.copyOf(sample.subList(0, Math.min(SAMPLE, sample.size()))), overlaps,
                (System.nanoTime() - start) / 1_000_000);
    }

    private Shard scan(int shard, SegmentRules.Compiled condition, BitSet needed, Map<String, Integer> index) {
        Shard out = new Shard();
        PreviewRows rows = store.previewRows();
        store.scanShard(shard, PreviewRows.readsEvents(needed), (key, value, events) -> {
            PreviewRows.Row row = rows.decode(value, events, needed);
            out.evaluated++;
            Object[] values = row.values();
            boolean in = SegmentRules.matches(condition, name -> {
                Integer i = index.get(name);
                return i == null ? null : values[i];
            });
            if (in) {
                out.matched++;
                if (out.sample.size() < SAMPLE) { // keys are in user-id order within a shard
                    out.sample.add(new Member(ConsoleStore.userOf(key.get()), ordered(row.variables())));
                }
            }
            for (String segment : row.memberships()) {
                long[] counts = out.overlap.computeIfAbsent(segment, k -> new long[2]);
                counts[0]++;
                if (in) {
                    counts[1]++;
                }
            }
        });
        return out;
    }

    private static Map<String, Object> ordered(Map<String, Object> values) {
        Map<String, Object> out = new LinkedHashMap<>();
        values.keySet().stream().sorted().forEach(k -> out.put(k, values.get(k)));
        return out;
    }

    private static Shard join(Future<Shard> future) {
        try {
            return future.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("preview interrupted", e);
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IllegalStateException("preview failed: " + e.getCause(), e.getCause());
        }
    }

    @Override
    public void close() {
        pool.shutdownNow();
    }
}
