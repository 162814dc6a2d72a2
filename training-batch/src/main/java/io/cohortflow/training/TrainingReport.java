package io.cohortflow.training;

import io.cohortflow.core.model.ModelManifest;
import io.cohortflow.registry.ModelBundle;
import org.tribuo.Model;
import org.tribuo.classification.Label;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The training report: one self-contained HTML page (inline SVG, no scripts, no external files) stored next to the
 * models in the registry version. It shows the churn and bundle-propensity models (ROC curves, calibration, feature
 * weights, the comparison of model kinds, recency alone as the baseline), who was scored and their churn rates, the
 * warnings a reader must see (features dropped as constant, models skipped, personas that are not stable), the
 * persona clusters (sizes, profiles, silhouette and stability by k) and, when the ground truth of a simulation is
 * given, the agreement of clusters with the true personas.
 */
public final class TrainingReport {
    /**
     * One outcome model and the alternatives it was chosen over, best first; or none, and why it was skipped.
     *
     * @param score the score's name in the bundle ({@code churn}, {@code bundle_propensity})
     */
    public record Outcome(String title, String score, List<OutcomeTrainer.Trained> candidates, String skipped) {
        public Outcome {
            candidates = List.copyOf(candidates);
        }

        public java.util.Optional<OutcomeTrainer.Trained> trained() {
            return candidates.isEmpty() ? java.util.Optional.empty() : java.util.Optional.of(candidates.get(0));
        }
    }

    private TrainingReport() {
    }

    /**
     * What a reader must know when the chosen churn model ranks the holdout worse than recency alone does: a score
     * that one feature beats is no better than that feature, whatever else the model learnt. Null when it does not
     * (or when either AUC is unknown).
     */
    static String belowBaseline(Outcome churn, OutcomeTrainer.Metrics baseline) {
        if (baseline == null || Double.isNaN(baseline.auc()) || churn.trained().isEmpty()) {
            return null;
        }
        OutcomeTrainer.Trained chosen = churn.trained().get();
        double auc = chosen.metrics().auc();
        if (Double.isNaN(auc) || auc >= baseline.auc()) {
            return null;
        }
        return String.format(Locale.ROOT, "%s: the chosen model (%s) ranks the holdout below recency alone, "
                        + "AUC %.3f against %.3f",
                churn.title(), chosen.kind().description, auc, baseline.auc());
    }

