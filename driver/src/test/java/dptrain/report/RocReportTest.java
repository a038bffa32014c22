package dptrain.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dptrain.driver.files.InputException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The test ROC curve in report.html: drawn for a binary classifier's run, absent for a multi-class one. */
class RocReportTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path out;

    /** history.json's test_binary as 'dptrain train' writes it, with a curve of {@code points} points. */
    static Map<String, Object> testBinary(int points, double rocAuc) {
        List<Double> fpr = new ArrayList<>();
        List<Double> tpr = new ArrayList<>();
        for (int i = 0; i < points; i++) {
            double x = i / (points - 1.0);
            fpr.add(x);
            tpr.add(Math.sqrt(x));
        }
        Map<String, Object> curve = new LinkedHashMap<>();
        curve.put("bins", 100);
        curve.put("false_positive_rate", fpr);
        curve.put("true_positive_rate", tpr);
        Map<String, Object> binary = new LinkedHashMap<>();
        binary.put("positive_class", 1);
        binary.put("threshold", 0.5);
        binary.put("examples", 30);
        binary.put("positives", 12);
        binary.put("negatives", 18);
        binary.put("accuracy", 0.8);
        binary.put("precision", 0.75);
        binary.put("recall", 0.625);
        binary.put("f1", 0.6818);
        binary.put("roc_auc", rocAuc);
        binary.put("pr_auc", 0.7125);
        binary.put("roc_curve", curve);
        return binary;
    }

    /** A binary classifier's history: a 2-class test confusion matrix and its test_binary. */
    static Map<String, Object> binaryHistory(Map<String, Object> testBinary) {
        Map<String, Object> history = TrainingReportTest.history(2, 1);
        history.put("test_confusion_matrix", new long[][] {{16, 2}, {4, 8}});
        history.put("test_confusion_labels", List.of("0", "1"));
        history.put("test_binary", testBinary);
        return history;
    }

    private String report(Map<String, Object> history) throws IOException {
        JSON.writeValue(out.resolve("history.json").toFile(), history);
        JSON.writeValue(out.resolve("provenance.json").toFile(), TrainingReportTest.provenance("out/run"));
        TrainingReport.read(out.toString(), new Configuration()).write(out.toString(), new Configuration());
        return Files.readString(out.resolve("report.html"));
    }

    @Test
    void aBinaryClassifiersReportDrawsItsTestRocCurveAndListsItsAreas() throws IOException {
        String html = report(binaryHistory(testBinary(41, 0.8333)));
        Matcher figure = Pattern.compile("<figure id=\"roc-chart-figure\">\\s*(<svg.*?</svg>)", Pattern.DOTALL)
                .matcher(html);
        assertTrue(figure.find(), "the ROC chart is missing");
        String svg = figure.group(1);
        assertTrue(svg.contains("<path"), "the chart draws nothing");
        for (String text : List.of(">ROC curve (test data)<", ">False positive rate<", ">True positive rate<",
                ">ROC curve (AUC 0.8333)<", ">chance<")) {
            assertTrue(svg.contains(text), text + " missing from the chart");
        }
        assertTrue(html.contains("<th scope=\"row\">Test ROC AUC / PR AUC</th><td>0.8333 / 0.7125</td>"), html);
        assertTrue(html.contains("<th scope=\"row\">Test precision / recall / F1 at threshold 0.5</th>"
                + "<td>0.7500 / 0.6250 / 0.6818</td>"), html);
    }

    @Test
    void aMultiClassReportHasNoRocCurve() throws IOException {
        String html = report(TrainingReportTest.history(2, 1));
        assertFalse(html.contains("roc-chart"), "no ROC chart for 3 classes");
        assertFalse(html.contains("ROC AUC"));
        assertTrue(html.contains("id=\"confusion-matrix\""), "the confusion matrix is still there");
    }

    @Test
    @SuppressWarnings("unchecked")
    void aBinaryTestSetOfOneClassHasAreasUndefinedAndNoCurve() throws IOException {
        Map<String, Object> binary = testBinary(2, 0.5);
        binary.put("roc_auc", null);
        binary.put("pr_auc", null);
        ((Map<String, Object>) binary.get("roc_curve")).put("false_positive_rate", List.of());
        ((Map<String, Object>) binary.get("roc_curve")).put("true_positive_rate", List.of());
        String html = report(binaryHistory(binary));
        assertFalse(html.contains("roc-chart"));
        assertTrue(html.contains("<th scope=\"row\">Test ROC AUC / PR AUC</th><td>– / –</td>"), html);
    }

    @Test
    @SuppressWarnings("unchecked")
    void aCurveWithARateOutsideZeroToOneIsAnInputErrorNamingTheField() throws IOException {
        Map<String, Object> binary = testBinary(3, 0.7);
        ((Map<String, Object>) binary.get("roc_curve")).put("true_positive_rate", List.of(0.0, 1.5, 1.0));
        JSON.writeValue(out.resolve("history.json").toFile(), binaryHistory(binary));
        JSON.writeValue(out.resolve("provenance.json").toFile(), TrainingReportTest.provenance("out"));
        InputException e = assertThrows(InputException.class, () -> TrainingReport.read(out.toString(),
                new Configuration()));
        assertEquals(out.resolve("history.json") + ": \"test_binary.roc_curve.true_positive_rate[1]\" is '1.5'; "
                + "expected a rate in [0, 1] as 'dptrain train' writes it", e.getMessage());
    }
}
