package io.cohortflow.core.engine;

import io.cohortflow.core.codec.BinaryMaps;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;

class SegmentLongsTest {

    /**
     * The engine's memberships and ordinals were TreeMaps: every operation the engine makes gives what the tree gave,
     * over random ids (a long common prefix, as generated segment ids have, personas, and ids of other lengths), and
     * the bytes are the tree's bytes both ways.
     */
    @Test
    void actsAsTheSortedMapItReplaces() throws IOException {
        Random random = new Random(7);
        List<String> pool = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            pool.add("generated_" + i);
        }
        for (String persona : List.of("persona_a", "persona_bargain_hunter", "persona_z", "persona_")) {
            pool.add(persona);
        }
        pool.addAll(List.of("a", "vip", "cart_abandoners", "Zeta", "é_accent", "persona", "persons"));
        SegmentLongs mine = new SegmentLongs();
        TreeMap<String, Long> tree = new TreeMap<>();
        for (int step = 0; step < 50_000; step++) {
            String id = pool.get(random.nextInt(pool.size()));
            switch (random.nextInt(step % 5_000 < 4_000 ? 4 : 5)) { // now and then a run of removals empties it
                case 0 -> {
                    long value = random.nextLong();
                    mine.put(id, value);
                    tree.put(id, value);
                }
                case 1 -> assertThat(mine.increment(id)).isEqualTo(tree.merge(id, 1L, Long::sum) - 1);
                case 2 -> {
                    assertThat(mine.containsKey(id)).isEqualTo(tree.containsKey(id));
                    assertThat(mine.get(id)).isEqualTo(tree.get(id));
                }
                default -> {
                    mine.remove(id);
                    tree.remove(id);
                }
            }
            if (step % 997 == 0) {
                assertSame(mine, tree);
            }
            if (step == 30_000) {
                mine.clear();
                tree.clear();
                assertSame(mine, tree);
            }
        }
        assertSame(mine, tree);
    }

    private static void assertSame(SegmentLongs mine, TreeMap<String, Long> tree) throws IOException {
        assertThat(mine.ids()).containsExactlyElementsOf(tree.keySet());
        assertThat(mine.size()).isEqualTo(tree.size());
        assertThat(mine.isEmpty()).isEqualTo(tree.isEmpty());
        for (String from : List.of("persona_", "generated_15", "a", "zzz", "")) {
            List<String> tail = new ArrayList<>();
            for (int at = mine.ceiling(from); at < mine.size(); at++) {
                tail.add(mine.id(at));
            }
            assertThat(tail).as("from %s", from).containsExactlyElementsOf(tree.tailMap(from, true).keySet());
        }
        ByteArrayOutputStream ours = new ByteArrayOutputStream();
        mine.writeTo(new DataOutputStream(ours));
        ByteArrayOutputStream trees = new ByteArrayOutputStream();
        BinaryMaps.writeStringLongs(new DataOutputStream(trees), tree);
        assertThat(ours.toByteArray()).isEqualTo(trees.toByteArray());
        SegmentLongs back = new SegmentLongs();
        back.readFrom(new DataInputStream(new ByteArrayInputStream(trees.toByteArray())));
        for (Map.Entry<String, Long> entry : tree.entrySet()) {
            assertThat(back.get(entry.getKey())).isEqualTo(entry.getValue());
        }
        assertThat(back.ids()).containsExactlyElementsOf(tree.keySet());
    }

    @Test
    void theProfilesIdsAreItsOwn() {
        SegmentLongs memberships = new SegmentLongs();
        memberships.put("b", 2);
        memberships.put("a", 1);
        List<String> ids = memberships.ids();
        memberships.remove("a");
        memberships.put("c", 3);
        assertThat(ids).containsExactly("a", "b");
        assertThat(memberships.ids()).containsExactly("b", "c");
        assertThat(memberships.get("a")).isNull();
    }
}