    public static String html(ModelManifest manifest, List<Outcome> outcomes, OutcomeTrainer.Metrics churnBaseline,
                              ModelInputs inputs, PersonaTrainer.Clustering personas, Double ari,
                              Map<String, String> run) {
        StringBuilder h = new StringBuilder();
        h.append("<!doctype html><html><head><meta charset=\"utf-8\"><title>").append(esc(manifest.name()))
                .append(" v").append(manifest.version()).append(" training report</title><style>")
                .append("body{font:14px system-ui,sans-serif;margin:2em;max-width:1100px;color:#222}")
                .append("table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}")
                .append("th{background:#f4f4f4}td:first-child,th:first-child{text-align:left}svg{margin:.5em 1em .5em 0}")
                .append(".row{display:flex;flex-wrap:wrap;align-items:flex-start}")
                .append(".warn{background:#fff4e5;border-left:4px solid #f0a030;padding:.5em 1em}</style></head><body>");
        h.append("<h1>").append(esc(manifest.name())).append(" v").append(manifest.version()).append("</h1>");
        h.append("<p>Trained ").append(esc(manifest.createdAt())).append(" on history up to ")
                .append(esc(manifest.trainingTo())).append(": ").append(manifest.rows()).append(" rows, ")
                .append(manifest.users()).append(" holdout users. Feature schema ")
                .append(esc(String.join(", ", manifest.featureSchema()))).append(" (hash ")
                .append(manifest.featureSchemaHash(), 0, 12).append(").</p><table>");
        run.forEach((k, v) -> h.append("<tr><td>").append(esc(k)).append("</td><td>").append(esc(v)).append("</td></tr>"));
        h.append("</table>");
        List<String> warnings = new ArrayList<>();
        if (!inputs.dropped().isEmpty()) {
            warnings.add("Constant in the training rows, so not used by the models: " + String.join(", ", inputs.dropped())
                    + ". The source sends nothing these features are computed from.");
        }
        for (Outcome outcome : outcomes) {
            if (outcome.skipped() != null) {
                warnings.add(outcome.title() + " skipped: " + outcome.skipped() + ". The bundle gives no '"
                        + outcome.score() + "' score; the other models are published as usual.");
            }
        }
        outcomes.stream().filter(o -> ModelBundle.CHURN_SCORE.equals(o.score()))
                .map(o -> belowBaseline(o, churnBaseline)).filter(java.util.Objects::nonNull)
                .forEach(w -> warnings.add(w + "."));
        personas.warnings().forEach(w -> warnings.add("Personas: " + w + "."));
        if (!warnings.isEmpty()) {
            h.append("<div class=\"warn\"><b>Warnings</b><ul>");
            warnings.forEach(w -> h.append("<li>").append(esc(w)).append("</li>"));
            h.append("</ul></div>");
        }

        for (Outcome outcome : outcomes) {
            if (outcome.trained().isEmpty()) {
                h.append("<h2>").append(esc(outcome.title())).append("</h2><p><b>Skipped</b>: ")
                        .append(esc(outcome.skipped())).append(".</p>");
                continue;
            }
            OutcomeTrainer.Trained chosen = outcome.trained().get();
            OutcomeTrainer.Metrics m = chosen.metrics();
            boolean churn = ModelBundle.CHURN_SCORE.equals(outcome.score());
            h.append("<h2>").append(esc(outcome.title())).append("</h2><p>Chosen: <b>").append(chosen.kind().description)
                    .append("</b>. Time-based holdout: ").append(m.examples()).append(" users, ").append(m.positives())
                    .append(" positive.</p><table><tr><th>model</th><th>ROC AUC</th><th>precision @").append(fmt(m.threshold()))
                    .append("</th><th>recall @").append(fmt(m.threshold())).append("</th><th>Brier</th></tr>");
            for (OutcomeTrainer.Trained t : outcome.candidates()) {
                OutcomeTrainer.Metrics tm = t.metrics();
                h.append("<tr><td>").append(t.kind().description).append(t == chosen ? " (chosen)" : "").append("</td><td>")
                        .append(fmt(tm.auc())).append("</td><td>").append(fmt(tm.precision())).append("</td><td>")
                        .append(fmt(tm.recall())).append("</td><td>").append(fmt(tm.brier())).append("</td></tr>");
            }
            if (churn && churnBaseline != null) {
                h.append("<tr><td>recency alone (baseline)</td><td>").append(fmt(churnBaseline.auc()))
                        .append("</td><td></td><td></td><td></td></tr>");
            }
            h.append("</table><div class=\"row\">");
            h.append(roc(outcome.candidates(), churn ? churnBaseline : null));
            h.append(calibration(m.calibration()));
            h.append(weights(chosen.model()));
            h.append("</div>");
        }

        String[] features = personas.inputs().nameArray();
        h.append("<h2>Personas</h2><p>K-Means, k = ").append(personas.k()).append(", silhouette ")
                .append(fmt(personas.silhouette())).append(", stability across ").append(PersonaTrainer.SEEDS)
                .append(" seeds (lowest adjusted Rand index between them) <b>").append(fmt(personas.stability()))
                .append("</b>. Each seed's clustering is the lowest-inertia of ").append(PersonaTrainer.RESTARTS)
                .append(" k-means++ restarts, and the model is the lowest-inertia of the seeds' clusterings.");
        h.append(ari == null ? "" : " Adjusted Rand index against the simulator's true personas: <b>" + fmt(ari) + "</b>.");
        h.append("</p><table><tr><th>k</th><th>silhouette</th><th>stability (ARI)</th><th>smallest cluster</th></tr>");
        personas.byK().forEach((k, f) -> h.append("<tr><td>").append(k).append(k == personas.k() ? " (chosen)" : "")
                .append("</td><td>").append(fmt(f.silhouette())).append("</td><td>").append(fmt(f.stability()))
                .append("</td><td>").append(String.format(Locale.ROOT, "%.1f%%", 100 * f.smallestShare()))
                .append(f.refused() ? " (refused)" : "").append("</td></tr>"));
        h.append("</table><div class=\"row\">").append(sizes(personas.profiles()))
                .append(profiles(personas.profiles(), features))
                .append("</div><table><tr><th>persona</th><th>users</th>");
        for (String f : features) {
            h.append("<th>").append(f).append("</th>");
        }
        h.append("</tr>");
        for (ModelBundle.Persona p : personas.profiles()) {
            h.append("<tr><td>").append(esc(p.name())).append("</td><td>").append(p.size()).append("</td>");
            for (String f : features) {
                h.append("<td>").append(fmt(p.centroid().get(f))).append("</td>");
            }
            h.append("</tr>");
        }
        h.append("</table><p>Centroids in the features' units; the heat map shows them in standard deviations from the "
                + "mean (money and counts logged first), which is what the names (conf/personas.yaml, "
                + "vocabulary '" + esc(manifest.provenance().getOrDefault("business", "")) + "') are chosen from. "
                + "Every user's persona and scores are in " + UserScores.FILE + " next to this report.</p></body></html>");
        return h.toString();
    }

