package dptrain.report;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dptrain.driver.files.AtomicFiles;
import dptrain.driver.inference.RegressionEvaluation;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.jfree.chart.ChartUtils;

/**
 * A run's report, from the history.json and provenance.json in its output folder:
 * {@code report.html} (one self-contained page: the training curves, where each round's time went,
 * throughput, the test confusion matrix, a binary classifier's test ROC curve, provenance and
 * parameters; charts inline as SVG, nothing fetched from the network) and {@code history.png}
 * (loss and accuracy per epoch).
 */
public final class TrainingReport {
    public static final String HTML = "report.html";
    public static final String PNG = "history.png";

    private static final ObjectMapper JSON = new ObjectMapper();

    private final RunRecord run;

    private TrainingReport(RunRecord run) {
        this.run = run;
    }

    /** Reads {@code folder}'s history.json and provenance.json; an InputException names a missing or bad file. */
    public static TrainingReport read(String folder, Configuration conf) {
        return new TrainingReport(RunRecord.read(folder, conf));
    }

    /** Writes report.html and history.png into {@code folder}, each replaced atomically. */
    public void write(String folder, Configuration conf) {
        AtomicFiles files = new AtomicFiles(conf);
        byte[] png = png();
        byte[] html = html().getBytes(StandardCharsets.UTF_8);
        files.write(new Path(folder, PNG), out -> out.write(png));
        files.write(new Path(folder, HTML), out -> out.write(html));
    }

    /** history.png: loss and accuracy, training against validation, per epoch. */
    byte[] png() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            ChartUtils.writeChartAsPNG(out, ReportCharts.history(run.epochs(), run.primaryMetric()), 900, 700);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    /** report.html's text. */
    String html() {
        StringBuilder h = new StringBuilder(64 * 1024);
        JsonNode p = run.provenance();
        String title = "dptrain report: " + text(p.path("parameters").path("output"));
        h.append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
                // Self-contained: the page may use nothing but its own inline styles and data: images.
                .append("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
                        + "style-src 'unsafe-inline'; img-src data:\">\n")
                .append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
                .append("<title>").append(escape(title)).append("</title>\n<style>\n").append(STYLE)
                .append("</style>\n</head>\n<body>\n<h1>").append(escape(title)).append("</h1>\n");
        summary(h);
        h.append("<h2>Training curves</h2>\n<div class=\"charts\">\n");
        figure(h, "loss-chart", ReportCharts.svg(ReportCharts.curves("Loss per epoch", "Loss", run.epochs(),
                RunRecord.Epoch::loss, RunRecord.Epoch::valLoss), "loss-chart", 560, 360),
                "Training and validation loss after each epoch. Validation loss rising while training loss "
                        + "falls is overfitting.");
        String metric = run.primaryMetric();
        String axis = ReportCharts.axisName(metric);
        figure(h, metric + "-chart", ReportCharts.svg(ReportCharts.curves(axis + " per epoch", axis,
                run.epochs(), e -> e.metric(metric), e -> e.valMetric(metric)), metric + "-chart", 560, 360),
                run.regression()
                        ? "Training " + axis + " (measured during the epoch) and validation " + axis + " (after it); "
                                + "lower is better."
                        : "Training accuracy (measured during the epoch) and validation accuracy (after it).");
        h.append("</div>\n");
        if (run.test() != null && run.test().actual().length > 0) {
            h.append("<h2>Test predictions</h2>\n<div class=\"charts\">\n");
            figure(h, "predicted-actual-chart", ReportCharts.svg(ReportCharts.predictedAgainstActual(
                    run.test().actual(), run.test().predicted()), "predicted-actual-chart", 560, 420),
                    "Each point is a test target value ("
                            + (run.test().actual().length >= RegressionEvaluation.SAMPLE_SIZE
                                    ? "a seeded sample of " + run.test().actual().length
                                    : "all " + run.test().actual().length)
                            + ") against the model's prediction of it; a perfect model's points lie on the diagonal.");
            h.append("</div>\n");
        }
        if (!run.rounds().isEmpty()) {
            h.append("<h2>Where the time went</h2>\n<div class=\"charts\">\n");
            figure(h, "timing-chart", ReportCharts.svg(ReportCharts.timing(run.rounds()), "timing-chart", 560, 360),
                    "Each averaging round: broadcasting the state, the slowest replica's compute, combining the "
                            + "replicas' results, Spark scheduling and transfer, and the driver's update.");
            figure(h, "throughput-chart", ReportCharts.svg(ReportCharts.throughput(run.rounds()), "throughput-chart",
                    560, 360), "Training examples per second of each round's wall time.");
            h.append("</div>\n");
            timeTable(h);
        }
        confusion(h);
        roc(h);
        epochTable(h);
        provenance(h);
        h.append("</body>\n</html>\n");
        return h.toString();
    }

