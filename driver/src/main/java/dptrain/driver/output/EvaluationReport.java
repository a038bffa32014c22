package dptrain.driver.output;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dptrain.driver.files.AtomicFiles;
import dptrain.driver.inference.DistributedInference;
import dptrain.driver.inference.RegressionEvaluation;
import dptrain.driver.inference.SavedModel;
import dptrain.driver.input.DataInput;
import java.io.PrintWriter;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.nd4j.evaluation.EvaluationAveraging;
import org.nd4j.evaluation.classification.ConfusionMatrix;
import org.nd4j.evaluation.classification.Evaluation;

/**
 * An evaluation's metrics as a table on the console and as {@code evaluation.json}: both take every number from
 * DL4J's {@link Evaluation} for a classifier, from Spark's RegressionMetrics for a regression (see
 * {@link RegressionEvaluation}), so they agree with each other and with those libraries; a binary classifier's
 * areas under its curves come from Spark's BinaryClassificationMetrics.
 */
public final class EvaluationReport {
    public static final String FILE = "evaluation.json";

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private final SavedModel model;
    private final DataInput data;
    private final DistributedInference.Evaluated result;

    public EvaluationReport(SavedModel model, DataInput data, DistributedInference.Evaluated result) {
        this.model = model;
        this.data = data;
        this.result = result;
    }

    private Evaluation evaluation() {
        return result.metrics().evaluation();
    }

    private int classes() {
        return evaluation().getConfusionMatrix().getClasses().size();
    }

