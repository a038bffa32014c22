package dptrain.report;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dptrain.driver.files.InputException;
import dptrain.driver.files.InputFiles;
import dptrain.driver.output.RunOutputs;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;

/**
 * What a finished run left in its output folder, as the report needs it: history.json's epochs,
 * rounds, test metrics and confusion matrix, and provenance.json as it is. Every field is checked
 * on reading, so a report never fails half-drawn; an error names the file and the field.
 *
 * @param epochs        one entry per epoch, in order
 * @param rounds        one entry per averaging round, in order (empty for a history without timing)
 * @param test          test metrics, or null when the run had no test data
 * @param confusion     the test confusion matrix, or null when history.json has none
 * @param provenance    provenance.json's document
 * @param binary        a binary classifier's test metrics and ROC curve, or null when history.json has none
 */
record RunRecord(List<Epoch> epochs, List<String> metrics, List<Round> rounds, Test test, Confusion confusion,
        JsonNode provenance, Binary binary) {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** The metric names history.json may hold per epoch, Keras's: a classifier's, then a regression's. */
    private static final List<String> KNOWN_METRICS = List.of("accuracy", "mae", "mse", "rmse");

    /**
     * One epoch: NaN for metrics history.json records as null (no validation, or not finite).
     *
     * @param metrics    the run's metrics by name, in the run's order
     * @param valMetrics the same on the validation data
     */
    record Epoch(int epoch, double loss, Map<String, Double> metrics, double valLoss, Map<String, Double> valMetrics,
            double seconds, long examples) {

        double metric(String name) {
            return metrics.getOrDefault(name, Double.NaN);
        }

        double valMetric(String name) {
            return valMetrics.getOrDefault(name, Double.NaN);
        }
    }

    /** The metric the report charts beside the loss: accuracy, or a regression's first (mae unless chosen). */
    String primaryMetric() {
        return metrics.isEmpty() ? "accuracy" : metrics.get(0);
    }

    /** Whether the run trained a regression model: its metrics are errors, not accuracy. */
    boolean regression() {
        return !metrics.contains("accuracy") && !metrics.isEmpty();
    }

    /** One averaging round's timing. */
    record Round(int epoch, int round, long examples, double seconds, double broadcastSeconds,
            double computeSeconds, double combineSeconds, double schedulingSeconds, double updateSeconds) {

        double examplesPerSecond() {
            return seconds > 0 ? examples / seconds : 0;
        }
    }

    /**
     * The test figures.
     *
     * @param metrics   the run's metrics on the test data
     * @param r2        a regression's R², NaN for a classifier
     * @param actual    a regression's sample of actual target values, for the predicted-against-actual chart;
     *                  empty for a classifier
     * @param predicted the predictions of those values
     */
    record Test(long examples, double loss, Map<String, Double> metrics, double r2, double[] actual,
            double[] predicted) {
    }

    /**
     * A binary classifier's test metrics: at {@code threshold} (NaN for undefined figures), the areas,
     * and the downsampled ROC curve as its points' coordinates (empty when undefined).
     */
    record Binary(double threshold, double precision, double recall, double f1, double rocAuc, double prAuc,
            double[] falsePositiveRates, double[] truePositiveRates) {
    }

    /** Rows are true classes, columns predicted classes. */
    record Confusion(List<String> labels, long[][] counts) {
        long total() {
            long total = 0;
            for (long[] row : counts) {
                for (long c : row) {
                    total += c;
                }
            }
            return total;
        }
    }

    /** Reads history.json and provenance.json from {@code folder}, on any Hadoop filesystem. */
    static RunRecord read(String folder, Configuration conf) {
        String historyFile = new Path(folder, RunOutputs.HISTORY).toString();
        String provenanceFile = new Path(folder, RunOutputs.PROVENANCE).toString();
        JsonNode history = parse(historyFile, conf);
        JsonNode provenance = parse(provenanceFile, conf);
        if (!provenance.isObject()) {
            throw new InputException(provenanceFile + ": expected a JSON object as 'dptrain train' writes it, found "
                    + provenance.getNodeType().toString().toLowerCase(java.util.Locale.ROOT));
        }
        Fields h = new Fields(historyFile);
        JsonNode epochList = h.array(history, "epochs");
        if (epochList.isEmpty()) {
            throw new InputException(historyFile + ": \"epochs\" is empty; expected one entry per trained epoch");
        }
        List<String> metrics = new ArrayList<>();
        epochList.get(0).fieldNames().forEachRemaining(name -> {
            if (KNOWN_METRICS.contains(name)) {
                metrics.add(name);
            }
        });
        if (metrics.isEmpty()) {
            throw new InputException(historyFile + ": \"epochs[0]\" has no metric; expected one of "
                    + String.join(", ", KNOWN_METRICS) + " as 'dptrain train' writes it");
        }
        List<Epoch> epochs = new ArrayList<>();
        for (int i = 0; i < epochList.size(); i++) {
            JsonNode e = epochList.get(i);
            String at = "epochs[" + i + "]";
            Map<String, Double> values = new LinkedHashMap<>();
            Map<String, Double> valValues = new LinkedHashMap<>();
            for (String metric : metrics) {
                values.put(metric, h.number(e, at, metric));
                valValues.put(metric, h.number(e, at, "val_" + metric));
            }
            epochs.add(new Epoch((int) h.whole(e, at, "epoch"), h.number(e, at, "loss"), values,
                    h.number(e, at, "val_loss"), valValues, h.number(e, at, "seconds"), h.whole(e, at, "examples")));
        }
        List<Round> rounds = new ArrayList<>();
        if (history.has("rounds")) {
            JsonNode roundList = h.array(history, "rounds");
            for (int i = 0; i < roundList.size(); i++) {
                JsonNode r = roundList.get(i);
                String at = "rounds[" + i + "]";
                rounds.add(new Round((int) h.whole(r, at, "epoch"), (int) h.whole(r, at, "round"),
                        h.whole(r, at, "examples"), h.number(r, at, "seconds"), h.number(r, at, "broadcast_seconds"),
                        h.number(r, at, "compute_seconds"), h.number(r, at, "combine_seconds"),
                        h.number(r, at, "scheduling_seconds"), h.number(r, at, "update_seconds")));
            }
        }
        Test test = null;
        if (history.has("test_examples")) {
            Map<String, Double> values = new LinkedHashMap<>();
            for (String metric : metrics) {
                values.put(metric, h.number(history, "history.json", "test_" + metric));
            }
            double r2 = history.has("test_r2") ? h.number(history, "history.json", "test_r2") : Double.NaN;
            double[] actual = new double[0];
            double[] predicted = new double[0];
            if (history.has("test_predictions_sample")) {
                JsonNode sample = history.get("test_predictions_sample");
                actual = h.numbers(sample, "test_predictions_sample", "actual");
                predicted = h.numbers(sample, "test_predictions_sample", "predicted");
                if (actual.length != predicted.length) {
                    throw new InputException(historyFile + ": \"test_predictions_sample\" has " + actual.length
                            + " actual values but " + predicted.length + " predicted; expected pairs");
                }
            }
            test = new Test(h.whole(history, "history.json", "test_examples"),
                    h.number(history, "history.json", "test_loss"), values, r2, actual, predicted);
        }
        return new RunRecord(epochs, List.copyOf(metrics), rounds, test,
                history.has("test_confusion_matrix") ? h.confusion(history) : null, provenance,
                history.has("test_binary") ? h.binary(history) : null);
    }

    private static JsonNode parse(String file, Configuration conf) {
        String text = InputFiles.readText(file, conf);
        try {
            JsonNode node = JSON.readTree(text);
            if (node == null || node.isMissingNode()) {
                throw new InputException(file + ": is empty; expected the JSON document 'dptrain train' writes");
            }
            return node;
        } catch (JsonProcessingException e) {
            var location = e.getLocation();
            throw new InputException(file + ": is not valid JSON"
                    + (location == null ? "" : " at line " + location.getLineNr() + ", column " + location.getColumnNr())
                    + ": " + e.getOriginalMessage().replaceAll("\\[Source: .*?; (line: \\d+, column: \\d+)]", "[$1]"), e);
        }
    }

    /** Reads fields of one file, naming the file and the field when one is missing or of the wrong type. */
    private record Fields(String file) {

        JsonNode array(JsonNode parent, String name) {
            JsonNode node = parent.get(name);
            if (node == null || !node.isArray()) {
                throw wrong(name, node, "a list");
            }
            return node;
        }

        /** A number, or NaN for null (history.json's missing or non-finite values). */
        double number(JsonNode parent, String at, String name) {
            JsonNode node = parent.get(name);
            if (node != null && node.isNull()) {
                return Double.NaN;
            }
            if (node == null || !node.isNumber()) {
                throw wrong(at + "." + name, node, "a number or null");
            }
            return node.asDouble();
        }

        /** A list of numbers. */
        double[] numbers(JsonNode parent, String at, String name) {
            JsonNode node = parent.get(name);
            if (node == null || !node.isArray()) {
                throw wrong(at + "." + name, node, "a list of numbers");
            }
            double[] values = new double[node.size()];
            for (int i = 0; i < values.length; i++) {
                if (!node.get(i).isNumber()) {
                    throw wrong(at + "." + name + "[" + i + "]", node.get(i), "a number");
                }
                values[i] = node.get(i).asDouble();
            }
            return values;
        }

        long whole(JsonNode parent, String at, String name) {
            JsonNode node = parent.get(name);
            if (node == null || !node.canConvertToLong() || !node.isIntegralNumber() || node.asLong() < 0) {
                throw wrong(at + "." + name, node, "a whole number of at least 0");
            }
            return node.asLong();
        }

        Confusion confusion(JsonNode history) {
            JsonNode matrix = array(history, "test_confusion_matrix");
            JsonNode labelList = array(history, "test_confusion_labels");
            List<String> labels = new ArrayList<>();
            labelList.forEach(l -> labels.add(l.asText()));
            if (matrix.size() != labels.size()) {
                throw new InputException(file + ": \"test_confusion_matrix\" has " + matrix.size() + " rows but "
                        + labels.size() + " test_confusion_labels; expected one row per label");
            }
            long[][] counts = new long[labels.size()][];
            for (int t = 0; t < matrix.size(); t++) {
                JsonNode row = matrix.get(t);
                if (!row.isArray() || row.size() != labels.size()) {
                    throw wrong("test_confusion_matrix[" + t + "]", row, "a list of " + labels.size() + " counts");
                }
                counts[t] = new long[labels.size()];
                for (int p = 0; p < row.size(); p++) {
                    JsonNode c = row.get(p);
                    if (!c.isIntegralNumber() || c.asLong() < 0) {
                        throw wrong("test_confusion_matrix[" + t + "][" + p + "]", c, "a count of at least 0");
                    }
                    counts[t][p] = c.asLong();
                }
            }
            return new Confusion(labels, counts);
        }

        Binary binary(JsonNode history) {
            String at = "test_binary";
            JsonNode b = history.get(at);
            if (!b.isObject()) {
                throw wrong(at, b, "an object of metrics");
            }
            JsonNode curve = b.get("roc_curve");
            if (curve == null || !curve.isObject()) {
                throw wrong(at + ".roc_curve", curve, "an object with the curve's points");
            }
            double[] fpr = rates(curve, at + ".roc_curve", "false_positive_rate");
            double[] tpr = rates(curve, at + ".roc_curve", "true_positive_rate");
            if (fpr.length != tpr.length) {
                throw new InputException(file + ": \"" + at + ".roc_curve\" has " + fpr.length
                        + " false positive rates but " + tpr.length + " true positive rates; expected one of each per "
                        + "point");
            }
            return new Binary(number(b, at, "threshold"), number(b, at, "precision"), number(b, at, "recall"),
                    number(b, at, "f1"), number(b, at, "roc_auc"), number(b, at, "pr_auc"), fpr, tpr);
        }

        /** A list of rates, each in [0, 1]. */
        private double[] rates(JsonNode parent, String at, String name) {
            JsonNode list = parent.get(name);
            if (list == null || !list.isArray()) {
                throw wrong(at + "." + name, list, "a list of rates");
            }
            double[] rates = new double[list.size()];
            for (int i = 0; i < list.size(); i++) {
                JsonNode r = list.get(i);
                if (!r.isNumber() || !(r.asDouble() >= 0 && r.asDouble() <= 1)) {
                    throw wrong(at + "." + name + "[" + i + "]", r, "a rate in [0, 1]");
                }
                rates[i] = r.asDouble();
            }
            return rates;
        }

        private InputException wrong(String field, JsonNode found, String expected) {
            return new InputException(file + ": \"" + field + "\" is " + (found == null ? "missing"
                    : "'" + abbreviate(found.toString()) + "'") + "; expected " + expected
                    + " as 'dptrain train' writes it");
        }

        private static String abbreviate(String s) {
            return s.length() <= 40 ? s : s.substring(0, 37) + "...";
        }
    }
}