    private void summary(StringBuilder h) {
        List<RunRecord.Epoch> epochs = run.epochs();
        RunRecord.Epoch last = epochs.get(epochs.size() - 1);
        h.append("<table class=\"summary\" id=\"summary\">\n");
        row(h, "Epochs", Integer.toString(epochs.size()));
        String names = "loss / " + String.join(" / ", run.metrics());
        row(h, "Final training " + names, number(last.loss()) + " / " + numbers(run.metrics(), last::metric));
        if (Double.isFinite(last.valLoss())) {
            row(h, "Final validation " + names, number(last.valLoss()) + " / "
                    + numbers(run.metrics(), last::valMetric));
        }
        if (run.test() != null) {
            RunRecord.Test test = run.test();
            row(h, "Test " + names, number(test.loss()) + " / "
                    + numbers(run.metrics(), m -> test.metrics().getOrDefault(m, Double.NaN)) + " ("
                    + test.examples() + " examples)");
            if (Double.isFinite(test.r2())) {
                row(h, "Test R²", number(test.r2()));
            }
        }
        RunRecord.Binary binary = run.binary();
        if (binary != null) {
            row(h, "Test precision / recall / F1 at threshold " + binary.threshold(), number(binary.precision())
                    + " / " + number(binary.recall()) + " / " + number(binary.f1()));
            row(h, "Test ROC AUC / PR AUC", number(binary.rocAuc()) + " / " + number(binary.prAuc()));
        }
        double seconds = epochs.stream().mapToDouble(RunRecord.Epoch::seconds).sum();
        row(h, "Training time", String.format(Locale.ROOT, "%.1f s", seconds));
        if (!run.rounds().isEmpty()) {
            long examples = run.rounds().stream().mapToLong(RunRecord.Round::examples).sum();
            double roundSeconds = run.rounds().stream().mapToDouble(RunRecord.Round::seconds).sum();
            row(h, "Examples per second (rounds' wall time)",
                    String.format(Locale.ROOT, "%.0f", roundSeconds > 0 ? examples / roundSeconds : 0));
            row(h, "Averaging rounds", Integer.toString(run.rounds().size()));
        }
        h.append("</table>\n");
    }

    /** The values of {@code metrics}, " / "-separated. */
    private static String numbers(List<String> metrics, java.util.function.ToDoubleFunction<String> value) {
        StringBuilder text = new StringBuilder();
        for (String metric : metrics) {
            text.append(text.length() == 0 ? "" : " / ").append(number(value.applyAsDouble(metric)));
        }
        return text.toString();
    }