    /** The candidates' ROC curves and the baseline's (grey), with a legend below the plot. */
    private static String roc(List<OutcomeTrainer.Trained> candidates, OutcomeTrainer.Metrics baseline) {
        String[] colours = {"#1f77b4", "#ff7f0e", "#2ca02c"};
        List<String[]> curves = new ArrayList<>(); // {colour, label}
        List<double[][]> points = new ArrayList<>();
        for (int c = 0; c < candidates.size(); c++) {
            curves.add(new String[] {colours[c % colours.length], candidates.get(c).kind().description.split(" \\(")[0]
                    + " " + fmt(candidates.get(c).metrics().auc())});
            points.add(candidates.get(c).metrics().roc());
        }
        if (baseline != null) {
            curves.add(new String[] {"#888", "recency alone " + fmt(baseline.auc())});
            points.add(baseline.roc());
        }
        StringBuilder s = chart("ROC curve (holdout)", "false positive rate", "true positive rate", 16 * curves.size());
        s.append("<line x1=\"40\" y1=\"240\" x2=\"240\" y2=\"40\" stroke=\"#bbb\" stroke-dasharray=\"4\"/>");
        for (int c = 0; c < curves.size(); c++) {
            double[][] roc = points.get(c);
            s.append("<polyline fill=\"none\" stroke=\"").append(curves.get(c)[0]).append("\" points=\"");
            int step = Math.max(1, roc[0].length / 400);
            for (int i = 0; i < roc[0].length; i += step) {
                s.append(x(roc[0][i])).append(',').append(y(roc[1][i])).append(' ');
            }
            int ly = 290 + 16 * c;
            s.append(x(1)).append(',').append(y(1)).append("\"/><line x1=\"40\" y1=\"").append(ly - 4)
                    .append("\" x2=\"60\" y2=\"").append(ly - 4).append("\" stroke=\"").append(curves.get(c)[0])
                    .append("\" stroke-width=\"2\"/><text x=\"66\" y=\"").append(ly).append("\" font-size=\"11\">")
                    .append(esc(curves.get(c)[1])).append("</text>");
        }
        return s.append("</svg>").toString();
    }

    private static String calibration(double[][] bins) {
        StringBuilder s = chart("Calibration (holdout)", "predicted probability", "observed rate", 0);
        s.append("<line x1=\"40\" y1=\"240\" x2=\"240\" y2=\"40\" stroke=\"#bbb\" stroke-dasharray=\"4\"/><polyline fill=\"none\" stroke=\"#1f77b4\" points=\"");
        List<String> dots = new ArrayList<>();
        for (double[] bin : bins) {
            if (bin[2] > 0) {
                s.append(x(bin[0])).append(',').append(y(bin[1])).append(' ');
                dots.add("<circle cx=\"" + x(bin[0]) + "\" cy=\"" + y(bin[1]) + "\" r=\""
                        + fmt(Math.min(8, 2 + Math.log10(bin[2]) * 1.5)) + "\" fill=\"#1f77b4\"><title>"
                        + (long) bin[2] + " users</title></circle>");
            }
        }
        s.append("\"/>");
        dots.forEach(s::append);
        return s.append("</svg>").toString();
    }

    private static String weights(Model<Label> model) {
        Map<String, List<com.oracle.labs.mlrg.olcut.util.Pair<String, Double>>> top = model.getTopFeatures(-1);
        List<com.oracle.labs.mlrg.olcut.util.Pair<String, Double>> weights = top.getOrDefault(
                ModelBundle.POSITIVE.getLabel(), top.values().stream().findFirst().orElse(List.of()));
        if (weights.isEmpty()) {
            return "";
        }
        double max = weights.stream().mapToDouble(p -> Math.abs(p.getB())).max().orElse(1);
        int height = 30 + 22 * weights.size();
        StringBuilder s = new StringBuilder("<svg width=\"360\" height=\"" + height + "\" xmlns=\"http://www.w3.org/2000/svg\">"
                + "<text x=\"0\" y=\"14\" font-weight=\"bold\">Feature weights (standardised)</text>"
                + "<line x1=\"240\" y1=\"22\" x2=\"240\" y2=\"" + (height - 4) + "\" stroke=\"#999\"/>");
        int row = 0;
        for (var w : weights) {
            double len = 100 * Math.abs(w.getB()) / max;
            double left = w.getB() >= 0 ? 240 : 240 - len;
            int yy = 28 + 22 * row++;
            s.append("<text x=\"0\" y=\"").append(yy + 12).append("\" font-size=\"12\">").append(esc(w.getA()))
                    .append("</text><rect x=\"").append(fmt(left)).append("\" y=\"").append(yy).append("\" width=\"")
                    .append(fmt(len)).append("\" height=\"16\" fill=\"").append(w.getB() >= 0 ? "#d62728" : "#2ca02c")
                    .append("\"><title>").append(fmt(w.getB())).append("</title></rect>");
        }
        return s.append("</svg>").toString();
    }

