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
     * over random ids (a long common prefix, as generated segment ids have, personas, and ids of other lengths), by id
     * and by rank in one of two orders of running ids (some of the ids; the rest, many between the same two running
     * ones, ranked by their place), switched between now and then, and the bytes are the tree's bytes both ways.
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
        List<SegmentLongs.Order> orders = new ArrayList<>();
        for (int o = 0; o < 2; o++) {
            java.util.TreeSet<String> running = new java.util.TreeSet<>();
            pool.stream().filter(id -> random.nextInt(3) > 0).forEach(running::add);
            orders.add(new SegmentLongs.Order(List.copyOf(running)));
        }
        SegmentLongs.Order order = orders.get(0);
        SegmentLongs mine = new SegmentLongs();
        TreeMap<String, Long> tree = new TreeMap<>();
        for (int step = 0; step < 50_000; step++) {
            String id = pool.get(random.nextInt(pool.size()));
            if (random.nextInt(500) == 0) {
                order = orders.get(random.nextInt(orders.size()));
            }
            boolean ranked = step % 3 > 0;
            int rank = order.rank(id);
            switch (random.nextInt(step % 5_000 < 4_000 ? 4 : 5)) { // now and then a run of removals empties it
                case 0 -> {
                    long value = random.nextLong();
                    if (ranked) {
                        mine.put(order, rank, id, value);
                    } else {
                        mine.put(id, value);
                    }
                    tree.put(id, value);
                }
                case 1 -> assertThat(ranked ? mine.increment(order, rank, id) : mine.increment(id))
                        .isEqualTo(tree.merge(id, 1L, Long::sum) - 1);
                case 2 -> {
                    assertThat(ranked ? mine.containsKey(order, rank, id) : mine.containsKey(id))
                            .isEqualTo(tree.containsKey(id));
                    assertThat(mine.get(id)).isEqualTo(tree.get(id));
                }
                default -> {
                    if (ranked) {
                        mine.remove(order, rank, id);
                    } else {
                        mine.remove(id);
                    }
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
    void ranksOrderIdsAsTheirStringsDo() {
        SegmentLongs.Order order = new SegmentLongs.Order(List.of("b", "d", "generated_10", "generated_2"));
        List<String> ids = List.of("a", "b", "c", "cc", "d", "e", "generated_1", "generated_10", "generated_11",
                "generated_2", "generated_3", "persona_x");
        for (int i = 0; i < ids.size(); i++) {
            for (int j = 0; j < ids.size(); j++) {
                int byRank = Integer.compare(order.rank(ids.get(i)), order.rank(ids.get(j)));
                int byString = Integer.signum(ids.get(i).compareTo(ids.get(j)));
                assertThat(byRank == 0 || byRank == byString).as("%s, %s", ids.get(i), ids.get(j)).isTrue();
                if (byRank == 0 && i != j) {
                    assertThat(order.rank(ids.get(i)) % 2).as("only ids that are not running tie").isZero();
                }
            }
        }
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> new SegmentLongs.Order(List.of("b", "a")))
                .isInstanceOf(IllegalArgumentException.class);
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
