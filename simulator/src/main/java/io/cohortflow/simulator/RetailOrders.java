package io.cohortflow.simulator;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A retailer's order history, the way a shop that knows nothing but its orders sees its customers: no page views, no
 * sessions, no email. Customers buy and drop out as in the "buy till you die" models (Pareto/NBD, BG/NBD) that retail
 * churn is judged by, so recency alone is a strong baseline, and one that the rest of the history can beat:
 * <ul>
 *   <li>each customer has an order rate of their own (gamma-distributed around their type's mean, so the types
 *       overlap), and after each order may drop out for good (their type's probability); a customer who drops out
 *       is never told apart from one who is merely between orders, except by how long that gap is for them;</li>
 *   <li>order values are log-normal around the customer's own mean basket, and bigger baskets hold more items;</li>
 *   <li>customers arrive all through the period, so tenure varies;</li>
 *   <li>rates drift slowly over the period (seasonality), and a few orders come in bursts (gifts, stocking up).</li>
 * </ul>
 * Deterministic for a seed.
 */
public final class RetailOrders {
    private static final long DAY = 86_400_000L;

    /** The customer types: their share, mean days between orders, dropout chance after an order, mean basket. */
    public enum CustomerType {
        LOYAL(0.15, 12, 0.02, 90),
        REGULAR(0.30, 30, 0.06, 60),
        OCCASIONAL(0.35, 75, 0.12, 45),
        BULK_BUYER(0.08, 60, 0.05, 600),
        ONE_OFF(0.12, 120, 0.6, 35);

        final double share;
        final double meanGapDays;
        final double dropout;
        final double meanBasket;

        CustomerType(double share, double meanGapDays, double dropout, double meanBasket) {
            this.share = share;
            this.meanGapDays = meanGapDays;
            this.dropout = dropout;
            this.meanBasket = meanBasket;
        }
    }

    /** One order: who (and their type, the ground truth), when, what it was worth, how many items. */
    public record Order(String customerId, CustomerType type, String orderId, long time, double revenue, int items) {
    }

    private RetailOrders() {
    }

    /** The orders of {@code customers} over {@code days} from {@code start}, in time order. */
    public static List<Order> generate(long seed, int customers, int days, Instant start) {
        SplittableRandom rng = new SplittableRandom(seed);
        List<Order> orders = new ArrayList<>();
        long begin = start.toEpochMilli();
        long end = begin + days * DAY;
        for (int c = 0; c < customers; c++) {
            CustomerType type = pick(rng);
            String id = Integer.toString(12_000 + c);
            // Gamma(shape 2) around the type's rate: a customer's own pace, overlapping the neighbouring types.
            double rate = gamma2(rng) / 2 / type.meanGapDays;
            double basket = type.meanBasket * Math.exp(0.4 * rng.nextGaussian(0, 1));
            // A third arrive before the history starts; the rest during it.
            long t = rng.nextDouble() < 0.33 ? begin - (long) (rng.nextDouble() * 180 * DAY)
                    : begin + (long) (rng.nextDouble() * days * 0.8 * DAY);
            int n = 0;
            while (t < end) {
                if (t >= begin) {
                    double value = Math.round(basket * Math.exp(0.5 * rng.nextGaussian(0, 1) - 0.125) * 100) / 100.0;
                    int items = 1 + (int) Math.min(20, Math.floor(-Math.log(1 - rng.nextDouble()) * (1 + basket / 80)));
                    orders.add(new Order(id, type, "o" + id + "-" + n, t, value, items));
                    if (rng.nextDouble() < 0.05) { // a burst: a second order within two days
                        long burst = t + (long) (rng.nextDouble() * 2 * DAY);
                        if (burst < end) {
                            orders.add(new Order(id, type, "o" + id + "-" + n + "b", burst, value / 2, Math.max(1, items / 2)));
                        }
                    }
                }
                n++;
                if (t >= begin && rng.nextDouble() < type.dropout) {
                    break; // gone for good
                }
                double season = 1 + 0.25 * Math.sin(2 * Math.PI * (t - begin) / (365.0 * DAY));
                double gapDays = -Math.log(1 - rng.nextDouble()) / (rate * season);
                t += (long) (Math.max(0.1, gapDays) * DAY);
            }
        }
        orders.sort(Comparator.comparingLong(Order::time).thenComparing(Order::orderId));
        return orders;
    }

    /**
     * The order as the track call a shop's site sends ({@code Order Completed}, Segment's e-commerce spec), received
     * when it happened.
     */
    public static byte[] trackCall(Order order) {
        Map<String, Object> properties = new LinkedHashMap<>();
        properties.put("order_id", order.orderId());
        properties.put("revenue", order.revenue());
        properties.put("currency", "GBP");
        properties.put("items", order.items());
        SimEvent event = new SimEvent("track", "Order Completed", null, order.customerId(), order.time(), 0, "web",
                properties, Map.of(), null);
        return Payloads.bytes(Payloads.segmentJson(event, "m-" + order.orderId(), order.time()));
    }

    /** What {@link #writeCsv} wrote: rows, invoices, and of those the cancellations and the guests' invoices. */
    public record Export(long rows, long invoices, long cancellations, long guestInvoices) {
    }

    /** The export's header: the layout of the UCI "Online Retail" dataset, which conf/sources/online-retail.yaml reads. */
    public static final String CSV_HEADER = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country";
    private static final java.time.format.DateTimeFormatter INVOICE_DATE =
            java.time.format.DateTimeFormatter.ofPattern("M/d/yyyy H:mm", java.util.Locale.ROOT)
                    .withZone(java.time.ZoneId.of("Europe/London"));
    private static final String[] PRODUCTS = {"WHITE HANGING HEART T-LIGHT HOLDER", "REGENCY CAKESTAND 3 TIER",
        "JUMBO BAG RED RETROSPOT", "PARTY BUNTING", "LUNCH BAG RED RETROSPOT", "ASSORTED COLOUR BIRD ORNAMENT",
        "SET OF 3 CAKE TINS PANTRY DESIGN", "PACK OF 72 RETROSPOT CAKE CASES", "NATURAL SLATE HEART CHALKBOARD",
        "HAND WARMER UNION JACK", "PAPER CHAIN KIT 50'S CHRISTMAS", "SPOTTY BUNTING", "JAM MAKING SET WITH JARS",
        "ALARM CLOCK BAKELIKE RED", "SET OF 4 PANTRY JELLY MOULDS", "HEART OF WICKER SMALL"};

    /**
     * The orders as a shop exports them: one row per invoice line in the layout of the UCI "Online Retail" dataset
     * ({@link #CSV_HEADER}), invoice dates as {@code M/d/yyyy H:mm} in London, customer ids as a spreadsheet writes
     * them ({@code 12000.0}). Each order's items are split over a few lines, priced per unit to the penny so that the
     * lines add up to the order's revenue within a penny a unit. As in real exports, some orders are partly cancelled a few days later (a
     * {@code C} invoice with negative quantities) and some invoices are guests' (no CustomerID). Deterministic.
     */
    public static Export writeCsv(List<Order> orders, java.nio.file.Path file, long seed) throws java.io.IOException {
        SplittableRandom rng = new SplittableRandom(seed);
        record Row(long time, String invoice, String code, String name, int quantity, double price, String customer) {
        }
        List<List<Row>> invoices = new ArrayList<>();
        int number = 536_365;
        long cancellations = 0;
        long guests = 0;
        long last = orders.isEmpty() ? 0 : orders.get(orders.size() - 1).time(); // the export's end: nothing after it
        for (Order order : orders) {
            String invoice = Integer.toString(number++);
            int lines = Math.min(order.items(), 1 + rng.nextInt(4));
            // The items over the lines (one or more each), and the money over them by random weights, priced per
            // unit to the penny: the export's own totals are then the truth, within a penny a unit of the order's.
            int[] quantities = new int[lines];
            java.util.Arrays.fill(quantities, 1);
            for (int left = order.items() - lines; left > 0; left--) {
                quantities[rng.nextInt(lines)]++;
            }
            double[] weights = new double[lines];
            double sum = 0;
            for (int l = 0; l < lines; l++) {
                weights[l] = quantities[l] * (0.5 + rng.nextDouble());
                sum += weights[l];
            }
            List<Row> rows = new ArrayList<>();
            for (int l = 0; l < lines; l++) {
                int product = rng.nextInt(PRODUCTS.length);
                long unitCents = Math.max(1, Math.round(order.revenue() * 100 * weights[l] / sum / quantities[l]));
                rows.add(new Row(order.time(), invoice, Integer.toString(20_000 + product * 37), PRODUCTS[product],
                        quantities[l], unitCents / 100.0, order.customerId()));
            }
            invoices.add(rows);
            long returnedAt = order.time() + (long) ((1 + rng.nextDouble() * 6) * DAY);
            if (rng.nextDouble() < 0.04 && returnedAt <= last) { // part of it comes back a few days later
                Row returned = rows.get(0);
                long at = returnedAt;
                invoices.add(List.of(new Row(at, "C" + number++, returned.code(), returned.name(),
                        -Math.max(1, returned.quantity() / 2), returned.price(), returned.customer())));
                cancellations++;
            }
            long guestAt = order.time() + (long) (rng.nextDouble() * 3_600_000L);
            if (rng.nextDouble() < 0.06 && guestAt <= last) { // a guest checks out around the same time
                long at = guestAt;
                invoices.add(List.of(new Row(at, Integer.toString(number++), "22423", PRODUCTS[1], 1, 12.75, null)));
                guests++;
            }
        }
        invoices.sort(Comparator.comparingLong((List<Row> rows) -> rows.get(0).time()));
        long rows = 0;
        try (var out = java.nio.file.Files.newBufferedWriter(file)) {
            out.write(CSV_HEADER);
            out.write('\n');
            for (List<Row> invoice : invoices) {
                for (Row r : invoice) {
                    out.write(String.join(",", r.invoice(), r.code(), '"' + r.name() + '"', Integer.toString(r.quantity()),
                            INVOICE_DATE.format(Instant.ofEpochMilli(r.time())),
                            java.math.BigDecimal.valueOf(r.price()).stripTrailingZeros().toPlainString(),
                            r.customer() == null ? "" : r.customer() + ".0", "United Kingdom"));
                    out.write('\n');
                    rows++;
                }
            }
        }
        return new Export(rows, invoices.size(), cancellations, guests);
    }

    private static CustomerType pick(SplittableRandom rng) {
        double r = rng.nextDouble();
        for (CustomerType type : CustomerType.values()) {
            r -= type.share;
            if (r < 0) {
                return type;
            }
        }
        return CustomerType.ONE_OFF;
    }

    /** Gamma(2, 1): the sum of two exponentials. */
    private static double gamma2(SplittableRandom rng) {
        return -Math.log(1 - rng.nextDouble()) - Math.log(1 - rng.nextDouble());
    }
}