    private static String sizes(List<ModelBundle.Persona> personas) {
        long max = personas.stream().mapToLong(ModelBundle.Persona::size).max().orElse(1);
        int height = 30 + 22 * personas.size();
        StringBuilder s = new StringBuilder("<svg width=\"460\" height=\"" + height + "\" xmlns=\"http://www.w3.org/2000/svg\">"
                + "<text x=\"0\" y=\"14\" font-weight=\"bold\">Cluster sizes</text>");
        int row = 0;
        for (ModelBundle.Persona p : personas) {
            int yy = 28 + 22 * row++;
            double len = 180.0 * p.size() / max;
            s.append("<text x=\"0\" y=\"").append(yy + 12).append("\" font-size=\"12\">").append(esc(p.name()))
                    .append("</text><rect x=\"230\" y=\"").append(yy).append("\" width=\"").append(fmt(len))
                    .append("\" height=\"16\" fill=\"#9467bd\"/><text x=\"").append(fmt(234 + len)).append("\" y=\"")
                    .append(yy + 12).append("\" font-size=\"11\">").append(p.size()).append("</text>");
        }
        return s.append("</svg>").toString();
    }

    /** A heat map of the centroids in standard deviations: red above the mean, blue below. */
    private static String profiles(List<ModelBundle.Persona> personas, String[] features) {
        int cell = 46;
        int left = 230;
        int height = 110 + 22 * personas.size();
        StringBuilder s = new StringBuilder("<svg width=\"" + (left + cell * features.length + 10) + "\" height=\""
                + height + "\" xmlns=\"http://www.w3.org/2000/svg\"><text x=\"0\" y=\"14\" font-weight=\"bold\">"
                + "Cluster profiles (standard deviations from the mean)</text>");
        for (int j = 0; j < features.length; j++) {
            s.append("<text font-size=\"10\" transform=\"translate(").append(left + cell * j + 20).append(",100) rotate(-45)\">")
                    .append(features[j]).append("</text>");
        }
        int row = 0;
        for (ModelBundle.Persona p : personas) {
            int yy = 106 + 22 * row++;
            s.append("<text x=\"0\" y=\"").append(yy + 14).append("\" font-size=\"12\">").append(esc(p.name())).append("</text>");
            for (int j = 0; j < features.length; j++) {
                double z = p.zScores().getOrDefault(features[j], 0.0);
                double a = Math.min(1, Math.abs(z) / 2);
                String colour = z >= 0 ? "214,39,40" : "31,119,180";
                s.append("<rect x=\"").append(left + cell * j).append("\" y=\"").append(yy).append("\" width=\"")
                        .append(cell - 2).append("\" height=\"20\" fill=\"rgba(").append(colour).append(',').append(fmt(a))
                        .append(")\"/><text x=\"").append(left + cell * j + 6).append("\" y=\"").append(yy + 14)
                        .append("\" font-size=\"10\">").append(String.format(Locale.ROOT, "%+.1f", z)).append("</text>");
            }
        }
        return s.append("</svg>").toString();
    }

    /** A 200 x 200 plot area with axes; {@code below} pixels more under it for a legend. */
    private static StringBuilder chart(String title, String xLabel, String yLabel, int below) {
        StringBuilder s = new StringBuilder("<svg width=\"270\" height=\"" + (280 + below)
                + "\" xmlns=\"http://www.w3.org/2000/svg\">");
        s.append("<text x=\"40\" y=\"20\" font-weight=\"bold\">").append(title).append("</text>")
                .append("<rect x=\"40\" y=\"40\" width=\"200\" height=\"200\" fill=\"none\" stroke=\"#999\"/>")
                .append("<text x=\"90\" y=\"268\" font-size=\"11\">").append(xLabel).append("</text>")
                .append("<text font-size=\"11\" transform=\"translate(28,200) rotate(-90)\">").append(yLabel).append("</text>")
                .append("<text x=\"36\" y=\"254\" font-size=\"10\">0</text><text x=\"236\" y=\"254\" font-size=\"10\">1</text>")
                .append("<text x=\"30\" y=\"44\" font-size=\"10\">1</text>");
        return s;
    }

    private static String x(double v) {
        return fmt(40 + 200 * v);
    }

    private static String y(double v) {
        return fmt(240 - 200 * v);
    }

    private static String fmt(Double v) {
        return v == null || v.isNaN() ? "n/a" : String.format(Locale.ROOT, "%.3f", v);
    }

    private static String esc(String s) {
        return s == null ? "" : s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
