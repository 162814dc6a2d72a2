package io.cohortflow.console.store;

import io.cohortflow.core.segment.ChangeType;
import io.cohortflow.core.segment.SegmentChange;
import io.cohortflow.core.segment.SegmentChangeCodec;
import io.cohortflow.core.segment.SegmentProfile;
import io.cohortflow.core.segment.SegmentProfileCodec;
import io.cohortflow.core.segment.SegmentRules;
import org.rocksdb.ColumnFamilyDescriptor;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.ColumnFamilyOptions;
import org.rocksdb.DBOptions;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.WriteBatch;
import org.rocksdb.WriteOptions;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The console's view of the stream, in an embedded RocksDB: what the segmentation job published, kept for lookups,
 * previews and charts. Column families:
 * <ul>
 *   <li>{@code profiles}: user id → the latest segments.profiles record (its JSON, as published);</li>
 *   <li>{@code rows}: shard byte + user id → the profile's memberships and rule inputs in {@link PreviewRows}' binary
 *       form, what a preview scans (sharded so that a preview scans with every core);</li>
 *   <li>{@code rowEvents}: the same keys → the row's {@code events} (its bulk, which few conditions read);</li>
 *   <li>{@code members}: segment id → its members now, kept from the profiles (each profile's memberships against
 *       the user's previous ones): right from whatever offset the store started at, unlike a sum of changes;</li>
 *   <li>{@code erased}: SHA-256 of a user id (never the id) → when the console applied their erasure (a profile
 *       tombstone): changes computed before it that reach the store later (the changes follower runs on its own)
 *       are dropped;</li>
 *   <li>{@code changes}: user id, 0, event time, change id → the change's JSON: a person's history;</li>
 *   <li>{@code sizes}: segment id, 0, hour → ENTERs less EXITs in that hour (a segment's size over time);</li>
 *   <li>{@code dead}: {@code c}, reason, 0, hour → dead letters of that reason in that hour; {@code t}, reason →
 *       all of that reason; {@code s}, reason, 0, slot → the latest {@value #SAMPLES} dead letters of each reason, a
 *       ring (payloads cut to {@value #SAMPLE_PAYLOAD} characters): enough to see what goes wrong, and bounded, since
 *       a payload may hold personal data;</li>
 *   <li>{@code offsets}: topic and partition → the next offset to read. Offsets are written in the same atomic batch
 *       as the records they cover, so a restart resumes exactly where the store stands.</li>
 * </ul>
 * One writer per topic ({@link TopicFollower}); readers are any thread.
 */
public final class ConsoleStore implements AutoCloseable {
    /** How many shards the preview rows are spread over: a preview scans them in parallel. */
    public static final int SHARDS = 16;
    private static final long HOUR = 3_600_000L;
    /** Dead-letter samples kept per reason. */
    public static final int SAMPLES = 20;
    /** The most of a dead letter's payload a sample keeps. */
    public static final int SAMPLE_PAYLOAD = 2048;

    static {
        RocksDB.loadLibrary();
    }

    private final RocksDB db;
    private final DBOptions dbOptions;
    private final ColumnFamilyOptions cfOptions;
    private final org.rocksdb.Cache blockCache;
    private final List<ColumnFamilyHandle> handles = new ArrayList<>();
    private final ColumnFamilyHandle profiles;
    private final ColumnFamilyHandle rows;
    private final ColumnFamilyHandle changes;
    private final ColumnFamilyHandle sizes;
    private final ColumnFamilyHandle offsets;
    private final ColumnFamilyHandle dead;
    private final ColumnFamilyHandle rowEvents;
    private final ColumnFamilyHandle members;
    private final ColumnFamilyHandle erased;
    private final io.cohortflow.core.event.DeadLetterCodec deadCodec = new io.cohortflow.core.event.DeadLetterCodec();
    private final WriteOptions writeOptions = new WriteOptions();
    private final SegmentProfileCodec profileCodec = new SegmentProfileCodec();
    private final SegmentChangeCodec changeCodec = new SegmentChangeCodec();

    private final java.util.Collection<String> eventNames;
    private final PreviewRows previewRows;

    private ConsoleStore(Path dir, java.util.Collection<String> eventNames) throws RocksDBException {
        this.eventNames = List.copyOf(eventNames);
        dbOptions = new DBOptions().setCreateIfMissing(true).setCreateMissingColumnFamilies(true)
                .setMaxBackgroundJobs(2);
        // One 64 MB block cache for all families, with Bloom filters: a lookup of an id that is not there (an
        // anonymous id of a known user) costs no disk read. Keys stay sorted: previews and histories are scans.
        blockCache = new org.rocksdb.LRUCache(64L << 20);
        cfOptions = new ColumnFamilyOptions().setTableFormatConfig(new org.rocksdb.BlockBasedTableConfig()
                .setBlockCache(blockCache).setFilterPolicy(new org.rocksdb.BloomFilter(10))
                .setCacheIndexAndFilterBlocks(true))
                // Deletes (an erased person) leave the files within a day, not only when compaction happens by.
                .setPeriodicCompactionSeconds(86_400);
        List<ColumnFamilyDescriptor> descriptors = new ArrayList<>();
        descriptors.add(new ColumnFamilyDescriptor(RocksDB.DEFAULT_COLUMN_FAMILY, cfOptions));
        for (String name : List.of("profiles", "rows", "changes", "sizes", "offsets", "dead", "rowEvents", "members",
                "erased")) {
            descriptors.add(new ColumnFamilyDescriptor(name.getBytes(StandardCharsets.UTF_8), cfOptions));
        }
        db = RocksDB.open(dbOptions, dir.toString(), descriptors, handles);
        profiles = handles.get(1);
        rows = handles.get(2);
        changes = handles.get(3);
        sizes = handles.get(4);
        offsets = handles.get(5);
        previewRows = new PreviewRows(eventNames, dictionary(db, offsets, eventNames));
        dead = handles.get(6);
        rowEvents = handles.get(7);
        members = handles.get(8);
        erased = handles.get(9);
    }

    /** The event names' codes of the preview rows: the list the store was created with, kept in it. */
    private static List<String> dictionary(RocksDB db, ColumnFamilyHandle meta, java.util.Collection<String> names)
            throws RocksDBException {
        byte[] key = utf8("_dictionary");
        byte[] kept = db.get(meta, key);
        if (kept != null) {
            String text = new String(kept, StandardCharsets.UTF_8);
            return text.isEmpty() ? List.of() : List.of(text.split("\n"));
        }
        List<String> list = names.stream().sorted().limit(255).toList();
        db.put(meta, key, utf8(String.join("\n", list)));
        return list;
    }

    /**
     * Opens (or creates) the store in {@code dir}.
     *
     * @param eventNames the canonical event names the segmentation job's count windows name (its taxonomy's)
     */
    public static ConsoleStore open(Path dir, java.util.Collection<String> eventNames) {
        try {
            Files.createDirectories(dir);
            return new ConsoleStore(dir, eventNames);
        } catch (RocksDBException | java.io.IOException e) {
            throw new IllegalStateException("cannot open the console store in " + dir + ": " + e.getMessage(), e);
        }
    }

    // ---- writes, one batch per poll -------------------------------------------------------------------------------

    /** A batch of writes with the offsets they bring the store to, applied atomically by {@link #commit}. */
    public final class Batch implements AutoCloseable {
        private final WriteBatch batch = new WriteBatch();
        /** Counters read-modified-written within this batch (family id and key → value), not yet in the database. */
        private final Map<String, Long> pendingCounters = new java.util.HashMap<>();

        /** Memberships as this batch leaves them, for the users it touched. */
        private final Map<String, List<String>> pendingMemberships = new java.util.HashMap<>();
        /** Erasures applied in this batch (user id → when). */
        private final Map<String, Long> pendingErased = new java.util.HashMap<>();

        /** The profile as published (its JSON); a tombstone (null value) removes the person's profile and history. */
        public void profile(String userId, byte[] json) throws RocksDBException {
            byte[] key = utf8(userId);
            byte[] rowKey = rowKey(userId);
            if (json == null) {
                countMembers(userId, List.of());
                batch.delete(profiles, key);
                batch.delete(rows, rowKey);
                batch.delete(rowEvents, rowKey);
                eraseHistory(userId);
                long now = System.currentTimeMillis();
                pendingErased.put(userId, now);
                batch.put(erased, erasedKey(userId), longBytes(now));
                return;
            }
            // Everything is computed before anything is written: a record that does not read leaves no half.
            SegmentProfile profile = profileCodec.decode(json);
            Optional<Map<String, Object>> variables = SegmentRules.variables(profile, eventNames);
            byte[] row = variables.map(v -> previewRows.encode(profile.segments(), v)).orElse(null);
            byte[] history = variables.map(previewRows::encodeEvents).orElse(null);
            countMembers(userId, row == null ? List.of() : profile.segments());
            batch.put(profiles, key, json);
            if (row != null) {
                batch.put(rows, rowKey, row);
                batch.put(rowEvents, rowKey, history);
            } else {
                batch.delete(rows, rowKey); // a merged id: its profile is final, it is nobody to count
                batch.delete(rowEvents, rowKey);
            }
        }

        /** Each segment's members now, moved by this user's memberships before and after. */
        private void countMembers(String userId, List<String> now) throws RocksDBException {
            List<String> before = pendingMemberships.get(userId);
            if (before == null) {
                byte[] row = db.get(rows, rowKey(userId));
                before = row == null ? List.of() : previewRows.decode(row, null, new java.util.BitSet()).memberships();
            }
            for (String segment : before) {
                if (!now.contains(segment)) {
                    add(members, utf8(segment), -1);
                }
            }
            for (String segment : now) {
                if (!before.contains(segment)) {
                    add(members, utf8(segment), 1);
                }
            }
            pendingMemberships.put(userId, List.copyOf(now));
        }

        /** A membership change: into the person's history and its segment's size per hour. */
        public void change(SegmentChange change) throws RocksDBException {
            Long erasedAt = pendingErased.get(change.userId());
            if (erasedAt == null) {
                byte[] marker = db.get(erased, erasedKey(change.userId()));
                erasedAt = marker == null ? null : ByteBuffer.wrap(marker).getLong();
            }
            if (erasedAt != null && change.processingTime() <= erasedAt) {
                return; // computed before the person was erased, and read after: it has no place here
            }
            if ("privacy".equals(change.cause().kind())) {
                // The erasure's EXITs are the last word on a person erased by a privacy request: their history
                // goes, this EXIT with it. The size keeps the EXIT (counts, no person).
                eraseHistory(change.userId());
            } else {
                batch.put(changes, changeKey(change), changeCodec.encode(change));
            }
            add(sizes, sizeKey(change.segmentId(), change.eventTime() / HOUR * HOUR),
                    change.type() == ChangeType.ENTER ? 1 : -1);
        }

        /** A dead letter: counted by reason and hour, and kept as one of its reason's latest samples. */
        public void deadLetter(io.cohortflow.core.event.DeadLetter letter) throws RocksDBException {
            String reason = letter.reason() == null ? "UNKNOWN" : letter.reason();
            long total = add(dead, utf8("t" + reason), 1);
            add(dead, deadKey("c", reason, letter.receivedAt() / HOUR * HOUR), 1);
            String payload = letter.payload() == null ? null : letter.payload().length() <= SAMPLE_PAYLOAD
                    ? letter.payload() : letter.payload().substring(0, SAMPLE_PAYLOAD);
            io.cohortflow.core.event.DeadLetter sample = new io.cohortflow.core.event.DeadLetter(reason,
                    letter.detail(), letter.source(), letter.receivedAt(), payload, letter.payloadBase64(),
                    letter.payloadBytes(), letter.payloadSha256(),
                    letter.payloadTruncated() || payload != null && payload.length() < letter.payload().length());
            batch.put(dead, deadKey("s", reason, (total - 1) % SAMPLES), deadCodec.encode(sample));
        }

        /** Adds to a counter, seeing this batch's own earlier additions; returns the new value. */
        private long add(ColumnFamilyHandle family, byte[] key, long delta) throws RocksDBException {
            String pending = family.getID() + ":" + new String(key, StandardCharsets.ISO_8859_1);
            long now = pendingCounters.containsKey(pending) ? pendingCounters.get(pending) : readLong(family, key);
            pendingCounters.put(pending, now + delta);
            batch.put(family, key, longBytes(now + delta));
            return now + delta;
        }

        /** The next offset to read of a topic's partition, once this batch is in. */
        public void offset(String topic, int partition, long next) throws RocksDBException {
            batch.put(offsets, utf8(topic + "/" + partition), longBytes(next));
        }

        private void eraseHistory(String userId) throws RocksDBException {
            byte[] prefix = changePrefix(userId);
            byte[] end = Arrays.copyOf(prefix, prefix.length);
            end[end.length - 1] = 1;
            batch.deleteRange(changes, prefix, end);
        }

        @Override
        public void close() {
            batch.close();
        }
    }

    public Batch batch() {
        return new Batch();
    }

    public void commit(Batch batch) {
        try {
            db.write(writeOptions, batch.batch);
        } catch (RocksDBException e) {
            throw new IllegalStateException("console store write failed: " + e.getMessage(), e);
        }
    }

    /** The stored next offset of each partition of a topic (partition → offset). */
    public Map<Integer, Long> offsets(String topic) {
        Map<Integer, Long> out = new TreeMap<>();
        byte[] prefix = utf8(topic + "/");
        scan(offsets, prefix, (key, value) -> out.put(
                Integer.parseInt(new String(key, prefix.length, key.length - prefix.length, StandardCharsets.UTF_8)),
                ByteBuffer.wrap(value).getLong()));
        return out;
    }

    // ---- reads ----------------------------------------------------------------------------------------------------

    /** The latest profile published for exactly this id (no resolution), as its JSON. */
    public Optional<byte[]> profileJson(String userId) {
        try {
            return Optional.ofNullable(db.get(profiles, utf8(userId)));
        } catch (RocksDBException e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
    }

    public Optional<SegmentProfile> profile(String userId) {
        return profileJson(userId).map(profileCodec::decode);
    }

    /** A person's changes, oldest first, at most {@code limit} of the latest. */
    public List<SegmentChange> changes(String userId, int limit) {
        java.util.ArrayDeque<SegmentChange> out = new java.util.ArrayDeque<>();
        scan(changes, changePrefix(userId), (key, value) -> {
            out.addLast(changeCodec.decode(value));
            if (out.size() > limit) {
                out.removeFirst();
            }
        });
        return List.copyOf(out);
    }

    /** When the person last ENTERed each segment they are in now (segment → epoch ms). */
    public Map<String, Long> enteredAt(String userId, List<String> segments) {
        Map<String, Long> out = new LinkedHashMap<>();
        scan(changes, changePrefix(userId), (key, value) -> {
            SegmentChange change = changeCodec.decode(value);
            if (change.type() == ChangeType.ENTER && segments.contains(change.segmentId())) {
                out.put(change.segmentId(), change.eventTime());
            }
        });
        return out;
    }

    /** A segment's size at the end of each hour it changed in (hour start, epoch ms → members), oldest first. */
    public Map<Long, Long> sizeOverTime(String segmentId) {
        Map<Long, Long> out = new LinkedHashMap<>();
        byte[] prefix = sizePrefix(segmentId);
        long[] running = {0};
        scan(sizes, prefix, (key, value) -> {
            running[0] += ByteBuffer.wrap(value).getLong();
            out.put(ByteBuffer.wrap(key, prefix.length, 8).getLong() ^ Long.MIN_VALUE, running[0]);
        });
        return out;
    }

    /** Every segment's members now, from the stored profiles (segment → members). */
    public Map<String, Long> sizes() {
        Map<String, Long> out = new TreeMap<>();
        scan(members, new byte[0], (key, value) -> out.put(new String(key, StandardCharsets.UTF_8),
                ByteBuffer.wrap(value).getLong()));
        return out;
    }

    /** Dead letters by reason: reason → (hour start → count), oldest first. */
    public Map<String, Map<Long, Long>> deadLettersByHour() {
        Map<String, Map<Long, Long>> out = new TreeMap<>();
        scan(dead, utf8("c"), (key, value) -> {
            int zero = indexOf(key, (byte) 0);
            String reason = new String(key, 1, zero - 1, StandardCharsets.UTF_8);
            long hour = ByteBuffer.wrap(key, zero + 1, 8).getLong() ^ Long.MIN_VALUE;
            out.computeIfAbsent(reason, k -> new TreeMap<>()).put(hour, ByteBuffer.wrap(value).getLong());
        });
        return out;
    }

    /** The latest dead letters kept of each reason, newest first. */
    public List<io.cohortflow.core.event.DeadLetter> deadLetterSamples() {
        List<io.cohortflow.core.event.DeadLetter> out = new ArrayList<>();
        scan(dead, utf8("s"), (key, value) -> out.add(deadCodec.decode(value)));
        out.sort(java.util.Comparator.comparingLong(io.cohortflow.core.event.DeadLetter::receivedAt).reversed());
        return out;
    }

    /** The binary form of the preview rows. */
    public PreviewRows previewRows() {
        return previewRows;
    }

    /** The variables a condition sees for a stored profile ({@link SegmentRules#variables(SegmentProfile, java.util.Collection)}). */
    public Optional<Map<String, Object>> variables(SegmentProfile profile) {
        return SegmentRules.variables(profile, eventNames);
    }

    /**
     * Visits every preview row of one shard: the row's bytes ({@link PreviewRows}), its {@code events} when asked
     * for (else null), and its key on demand (shard byte, then the user id in UTF-8), since most rows are counted,
     * not named, and every read crosses JNI.
     */
    public void scanShard(int shard, boolean withEvents, RowVisitor visitor) {
        org.rocksdb.Snapshot snapshot = db.getSnapshot(); // both families as of one moment, while batches go on
        try (org.rocksdb.Slice upper = new org.rocksdb.Slice(new byte[] {(byte) (shard + 1)});
             ReadOptions options = new ReadOptions().setFillCache(false).setIterateUpperBound(upper)
                     .setSnapshot(snapshot);
             RocksIterator it = db.newIterator(rows, options);
             RocksIterator events = withEvents ? db.newIterator(rowEvents, options) : null) {
            java.util.function.Supplier<byte[]> key = it::key;
            byte[] start = {(byte) shard};
            it.seek(start);
            if (events != null) {
                events.seek(start);
            }
            for (; it.isValid(); it.next()) {
                byte[] history = null;
                if (events != null) { // the same keys, written in the same batches: matched by key all the same
                    byte[] rowKey = it.key();
                    while (events.isValid() && Arrays.compareUnsigned(events.key(), rowKey) < 0) {
                        events.next();
                    }
                    history = events.isValid() && Arrays.equals(events.key(), rowKey) ? events.value() : null;
                }
                visitor.visit(key, it.value(), history);
            }
        } finally {
            db.releaseSnapshot(snapshot);
        }
    }

    /** A preview row: its key, read when asked for while the visit lasts, its value and its events (or null). */
    @FunctionalInterface
    public interface RowVisitor {
        void visit(java.util.function.Supplier<byte[]> key, byte[] value, byte[] events);
    }

    /** The user id of a preview row's key. */
    public static String userOf(byte[] rowKey) {
        return new String(rowKey, 1, rowKey.length - 1, StandardCharsets.UTF_8);
    }

    /** Profiles in the store (RocksDB's estimate), and the bytes its files take on disk. */
    public long estimatedProfiles() {
        try {
            return db.getLongProperty(profiles, "rocksdb.estimate-num-keys");
        } catch (RocksDBException e) {
            return -1;
        }
    }

    public long diskBytes() {
        try {
            return db.getLongProperty("rocksdb.total-sst-files-size")
                    + db.getLongProperty(profiles, "rocksdb.total-sst-files-size")
                    + db.getLongProperty(rows, "rocksdb.total-sst-files-size")
                    + db.getLongProperty(changes, "rocksdb.total-sst-files-size")
                    + db.getLongProperty(sizes, "rocksdb.total-sst-files-size")
                    + db.getLongProperty(dead, "rocksdb.total-sst-files-size")
                    + db.getLongProperty(rowEvents, "rocksdb.total-sst-files-size")
                    + db.getLongProperty(members, "rocksdb.total-sst-files-size");
        } catch (RocksDBException e) {
            return -1;
        }
    }

    /** Flushes memtables to files (the benchmark measures what is on disk). */
    public void flush() {
        try (var options = new org.rocksdb.FlushOptions().setWaitForFlush(true)) {
            db.flush(options, handles);
        } catch (RocksDBException e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
    }

    // ---- keys -----------------------------------------------------------------------------------------------------

    static byte[] rowKey(String userId) {
        byte[] id = utf8(userId);
        byte[] key = new byte[id.length + 1];
        key[0] = (byte) Math.floorMod(userId.hashCode(), SHARDS);
        System.arraycopy(id, 0, key, 1, id.length);
        return key;
    }

    private static byte[] erasedKey(String userId) {
        try {
            return java.security.MessageDigest.getInstance("SHA-256").digest(utf8(userId));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static byte[] changePrefix(String userId) {
        byte[] id = utf8(userId);
        return Arrays.copyOf(id, id.length + 1); // user id, then 0: no user id holds a NUL
    }

    private static byte[] changeKey(SegmentChange change) {
        byte[] prefix = changePrefix(change.userId());
        byte[] id = utf8(change.changeId()); // a replayed change lands on its own key
        return ByteBuffer.allocate(prefix.length + 8 + id.length).put(prefix)
                .putLong(change.eventTime() ^ Long.MIN_VALUE) // sign flipped: byte order is time order
                .put(id).array();
    }

    private static byte[] deadKey(String kind, String reason, long number) {
        byte[] prefix = utf8(kind + reason);
        return ByteBuffer.allocate(prefix.length + 9).put(prefix).put((byte) 0).putLong(number ^ Long.MIN_VALUE)
                .array();
    }

    private static byte[] sizePrefix(String segmentId) {
        byte[] id = utf8(segmentId);
        return Arrays.copyOf(id, id.length + 1);
    }

    private static byte[] sizeKey(String segmentId, long hour) {
        byte[] prefix = sizePrefix(segmentId);
        return ByteBuffer.allocate(prefix.length + 8).put(prefix).putLong(hour ^ Long.MIN_VALUE).array();
    }

    private long readLong(ColumnFamilyHandle family, byte[] key) throws RocksDBException {
        byte[] value = db.get(family, key);
        return value == null ? 0 : ByteBuffer.wrap(value).getLong();
    }

    private void scan(ColumnFamilyHandle family, byte[] prefix, java.util.function.BiConsumer<byte[], byte[]> visit) {
        try (RocksIterator it = db.newIterator(family)) {
            for (it.seek(prefix); it.isValid(); it.next()) {
                byte[] key = it.key();
                if (!startsWith(key, prefix)) {
                    break;
                }
                visit.accept(key, it.value());
            }
        }
    }

    private static boolean startsWith(byte[] key, byte[] prefix) {
        return key.length >= prefix.length && Arrays.equals(key, 0, prefix.length, prefix, 0, prefix.length);
    }

    private static int indexOf(byte[] key, byte b) {
        for (int i = 0; i < key.length; i++) {
            if (key[i] == b) {
                return i;
            }
        }
        return key.length;
    }

    private static byte[] longBytes(long value) {
        return ByteBuffer.allocate(8).putLong(value).array();
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public void close() {
        handles.forEach(ColumnFamilyHandle::close);
        db.close();
        dbOptions.close();
        cfOptions.close();
        blockCache.close();
        writeOptions.close();
    }
}