    private void timeTable(StringBuilder h) {
        double[] totals = new double[5];
        double all = 0;
        for (RunRecord.Round r : run.rounds()) {
            double[] parts = {r.broadcastSeconds(), r.computeSeconds(), r.combineSeconds(), r.schedulingSeconds(),
                r.updateSeconds()};
            for (int i = 0; i < parts.length; i++) {
                totals[i] += Double.isFinite(parts[i]) ? parts[i] : 0;
            }
            all += r.seconds();
        }
        String[] names = {"Broadcast", "Compute (slowest replica)", "Combine", "Scheduling and transfer", "Update"};
        h.append("<table id=\"time-table\">\n<thead><tr><th>Part of the rounds</th><th>Seconds</th><th>Share</th>"
                + "</tr></thead>\n<tbody>\n");
        for (int i = 0; i < names.length; i++) {
            h.append("<tr><td>").append(names[i]).append("</td><td class=\"num\">")
                    .append(String.format(Locale.ROOT, "%.3f", totals[i])).append("</td><td class=\"num\">")
                    .append(all > 0 ? String.format(Locale.ROOT, "%.1f%%", 100 * totals[i] / all) : "")
                    .append("</td></tr>\n");
        }
        h.append("<tr><th>All rounds</th><td class=\"num\">").append(String.format(Locale.ROOT, "%.3f", all))
                .append("</td><td></td></tr>\n</tbody>\n</table>\n");
    }

    private void confusion(StringBuilder h) {
        RunRecord.Confusion c = run.confusion();
        if (c == null) {
            return;
        }
        h.append("<h2>Test confusion matrix</h2>\n<p>Rows are the true classes, columns the predicted ones; ")
                .append(c.total()).append(" test examples. The diagonal holds the correct predictions.</p>\n")
                .append("<table class=\"confusion\" id=\"confusion-matrix\">\n<thead><tr><th>true \\ predicted</th>");
        for (String label : c.labels()) {
            h.append("<th scope=\"col\">").append(escape(label)).append("</th>");
        }
        h.append("<th scope=\"col\">total</th></tr></thead>\n<tbody>\n");
        for (int t = 0; t < c.counts().length; t++) {
            long rowTotal = 0;
            for (long v : c.counts()[t]) {
                rowTotal += v;
            }
            h.append("<tr><th scope=\"row\">").append(escape(c.labels().get(t))).append("</th>");
            for (int p = 0; p < c.counts()[t].length; p++) {
                long v = c.counts()[t][p];
                double share = rowTotal > 0 ? (double) v / rowTotal : 0;
                String color = t == p ? "44,160,44" : "214,39,40";
                h.append("<td class=\"count").append(t == p ? " diagonal" : "").append("\" style=\"background: rgba(")
                        .append(color).append(',').append(String.format(Locale.ROOT, "%.3f", share)).append(")\">")
                        .append(v).append("</td>");
            }
            h.append("<td class=\"num total\">").append(rowTotal).append("</td></tr>\n");
        }
        h.append("</tbody>\n</table>\n");
    }

    /** A binary classifier's ROC curve on the test data, when there is one. */
    private void roc(StringBuilder h) {
        RunRecord.Binary b = run.binary();
        if (b == null || b.falsePositiveRates().length == 0) {
            return;
        }
        h.append("<h2>Test ROC curve</h2>\n<div class=\"charts\">\n");
        figure(h, "roc-chart", ReportCharts.svg(ReportCharts.roc(b.falsePositiveRates(), b.truePositiveRates(),
                b.rocAuc()), "roc-chart", 560, 420), "True positive rate (recall of class 1) against false positive "
                        + "rate as the threshold falls, from Spark's BinaryClassificationMetrics on the test data; the "
                        + "area under it is the ROC AUC. The dashed diagonal is a classifier that guesses.");
        h.append("</div>\n");
    }

