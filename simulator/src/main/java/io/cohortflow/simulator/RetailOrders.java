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
