package io.cohortflow.core.feature;

import io.cohortflow.core.event.EventTaxonomy;
import io.cohortflow.core.event.EventType;
import io.cohortflow.core.event.UnifiedEvent;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static io.cohortflow.core.feature.UserFeatures.DAY;
import static io.cohortflow.core.feature.UserFeatures.HOUR;
import static io.cohortflow.core.feature.UserFeatures.MINUTE;
import static org.assertj.core.api.Assertions.assertThat;

class UserFeaturesTest {
    static final long T0 = Instant.parse("2026-03-02T10:00:00Z").toEpochMilli();
    static final Set<String> NAMES = EventTaxonomy.defaults().canonicalNames();
    private final FeatureConfig config = FeatureConfig.defaults();
    private int seq;

    @Test
    void countsEveryEventNameOverEveryWindow() {
        UserFeatures f = new UserFeatures(config);
        f.add(event("product_view", T0 - 80 * DAY));
        f.add(event("product_view", T0 - 20 * DAY));
        f.add(event("product_view", T0 - 3 * DAY));
        f.add(event("product_view", T0 - 5 * HOUR));
        f.add(event("product_view", T0 - 10 * MINUTE));
        f.add(event("product_view", T0));
        FeatureSnapshot s = f.snapshot(T0, NAMES);
        assertThat(s.count("1h", "product_view")).isEqualTo(2);
        assertThat(s.count("24h", "product_view")).isEqualTo(3);
        assertThat(s.count("7d", "product_view")).isEqualTo(4);
        assertThat(s.count("30d", "product_view")).isEqualTo(5);
        assertThat(s.count("90d", "product_view")).isEqualTo(6);
        assertThat(s.count("1h", "order_completed")).as("every canonical name is present").isZero();
        assertThat(s.counts().get("30d")).containsKeys("email_opened", "trial_started");
    }