    private void epochTable(StringBuilder h) {
        h.append("<h2>Epochs</h2>\n<table id=\"epoch-table\">\n<thead><tr><th>Epoch</th><th>Loss</th>");
        run.metrics().forEach(m -> h.append("<th>").append(ReportCharts.axisName(m)).append("</th>"));
        h.append("<th>Validation loss</th>");
        run.metrics().forEach(m -> h.append("<th>Validation ").append(m.equals("accuracy") ? "accuracy"
                : ReportCharts.axisName(m)).append("</th>"));
        h.append("<th>Seconds</th><th>Examples</th></tr></thead>\n<tbody>\n");
        for (RunRecord.Epoch e : run.epochs()) {
            h.append("<tr><td class=\"num\">").append(e.epoch()).append("</td>");
            List<Double> cells = new java.util.ArrayList<>();
            cells.add(e.loss());
            run.metrics().forEach(m -> cells.add(e.metric(m)));
            cells.add(e.valLoss());
            run.metrics().forEach(m -> cells.add(e.valMetric(m)));
            for (double v : cells) {
                h.append("<td class=\"num\">").append(number(v)).append("</td>");
            }
            h.append("<td class=\"num\">").append(String.format(Locale.ROOT, "%.1f", e.seconds()))
                    .append("</td><td class=\"num\">").append(e.examples()).append("</td></tr>\n");
        }
        h.append("</tbody>\n</table>\n");
    }

    private void provenance(StringBuilder h) {
        JsonNode p = run.provenance();
        h.append("<h2>Provenance and parameters</h2>\n<table id=\"provenance\">\n");
        flatten(h, "", p, "model");
        h.append("</table>\n");
        if (p.has("model")) {
            h.append("<h2>Model</h2>\n<pre id=\"model\">").append(escape(pretty(p.get("model")))).append("</pre>\n");
        }
    }

    /** One row per leaf of {@code node}, named by its path (e.g. {@code parameters.train.uri}). */
    private static void flatten(StringBuilder h, String prefix, JsonNode node, String skip) {
        for (Map.Entry<String, JsonNode> field : node.properties()) {
            if (prefix.isEmpty() && field.getKey().equals(skip)) {
                continue;
            }
            String name = prefix + field.getKey();
            if (field.getValue().isObject()) {
                flatten(h, name + ".", field.getValue(), skip);
            } else {
                row(h, name, field.getValue().isValueNode() ? text(field.getValue()) : field.getValue().toString());
            }
        }
    }

    private static void figure(StringBuilder h, String id, String svg, String caption) {
        h.append("<figure id=\"").append(id).append("-figure\">\n").append(svg).append("\n<figcaption>")
                .append(escape(caption)).append("</figcaption>\n</figure>\n");
    }

    private static void row(StringBuilder h, String name, String value) {
        h.append("<tr><th scope=\"row\">").append(escape(name)).append("</th><td>").append(escape(value))
                .append("</td></tr>\n");
    }

    private static String text(JsonNode node) {
        return node.isMissingNode() || node.isNull() ? "" : node.asText();
    }

    private static String number(double v) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, "%.4f", v) : "–";
    }

    private static String pretty(JsonNode node) {
        try {
            return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(node);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a parsed JSON tree could not be written back", e);
        }
    }

    /** Text for HTML element content and quoted attribute values. */
    static String escape(String s) {
        StringBuilder out = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '&' -> out.append("&amp;");
                case '<' -> out.append("&lt;");
                case '>' -> out.append("&gt;");
                case '"' -> out.append("&quot;");
                case '\'' -> out.append("&#39;");
                default -> out.append(c);
            }
        }
        return out.toString();
    }

    private static final String STYLE = """
            body { font-family: sans-serif; margin: 2em auto; max-width: 1200px; color: #222; padding: 0 1em; }
            h1 { font-size: 1.5em; word-break: break-all; }
            h2 { font-size: 1.2em; margin-top: 2em; border-bottom: 1px solid #ddd; }
            table { border-collapse: collapse; margin: 1em 0; }
            th, td { border: 1px solid #ddd; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
            td.num, td.count { text-align: right; font-variant-numeric: tabular-nums; }
            td.diagonal { font-weight: bold; }
            #provenance td { word-break: break-all; }
            .charts { display: flex; flex-wrap: wrap; gap: 1em; }
            figure { margin: 0; }
            figcaption { font-size: 0.85em; color: #555; max-width: 560px; }
            pre { background: #f6f6f6; padding: 1em; overflow-x: auto; font-size: 0.85em; }
            """;
}