    /**
     * Prints the metrics; for a classifier the per-class table and the confusion matrix (rows: actual, columns:
     * predicted), for a regression the residual summary.
     */
    public void print(PrintWriter out) {
        if (result.regression() != null) {
            printRegression(out, result.regression());
            return;
        }
        Evaluation e = evaluation();
        out.printf(Locale.ROOT, "Evaluated %d examples of %s%n", result.metrics().examples(), data.uri());
        out.printf(Locale.ROOT, "loss: %.6f (%s) - accuracy: %.6f - top-%d accuracy: %.6f%n", result.metrics().meanLoss(),
                model.spec().lossName(), e.accuracy(), result.topK(), e.topNAccuracy());
        result.binary().ifPresent(b -> out.println("Binary classifier at " + b.summary(6)));
        out.println();
        out.printf(Locale.ROOT, "%-10s %10s %10s %10s %10s%n", "class", "precision", "recall", "f1", "support");
        for (int c = 0; c < classes(); c++) {
            out.printf(Locale.ROOT, "%-10d %10.6f %10.6f %10.6f %10d%n", c, e.precision(c), e.recall(c), e.f1(c),
                    support(c));
        }
        out.printf(Locale.ROOT, "%-10s %10.6f %10.6f %10.6f %10d%n", "macro avg", e.precision(EvaluationAveraging.Macro),
                e.recall(EvaluationAveraging.Macro), macroF1(e), result.metrics().examples());
        out.println();
        out.println("Confusion matrix (rows: actual class, columns: predicted class)");
        ConfusionMatrix<Integer> matrix = e.getConfusionMatrix();
        int width = Math.max(6, String.valueOf(result.metrics().examples()).length() + 1);
        StringBuilder header = new StringBuilder(String.format(Locale.ROOT, "%6s", ""));
        for (int c = 0; c < classes(); c++) {
            header.append(String.format(Locale.ROOT, "%" + width + "d", c));
        }
        out.println(header);
        for (int actual = 0; actual < classes(); actual++) {
            StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "%6d", actual));
            for (int predicted = 0; predicted < classes(); predicted++) {
                line.append(String.format(Locale.ROOT, "%" + width + "d", matrix.getCount(actual, predicted)));
            }
            out.println(line);
        }
        out.flush();
    }

    private void printRegression(PrintWriter out, RegressionEvaluation r) {
        out.printf(Locale.ROOT, "Evaluated %d examples of %s%n", r.examples(), data.uri());
        out.printf(Locale.ROOT, "loss: %.6f (%s) - mae: %.6f - mse: %.6f - rmse: %.6f - r2: %.6f%n", r.loss(),
                model.spec().lossName(), r.mae(), r.mse(), r.rmse(), r.r2());
        out.println();
        out.println("Residuals (actual - predicted)" + (r.targets() > 1 ? ", over all " + r.targets()
                + " targets of each example" : ""));
        out.printf(Locale.ROOT, "%12s %12s %12s %12s %12s %12s %12s%n", "mean", "std", "min", "q1", "median", "q3",
                "max");
        RegressionEvaluation.Residuals d = r.residuals();
        out.printf(Locale.ROOT, "%12.6f %12.6f %12.6f %12.6f %12.6f %12.6f %12.6f%n", d.mean(), d.std(), d.min(),
                d.q1(), d.median(), d.q3(), d.max());
        out.flush();
    }

    /**
     * The mean of the per-class F1 scores. DL4J's {@code f1(Macro)} gives a 2-class model class 1's F1 alone (its
     * binary convention), which a "macro avg" row must not show; precision and recall are averaged by DL4J.
     */
    private double macroF1(Evaluation e) {
        if (classes() != 2) {
            return e.f1(EvaluationAveraging.Macro);
        }
        double sum = 0;
        for (int c = 0; c < classes(); c++) {
            sum += e.f1(c);
        }
        return sum / classes();
    }

    /** Examples whose actual class is {@code c}. */
    private int support(int c) {
        return evaluation().getConfusionMatrix().getActualTotal(c);
    }

    /** The document evaluation.json holds. */
    public Map<String, Object> document(Instant start, Instant end) {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("model", model.uri());
        doc.put("data", data.uri());
        doc.put("format", data.format().cliName());
        doc.put("feature_scale", data.featureMultiplier());
        doc.put("normalization", model.normalizer() == null ? "none" : model.normalizer().kind().specName());
        doc.put("examples", result.examples());
        Map<String, Object> skipped = new LinkedHashMap<>();
        skipped.put("total", result.report().badRecords());
        skipped.put("by_file", result.report().countsByFile());
        skipped.put("by_reason", result.report().countsByReason());
        doc.put("skipped_records", skipped);
        doc.put("loss_function", model.spec().lossName());
        if (result.regression() != null) {
            Map<String, Object> figures = new LinkedHashMap<>(result.regression().describe());
            figures.remove("examples");
            doc.putAll(figures);
            doc.put("residuals_layout", "actual - predicted, over every target value");
            doc.put("dptrain_version", Versions.DPTRAIN);
            doc.put("start_time", start.toString());
            doc.put("end_time", end.toString());
            return doc;
        }
        Evaluation e = evaluation();
        doc.put("loss", finite(result.metrics().meanLoss()));
        doc.put("accuracy", finite(e.accuracy()));
        doc.put("top_k", result.topK());
        doc.put("top_k_accuracy", finite(e.topNAccuracy()));
        doc.put("macro_precision", finite(e.precision(EvaluationAveraging.Macro)));
        doc.put("macro_recall", finite(e.recall(EvaluationAveraging.Macro)));
        doc.put("macro_f1", finite(macroF1(e)));
        List<Map<String, Object>> perClass = new ArrayList<>();
        for (int c = 0; c < classes(); c++) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("class", c);
            m.put("precision", finite(e.precision(c)));
            m.put("recall", finite(e.recall(c)));
            m.put("f1", finite(e.f1(c)));
            m.put("support", support(c));
            perClass.add(m);
        }
        doc.put("classes", perClass);
        List<List<Integer>> counts = new ArrayList<>();
        for (int actual = 0; actual < classes(); actual++) {
            List<Integer> row = new ArrayList<>();
            for (int predicted = 0; predicted < classes(); predicted++) {
                row.add(e.getConfusionMatrix().getCount(actual, predicted));
            }
            counts.add(row);
        }
        doc.put("confusion_matrix", counts);
        doc.put("confusion_matrix_layout", "rows: actual class, columns: predicted class");
        result.binary().ifPresent(b -> doc.put("binary", b.describe()));
        doc.put("dptrain_version", Versions.DPTRAIN);
        doc.put("start_time", start.toString());
        doc.put("end_time", end.toString());
        return doc;
    }

    /** Writes evaluation.json into {@code folder}, replacing any earlier one atomically. */
    public void write(String folder, Configuration conf, Instant start, Instant end) {
        Map<String, Object> doc = document(start, end);
        new AtomicFiles(conf).write(new Path(folder, FILE), out -> JSON.writeValue(out, doc));
    }

    /** JSON has no NaN: a missing value is null. */
    private static Double finite(double value) {
        return Double.isFinite(value) ? value : null;
    }
}
