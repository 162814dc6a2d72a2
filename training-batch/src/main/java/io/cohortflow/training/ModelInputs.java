package io.cohortflow.training;

import io.cohortflow.core.feature.FeatureSnapshot;
import org.tribuo.transform.Transformation;
import org.tribuo.transform.TransformationMap;
import org.tribuo.transform.transformations.MeanStdDevTransformation;
import org.tribuo.transform.transformations.SimpleTransform;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Which of the model features a training run uses, and on what scale.
 *
 * <ul>
 *   <li>A feature that is constant in the training rows tells the models nothing: it is dropped and reported (a
 *       purchase-only source has no sessions longer than zero, no tickets, no email). The models know only the
 *       features they use, and the bundle's scorer passes them by name.</li>
 *   <li>Money, counts and days are heavy-tailed: one customer with 100 orders would stretch a standardised axis so
 *       far that everyone else sits at one end of it. They are taken as log(1 + x) (negative values, refunds
 *       outweighing orders, as 0) before standardising, for the classifiers and for K-Means alike. The transforms
 *       are part of the Tribuo models, so the stream scores on the same scale.</li>
 * </ul>
 *
 * @param names     the features used, in {@link FeatureSnapshot#MODEL_FEATURES} order
 * @param indexes   their positions in a full model vector
 * @param dropped   the features left out, constant in the training rows
 * @param mean      per used feature, the mean on the model's scale (after the log where there is one)
 * @param sd        per used feature, the standard deviation on that scale
 */
public record ModelInputs(List<String> names, int[] indexes, List<String> dropped, double[] mean, double[] sd) {
    /**
     * Features whose values are money, counts or spans of days: log-scaled. Only the adoption rate stays linear. On
     * the log scale a linear model can weigh recency against a customer's own pace (log recency − log of the usual
     * gap, which purchases and tenure give): 40 days without an order is alarming for a weekly buyer and nothing for
     * a quarterly one.
     */
    public static final Set<String> LOG_SCALED = Set.of("recency", "frequency_30d", "monetary_value_90d",
            "support_tickets_60d", "avg_session_duration", "cart_adds_30d", "email_engagement_30d", "purchases_365d",
            "monetary_value_365d", "tenure_days", "overdue_purchases", "cart_value", "max_price_viewed_24h",
            "categories_after_cart_24h");

    /**
     * Features the classifiers use but K-Means does not: {@code overdue_purchases} is recency over the customer's own
     * pace, made of axes the clustering already has (recency, purchases, tenure). In a distance it would count recency
     * twice, and the clusters would split on how lapsed people are rather than on who they are (on the simulator it
     * took persona stability across seeds from 0.9 to 0.83). Nor what a shopper does today (the cart's value, the
     * dearest product viewed, the categories browsed around the cart): a persona is who someone is over months, and
     * these change by the hour.
     */
    public static final Set<String> NOT_FOR_PERSONAS = Set.of("overdue_purchases", "cart_value",
            "max_price_viewed_24h", "categories_after_cart_24h");

    public ModelInputs {
        names = List.copyOf(names);
        dropped = List.copyOf(dropped);
    }

    /** The inputs for {@code rows} (full model vectors): the varying features, with their scale fitted on the rows. */
    public static ModelInputs of(List<double[]> rows) {
        return of(rows, Set.of());
    }

    /** {@link #of(List)} for K-Means: without {@link #NOT_FOR_PERSONAS}. */
    public static ModelInputs forPersonas(List<double[]> rows) {
        return of(rows, NOT_FOR_PERSONAS);
    }

    private static ModelInputs of(List<double[]> rows, Set<String> leftOut) {
        List<String> all = FeatureSnapshot.MODEL_FEATURES;
        List<String> names = new ArrayList<>();
        List<Integer> indexes = new ArrayList<>();
        List<String> dropped = new ArrayList<>();
        List<double[]> moments = new ArrayList<>();
        for (int j = 0; j < all.size(); j++) {
            if (leftOut.contains(all.get(j))) {
                continue;
            }
            boolean log = LOG_SCALED.contains(all.get(j));
            // Constant on the model's scale: refunds only, all clamped to 0 by the log, count as constant too.
            double first = rows.isEmpty() ? 0 : scale(rows.get(0)[j], log);
            boolean varies = false;
            double sum = 0;
            double squares = 0;
            for (double[] row : rows) {
                double v = scale(row[j], log);
                varies |= v != first;
                sum += v;
                squares += v * v;
            }
            if (!varies) {
                dropped.add(all.get(j));
                continue;
            }
            names.add(all.get(j));
            indexes.add(j);
            double mean = sum / rows.size();
            // As Tribuo's MeanStdDevTransformation: the sample standard deviation.
            moments.add(new double[] {mean, Math.sqrt(Math.max(0, (squares - rows.size() * mean * mean)
                    / Math.max(1, rows.size() - 1)))});
        }
        return new ModelInputs(names, indexes.stream().mapToInt(Integer::intValue).toArray(), dropped,
                moments.stream().mapToDouble(m -> m[0]).toArray(), moments.stream().mapToDouble(m -> m[1]).toArray());
    }

    private static double scale(double v, boolean log) {
        return log ? Math.log1p(Math.max(0, v)) : v;
    }

    public String[] nameArray() {
        return names.toArray(String[]::new);
    }

    /** The used features of a full model vector, in their own units. */
    public double[] select(double[] full) {
        double[] v = new double[indexes.length];
        for (int k = 0; k < indexes.length; k++) {
            v[k] = full[indexes[k]];
        }
        return v;
    }

    /** A full model vector on the models' scale: logged where that applies, then standardised. */
    public double[] standardised(double[] full) {
        double[] v = new double[indexes.length];
        for (int k = 0; k < indexes.length; k++) {
            double x = scale(full[indexes[k]], LOG_SCALED.contains(names.get(k)));
            v[k] = sd[k] == 0 ? 0 : (x - mean[k]) / sd[k];
        }
        return v;
    }

    /** The same scaling as Tribuo transformations, fitted by the trainer on the training rows: part of each model. */
    public TransformationMap transformations() {
        Map<String, List<Transformation>> perFeature = new HashMap<>();
        for (String name : names) {
            perFeature.put(name, LOG_SCALED.contains(name)
                    ? List.of(SimpleTransform.threshold(0, Double.MAX_VALUE), SimpleTransform.add(1), SimpleTransform.log(),
                            new MeanStdDevTransformation())
                    : List.of(new MeanStdDevTransformation()));
        }
        return new TransformationMap(perFeature);
    }
}