    @Test
    void outOfOrderEventsLandInTheRightBuckets() {
        List<UnifiedEvent> events = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            events.add(event(i % 2 == 0 ? "product_view" : "add_to_cart", T0 - i * 7 * HOUR));
        }
        UserFeatures inOrder = new UserFeatures(config);
        events.stream().sorted(java.util.Comparator.comparingLong(UnifiedEvent::timestamp)).forEach(inOrder::add);
        UserFeatures shuffled = new UserFeatures(config);
        List<UnifiedEvent> copy = new ArrayList<>(events);
        Collections.shuffle(copy, new java.util.Random(3));
        copy.forEach(shuffled::add);
        assertThat(shuffled.snapshot(T0, NAMES).counts()).isEqualTo(inOrder.snapshot(T0, NAMES).counts());
    }

    @Test
    void sessionsRecencyAndDurationFollowTheThirtyMinuteGap() {
        UserFeatures f = new UserFeatures(config);
        // Session 1: 10:00-10:20 (three events); session 2 after a 40-minute gap: 11:00-11:10.
        f.add(event("page_view", T0));
        f.add(event("product_view", T0 + 10 * MINUTE));
        f.add(event("page_view", T0 + 20 * MINUTE));
        f.add(event("page_view", T0 + 60 * MINUTE));
        f.add(event("page_view", T0 + 70 * MINUTE));
        f.add(event("email_opened", T0 + 5 * DAY)); // passive: no session, no activity
        FeatureSnapshot s = f.snapshot(T0 + 5 * DAY + 2 * HOUR, NAMES);
        assertThat(s.frequency30d()).isEqualTo(2);
        assertThat(s.avgSessionDuration()).isEqualTo(15.0);
        assertThat(s.recencyDays()).isEqualTo(5.0);
        assertThat(new UserFeatures(config).snapshot(T0, NAMES).recencyDays()).as("never active").isEqualTo(365.0);
    }

    @Test
    void monetaryValueTicketsAdoptionCategoriesAndCart() {
        UserFeatures f = new UserFeatures(config);
        f.add(event("order_completed", T0 - 100 * DAY, Map.of("revenue", 999.0)));   // outside 90 days
        f.add(event("order_completed", T0 - 10 * DAY, Map.of("revenue", 120.5)));
        f.add(event("payment_succeeded", T0 - 2 * DAY, Map.of("amount", 49.0)));
        f.add(event("support_ticket_created", T0 - 70 * DAY));
        f.add(event("support_ticket_created", T0 - 50 * DAY));
        f.add(event("feature_used", T0 - 40 * DAY, Map.of("feature", "dashboards")));
        f.add(event("feature_used", T0 - 1 * DAY, Map.of("feature", "reports")));
        f.add(event("feature_used", T0 - 1 * DAY, Map.of("feature", "not-a-key-feature")));
        f.add(event("product_view", T0 - 2 * HOUR, Map.of("category", "Men's Running Shoes")));
        f.add(event("product_view", T0 - 30 * HOUR, Map.of("category", "Women's Jackets")));
        f.add(event("add_to_cart", T0 - 40 * MINUTE, Map.of("category", "Men's Running Shoes")));
        FeatureSnapshot s = f.snapshot(T0, NAMES);
        assertThat(s.monetaryValue90d()).isEqualTo(169.5);
        assertThat(s.supportTickets60d()).isEqualTo(1);
        assertThat(s.featureAdoptionRate()).isEqualTo(2.0 / 8);
        assertThat(s.featuresUsed90d()).containsExactlyInAnyOrder("dashboards", "reports", "not-a-key-feature");
        assertThat(s.categories24h()).containsExactly("Men's Running Shoes");
        assertThat(s.cartOpen()).isTrue();
        assertThat(s.cartAbandoned()).isTrue();
        assertThat(f.snapshot(T0 - 20 * MINUTE, NAMES).cartAbandoned()).as("only after 30 minutes").isFalse();

        f.add(event("order_completed", T0 + MINUTE, Map.of("revenue", 10.0)));
        assertThat(f.snapshot(T0 + 2 * MINUTE, NAMES).cartOpen()).isFalse();
        assertThat(f.snapshot(T0 + 2 * MINUTE, NAMES).numeric()).containsOnlyKeys(FeatureSnapshot.MODEL_FEATURES);
    }

    @Test
    void nextChangeIsTheFirstMomentAFeatureMovesWithoutEvents() {
        UserFeatures f = new UserFeatures(config);
        f.add(event("product_view", T0));
        f.add(event("add_to_cart", T0 + 2 * MINUTE));
        long t = T0 + 2 * MINUTE;
        // The session ends 30 minutes after the last event; the cart turns abandoned at the same moment.
        assertThat(f.nextChange(t)).hasValue(t + 30 * MINUTE);
        assertThat(f.nextChange(t + 30 * MINUTE)).hasValue(t + 30 * MINUTE + 1);
        // Then the first minute bucket leaves the hour window.
        assertThat(f.nextChange(T0 + 40 * MINUTE)).hasValue(T0 + HOUR);
        // Recency and tenure grow by a day at a time, up to the lookback.
        assertThat(f.nextChange(T0 + 100 * DAY)).as("recency, from the add at 2 minutes").hasValue(T0 + 100 * DAY + 2 * MINUTE);
        assertThat(f.isEmpty(T0 + 100 * DAY)).as("recency still counts").isFalse();
        // A year on, nothing is left to change and the state can be dropped.
        long later = T0 + 366 * DAY;
        f.prune(later);
        assertThat(f.isEmpty(later)).isTrue();
        assertThat(f.nextChange(later)).isEmpty();
    }

    @Test
    void theYearLongPurchaseHistoryRecencyAndTenureReachBackAYear() {
        UserFeatures f = new UserFeatures(config);
        f.add(event("order_completed", T0 - 400 * DAY, Map.of("revenue", 77.0)));   // outside the year
        f.add(event("order_completed", T0 - 300 * DAY, Map.of("revenue", 100.0)));
        f.add(event("order_completed", T0 - 200 * DAY, Map.of("revenue", 50.0)));
        f.add(event("order_completed", T0 - 200 * DAY + HOUR));                       // no revenue: still an order
        f.add(event("order_refunded", T0 - 150 * DAY, Map.of("revenue", 30.0)));      // not revenue, not activity
        FeatureSnapshot s = f.snapshot(T0, NAMES);
        assertThat(s.purchases365d()).isEqualTo(3);
        assertThat(s.monetaryValue365d()).isEqualTo(150.0);
        assertThat(s.monetaryValue90d()).isZero();
        assertThat(s.recencyDays()).as("not capped at 90; from the last order, not the refund").isEqualTo(199.0);
        assertThat(s.tenureDays()).as("capped at the lookback").isEqualTo(365.0);
        assertThat(f.snapshot(T0 - 250 * DAY, NAMES).tenureDays()).isEqualTo(150.0);
        assertThat(s.numeric()).containsEntry("purchases_365d", 3.0).containsEntry("tenure_days", 365.0);
        // Recency's next day is a change, and so is the day the 300-day-old order leaves the year.
        assertThat(f.nextChange(T0)).hasValue(T0 - 200 * DAY + HOUR + 200 * DAY);
        long leavesTheYear = Math.floorDiv(T0 - 300 * DAY, DAY) * DAY + 365 * DAY;
        assertThat(f.nextChange(leavesTheYear - HOUR)).hasValue(leavesTheYear);
        UserFeatures back = UserFeatures.fromBytes(f.toBytes(), config);
        assertThat(back.snapshot(T0, NAMES)).isEqualTo(s);
    }

    @Test
    void overduePurchasesWeighRecencyByTheCustomersOwnPaceAndChangeOnlyWithRecency() {
        UserFeatures weekly = new UserFeatures(config);
        UserFeatures quarterly = new UserFeatures(config);
        for (int w = 0; w < 12; w++) {
            weekly.add(event("order_completed", T0 - (98 - 7 * w) * DAY + 9 * HOUR, Map.of("revenue", 20.0)));
        }
        for (int q = 0; q < 3; q++) {
            quarterly.add(event("order_completed", T0 - (201 - 90 * q) * DAY + 9 * HOUR, Map.of("revenue", 90.0)));
        }
        weekly.add(event("page_view", T0 - 98 * DAY + 8 * HOUR)); // first active an hour before the first order
        long at = T0 + 21 * DAY + 10 * HOUR; // three weeks after the weekly buyer's last order
        FeatureSnapshot w = weekly.snapshot(at, NAMES);
        FeatureSnapshot q = quarterly.snapshot(at, NAMES);
        assertThat(w.recencyDays()).isEqualTo(42.0);
        assertThat(q.recencyDays()).isEqualTo(42.0);
        // Same recency: the weekly buyer has missed about six orders, the quarterly one less than half of one.
        assertThat(w.overduePurchases()).isCloseTo(12 * 42.0 / (77 + 42), org.assertj.core.data.Offset.offset(1e-9));
        assertThat(q.overduePurchases()).isCloseTo(3 * 42.0 / (180 + 42), org.assertj.core.data.Offset.offset(1e-9));
        // Tenure ticks at 08:00 (the page view), recency at 09:00 (the last order): the ratio moves at 09:00 only.
        assertThat(weekly.snapshot(at - 2 * HOUR + 30 * 60_000L, NAMES).overduePurchases())
                .as("08:30, after tenure's tick").isEqualTo(weekly.snapshot(at - 2 * HOUR - 30 * 60_000L, NAMES)
                        .overduePurchases());
        assertThat(new UserFeatures(config).snapshot(at, NAMES).overduePurchases()).as("no purchases").isZero();
        // Back after more than a year away: a new tenure, as in the stream, whose state for them is gone by then.
        UserFeatures returning = new UserFeatures(config);
        returning.add(event("order_completed", T0 - 500 * DAY));
        returning.add(event("order_completed", T0 - 60 * DAY));
        returning.add(event("order_completed", T0 - 30 * DAY));
        FeatureSnapshot back = returning.snapshot(T0, NAMES);
        assertThat(back.tenureDays()).isEqualTo(60.0);
        assertThat(back.overduePurchases()).isCloseTo(2 * 30.0 / (30 + 30), org.assertj.core.data.Offset.offset(1e-9));
        assertThat(w.numeric()).containsKey("overdue_purchases");
        assertThat(w.ruleVariables()).containsEntry("overdue_purchases", w.overduePurchases());
    }

    @Test
    void stateWrittenInTheFirstFormatStillReads() throws Exception {
        // Format 1: no names, one day of revenue, no sessions, no features or categories, then six times.
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        java.io.DataOutputStream out = new java.io.DataOutputStream(bytes);
        out.writeByte(1);
        out.writeShort(0);
        out.writeShort(1);
        out.writeInt((int) ((T0 - 10 * DAY) / DAY));
        out.writeDouble(42.0);
        out.writeShort(0);
        io.cohortflow.core.codec.BinaryMaps.writeStringLongs(out, new java.util.TreeMap<>());
        io.cohortflow.core.codec.BinaryMaps.writeStringLongs(out, new java.util.TreeMap<>());
        for (long v : new long[] {-1, -1, T0 - 10 * DAY, T0 - 10 * DAY, -1, T0 - 10 * DAY}) {
            out.writeLong(v);
        }
        FeatureSnapshot s = UserFeatures.fromBytes(bytes.toByteArray(), config).snapshot(T0, NAMES);
        assertThat(s.monetaryValue90d()).isEqualTo(42.0);
        assertThat(s.purchases365d()).as("a day with revenue is one purchase").isEqualTo(1);
        assertThat(s.recencyDays()).isEqualTo(10.0);
        assertThat(s.tenureDays()).as("from the oldest day kept").isEqualTo(10.0);
    }

    /**
     * {@link #aMonthOfActivity} as format 5 wrote it (the sessions' days and the moments at full width), by the code of
     * commit db096dd: what keyed state and savepoints hold from before format 6.
     */
    private static final String FORMAT_5 = """
            BQAFAAthZGRfdG9fY2FydAAB5MuNDgEAAfeLHgEABaWgAQEHAQcBBwEFAQOA6e+s0DOg2cugAuD45tUBAAxmZWF0dXJlX3VzZWQA
            AAAB8oseAQAeoqABAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQED4JOP
            ydMz4IydKeCMnSkAD29yZGVyX2NvbXBsZXRlZAAAAAAABKWgAQEHAQcBBwEDoIy6jM4zoNnLoAKg2cugAgAJcGFnZV92aWV3AAAA
            AfKLHgEAHqKgAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBA6Dqh8nT
            M+CMnSngjJ0pAAxwcm9kdWN0X3ZpZXcAAAAB8oseAQAeoqABAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEB
            AQEBAQEBAQEBAQEBAQEBAQEBAQEDgL+LydMz4IydKeCMnSkABAAAUCUBQGAgAAAAAAAAAFAsAUBgIAAAAAAAAABQMwFAYCAAAAAA
            AAAAUDoBQGAgAAAAAAAAHgAAUCIAAAABAAAAAAAB1MAAAFAjAAAAAQAAAAAAAdTAAABQJAAAAAEAAAAAAAHUwAAAUCUAAAABAAAA
            AAAIPWAAAFAmAAAAAQAAAAAAAdTAAABQJwAAAAEAAAAAAAHUwAAAUCgAAAABAAAAAAAB1MAAAFApAAAAAQAAAAAAAdTAAABQKgAA
            AAEAAAAAAAHUwAAAUCsAAAABAAAAAAAB1MAAAFAsAAAAAQAAAAAACD1gAABQLQAAAAEAAAAAAAHUwAAAUC4AAAABAAAAAAAB1MAA
            AFAvAAAAAQAAAAAAAdTAAABQMAAAAAEAAAAAAAHUwAAAUDEAAAABAAAAAAAB1MAAAFAyAAAAAQAAAAAAAdTAAABQMwAAAAEAAAAA
            AAg9YAAAUDQAAAABAAAAAAAB1MAAAFA1AAAAAQAAAAAAAdTAAABQNgAAAAEAAAAAAAHUwAAAUDcAAAABAAAAAAAB1MAAAFA4AAAA
            AQAAAAAAAdTAAABQOQAAAAEAAAAAAAHUwAAAUDoAAAABAAAAAAAIPWAAAFA7AAAAAQAAAAAAAdTAAABQPAAAAAEAAAAAAAHUwAAA
            UD0AAAABAAAAAAAB1MAAAFA+AAAAAQAAAAAAAdTAAABQPwAAAAEAAAAAAAHUwAABAApkYXNoYm9hcmRzAAABnUNyVqAAAgAFVHJh
            aWwAAAGdRGidgAAVV29tZW4ncyBSdW5uaW5nIFNob2VzAAABnUNxbEAAAAGdRGidgAAAAZ1EaJ2AAAABnK39iQAAAAGdRGidgAAA
            AZ1EaJ2AAAABnURonYAAAAGdKbRfYAQABXNrdS0xAQAHU3dpZnQgVwEAFVdvbWVuJ3MgUnVubmluZyBTaG9lc0BgIAAAAAAAAAAB
            nUNxbEAABXNrdS0wAQAHU3dpZnQgVwEAFVdvbWVuJ3MgUnVubmluZyBTaG9lc0BgIAAAAAAAAAABnT5KJeAABXNrdS0zAQAHU3dp
            ZnQgVwEAFVdvbWVuJ3MgUnVubmluZyBTaG9lc0BgIAAAAAAAAAABnTki34AABXNrdS0yAQAHU3dpZnQgVwEAFVdvbWVuJ3MgUnVu
            bmluZyBTaG9lc0BgIAAAAAAAAAABnTP7mSABAAVza3UtMgABAAVUcmFpbEBY4AAAAAAAAAABnURonYAAAP//////////
            """;

    @Test
    void stateWrittenInFormatFiveReadsTheSameAndIsSmallerWrittenAgain() {
        UserFeatures fresh = new UserFeatures(config);
        aMonthOfActivity().forEach(fresh::add);
        byte[] five = java.util.Base64.getMimeDecoder().decode(FORMAT_5);
        assertThat(five[0]).isEqualTo((byte) 5);
        UserFeatures old = UserFeatures.fromBytes(five, config);
        for (long at : new long[] {T0 + 29 * DAY + 6 * HOUR, T0 + 31 * DAY, T0 + 100 * DAY}) {
            assertThat(old.snapshot(at, NAMES)).isEqualTo(fresh.snapshot(at, NAMES));
            assertThat(old.nextChange(at)).isEqualTo(fresh.nextChange(at));
        }
        byte[] six = old.toBytes();
        assertThat(six).isEqualTo(fresh.toBytes());
        assertThat(six[0]).isEqualTo((byte) 6);
        assertThat(six.length).as("format 6 against format 5: %d against %d bytes", six.length, five.length)
                .isLessThan(five.length - 150);
    }

    /** A month of daily visits, product views and feature use, an order a week, and a cart left open. */
    private List<UnifiedEvent> aMonthOfActivity() {
        List<UnifiedEvent> out = new ArrayList<>();
        for (int day = 0; day < 30; day++) {
            long t = T0 + day * DAY + day * MINUTE;
            out.add(event("page_view", t));
            out.add(event("product_view", t + MINUTE, Map.of("product_id", "sku-" + day % 4, "name", "Swift W",
                    "category", "Women's Running Shoes", "price", 129.0)));
            out.add(event("feature_used", t + 2 * MINUTE, Map.of("feature", "dashboards")));
            if (day % 7 == 3) {
                out.add(event("add_to_cart", t + 3 * MINUTE, Map.of("product_id", "sku-1",
                        "category", "Women's Running Shoes", "price", 129.0)));
                out.add(event("order_completed", t + 9 * MINUTE, Map.of("revenue", 129.0, "items", 1)));
            }
        }
        out.add(event("add_to_cart", T0 + 29 * DAY + 5 * HOUR, Map.of("product_id", "sku-2", "category", "Trail",
                "price", 99.5)));
        return out;
    }

    @Test
    void mergeFoldsAnAnonymousHistoryIntoTheKnownUserBucketByBucket() {
        UserFeatures anonymous = new UserFeatures(config);
        anonymous.add(event("product_view", T0));
        anonymous.add(event("add_to_cart", T0 + MINUTE, Map.of("category", "Men's Running Shoes")));
        UserFeatures known = new UserFeatures(config);
        known.add(event("product_view", T0 + 5 * MINUTE));
        known.add(event("order_completed", T0 - 3 * DAY, Map.of("revenue", 50.0)));
        known.merge(anonymous);
        FeatureSnapshot s = known.snapshot(T0 + 10 * MINUTE, NAMES);
        assertThat(s.count("1h", "product_view")).isEqualTo(2);
        assertThat(s.count("1h", "add_to_cart")).isEqualTo(1);
        assertThat(s.cartOpen()).isTrue();
        assertThat(s.categories24h()).contains("Men's Running Shoes");
        assertThat(s.monetaryValue90d()).isEqualTo(50.0);
    }

    @Test
    void theBinaryFormRoundTripsAndIsCompact() {
        UserFeatures f = new UserFeatures(config);
        for (int day = 0; day < 30; day++) {
            for (String name : List.of("page_view", "product_view", "feature_used")) {
                f.add(event(name, T0 + day * DAY + day * MINUTE, Map.of("feature", "dashboards")));
            }
        }
        long t = T0 + 30 * DAY;
        byte[] bytes = f.toBytes();
        UserFeatures back = UserFeatures.fromBytes(bytes, config);
        assertThat(back.snapshot(t, NAMES)).isEqualTo(f.snapshot(t, NAMES));
        assertThat(back.nextChange(t)).isEqualTo(f.nextChange(t));
        assertThat(bytes.length).as("a month of daily activity").isLessThan(1_200);
    }

    private UnifiedEvent event(String name, long t) {
        return event(name, t, Map.of());
    }

    @Test
    void theNextChangeIsWorkedOutAfreshAfterEveryKindOfChange() {
        // nextChange keeps its last answer while the state is unchanged: after an event (a late one too, at or before
        // the time asked), a fold or a prune, it must answer as a copy read back from bytes does.
        java.util.Random random = new java.util.Random(3);
        String[] names = {"page_view", "add_to_cart", "order_completed", "feature_used", "product_view"};
        java.util.function.Function<String, Set<Long>> windows = event -> event.equals("product_view")
                ? Set.of(2 * HOUR, 3 * DAY) : Set.of();
        UserFeatures f = new UserFeatures(FeatureConfig.defaults());
        long t = T0;
        for (int step = 0; step < 400; step++) {
            switch (random.nextInt(4)) {
                case 0 -> { // an event now, after a pause of minutes to days
                    t += random.nextBoolean() ? random.nextInt(90) * MINUTE : random.nextInt(4) * DAY;
                    f.add(event(names[random.nextInt(names.length)], t, Map.of("revenue", 10.0)));
                }
                // late, before the time asked: its minute bucket leaves the hour before what was due
                case 1 -> f.add(event(names[random.nextInt(names.length)], t - random.nextInt(120) * MINUTE,
                        Map.of("feature", "dashboards")));
                case 2 -> {
                    UserFeatures other = new UserFeatures(FeatureConfig.defaults());
                    other.add(event(names[random.nextInt(names.length)], t - random.nextInt(120) * MINUTE, Map.of()));
                    f.merge(other);
                }
                default -> {
                    t += random.nextInt(3) * DAY + random.nextInt(24) * HOUR;
                    f.prune(t);
                }
            }
            var fresh = UserFeatures.fromBytes(f.toBytes(), FeatureConfig.defaults()).nextChange(t, windows);
            assertThat(f.nextChange(t, windows)).as("step %d", step).isEqualTo(fresh);
            assertThat(f.nextChange(t, windows)).as("step %d, asked again", step).isEqualTo(fresh);
        }
    }

    /**
     * A prune before anything is due looks at the open session and the cart only: whatever came before it (events, late
     * ones, folds, prunes minutes or days apart), it must leave the state as a copy read back from bytes leaves it,
     * whose first prune walks everything, and the same timeline, before and after. Also with purchases alone and with feature times alone, passive and without
     * folds: otherwise something else due first (an active event's session, no later than its purchases and feature
     * time; a category viewed; a feature time before a purchase; a fold) walks them, so one that failed to set its
     * own due moment would still leave on time.
     */
    @Test
    void aPruneThatSkipsTheWalkDropsWhatAFullWalkDrops() {
        FeatureConfig defaults = FeatureConfig.defaults();
        pruneAgreesWithAFullWalk(defaults, true, "page_view", "add_to_cart", "order_completed", "feature_used",
                "product_view");
        for (String alone : List.of("order_completed", "feature_used")) {
            pruneAgreesWithAFullWalk(new FeatureConfig(defaults.keyFeatures(), 30, 30, List.of("order_completed"),
                    List.of(alone), null), false, alone);
        }
    }

    private void pruneAgreesWithAFullWalk(FeatureConfig config, boolean folds, String... names) {
        java.util.Random random = new java.util.Random(5);
        UserFeatures f = new UserFeatures(config);
        long t = T0;
        int dropped = 0;
        for (int step = 0; step < 3_000; step++) {
            switch (random.nextInt(5)) {
                case 0 -> f.add(event(names[random.nextInt(names.length)], t, Map.of("revenue", 10.0,
                        "feature", "f" + random.nextInt(3), "category", "c" + random.nextInt(3), "product_id", "p1",
                        "price", 5.0)));
                case 1 -> f.add(event(names[random.nextInt(names.length)], t - random.nextInt(200) * HOUR,
                        Map.of("feature", "late", "category", "old")));
                case 2 -> {
                    if (!folds) {
                        continue;
                    }
                    UserFeatures other = new UserFeatures(config);
                    other.add(event(names[random.nextInt(names.length)], t - random.nextInt(100) * DAY, Map.of()));
                    f.merge(other);
                }
                default -> t += switch (random.nextInt(4)) {
                    case 0 -> random.nextInt(5) * MINUTE + random.nextInt(60_000);
                    case 1 -> random.nextInt(90) * MINUTE;
                    case 2 -> random.nextInt(30) * HOUR;
                    default -> random.nextInt(40) * DAY;
                };
            }
            UserFeatures walked = UserFeatures.fromBytes(f.toBytes(), config);
            byte[] before = f.toBytes();
            // The timeline's entries are kept while their buckets stay as they are: each must be a fresh copy's.
            assertThat(f.timeline(t - HOUR).toMap()).as("timeline an hour back, step %d", step)
                    .isEqualTo(walked.timeline(t - HOUR).toMap());
            assertThat(f.timeline(t).toMap()).as("timeline, step %d", step).isEqualTo(walked.timeline(t).toMap());
            f.prune(t);
            walked.prune(t);
            assertThat(f.toBytes()).as("step %d", step).isEqualTo(walked.toBytes());
            assertThat(f.timeline(t).toMap()).as("timeline after the prune, step %d", step)
                    .isEqualTo(walked.timeline(t).toMap());
            dropped += java.util.Arrays.equals(before, f.toBytes()) ? 0 : 1;
        }
        assertThat(dropped).as("prunes that dropped something").isGreaterThan(300);
    }

    /**
     * {@link UserFeatures#nextDecision}: a moment before it, for a reader of no count but those the features are made
     * of ({@link FeatureSnapshot#COUNTS_IN_FEATURES}), moves no feature a rule or model reads other than the counts: the
     * engine then skips evaluating it. Random histories of every kind of event, walked moment by moment.
     */
    @Test
    void aMomentBeforeTheNextDecisionMovesNothingButCounts() {
        java.util.Random random = new java.util.Random(17);
        String[] names = {"page_view", "product_view", "add_to_cart", "order_completed", "email_opened",
                "email_clicked", "support_ticket_created", "feature_used", "checkout_started", "payment_succeeded"};
        java.util.function.ToIntFunction<String> inFeatures = event -> {
            int mask = 0;
            for (var entry : FeatureSnapshot.COUNTS_IN_FEATURES.entrySet()) {
                mask |= entry.getValue().contains(event) ? 1 << FeatureSnapshot.COUNT_WINDOWS.indexOf(entry.getKey()) : 0;
            }
            return mask;
        };
        java.util.function.Function<String, Set<Long>> noOperators = event -> Set.of();
        UserFeatures f = new UserFeatures(FeatureConfig.defaults());
        long t = T0;
        int skipped = 0;
        int decisions = 0;
        for (int i = 0; i < 300; i++) {
            String name = names[random.nextInt(names.length)];
            f.add(event(name, t, Map.of("revenue", 10.0 + random.nextInt(90), "feature", "f" + random.nextInt(4),
                    "category", "c" + random.nextInt(3), "product_id", "p" + random.nextInt(9),
                    "price", 5.0 * random.nextInt(20))));
            long nextEvent = t + (random.nextInt(5) == 0 ? random.nextInt(40) * DAY : random.nextInt(180) * MINUTE);
            Map<String, Object> before = readable(f.snapshot(t, NAMES));
            long at = t;
            for (long m = f.nextChange(at, noOperators, inFeatures).orElse(Long.MAX_VALUE); m < nextEvent;
                 m = f.nextChange(at, noOperators, inFeatures).orElse(Long.MAX_VALUE)) {
                long decision = f.nextDecision(at, noOperators, inFeatures);
                f.prune(m);
                Map<String, Object> now = readable(f.snapshot(m, NAMES));
                if (m < decision) {
                    assertThat(now).as("event %d, moment %d (next decision %d)", i, m, decision).isEqualTo(before);
                    skipped++;
                } else {
                    decisions++;
                }
                before = now;
                at = m;
            }
            t = nextEvent;
        }
        assertThat(skipped).as("moments that move counts alone, or end a session").isGreaterThan(500);
        assertThat(decisions).as("moments that move something else").isGreaterThan(1_000);
    }

    /** What a rule or model reads of a snapshot but the count maps and the event timeline. */
    private static Map<String, Object> readable(FeatureSnapshot snapshot) {
        Map<String, Object> values = new java.util.TreeMap<>(snapshot.ruleVariables());
        values.keySet().removeIf(name -> name.startsWith("count_") || name.equals("events"));
        snapshot.numeric().forEach((name, value) -> values.put("numeric " + name, value));
        return values;
    }

    /**
     * An event's time joins its name's latest times by one new array when it is the latest (the common case), and by
     * the general merge when it is late: both keep the latest {@code EventTimeline.RECENT}, in order.
     */
    @Test
    void theLatestTimesOfANameAreKeptInOrderWhateverOrderTheyCameIn() {
        java.util.Random random = new java.util.Random(11);
        for (int round = 0; round < 100; round++) {
            UserFeatures.Buckets one = new UserFeatures.Buckets();
            UserFeatures.Buckets merged = new UserFeatures.Buckets();
            long t = 1_000_000;
            for (int i = 0; i < 30; i++) {
                t += random.nextInt(4) - 1; // mostly later, some again, some late
                long[] before = one.recent;
                one.keepRecent(t);
                merged.keepRecent(new long[] {t});
                assertThat(one.recent).as("round %d, time %d", round, i).containsExactly(merged.recent);
                assertThat(one.recent).as("a new array: snapshots share the old one").isNotSameAs(before);
            }
        }
    }

    private UnifiedEvent event(String name, long t, Map<String, Object> properties) {
        return new UnifiedEvent("m" + seq++, EventType.TRACK, name, null, "u1", "u1", t, null, t, "web", null,
                properties, Map.of(), Map.of());
    }
}
