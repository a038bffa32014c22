package dptrain.driver.inference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dptrain.driver.files.ParameterException;
import dptrain.inference.BinaryScores.Scored;
import dptrain.spec.ModelSpec;
import dptrain.testing.LocalSpark;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalDouble;
import java.util.Random;
import java.util.TreeMap;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.mllib.evaluation.BinaryClassificationMetrics;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A binary classifier's metrics from scores spread over partitions, against the definitions
 * computed here on one machine: counts at a threshold, the ROC area as the Mann-Whitney statistic,
 * the PR area as Spark defines it, and Spark's own BinaryClassificationMetrics on the same scores.
 */
class BinaryMetricsTest {
    private static JavaSparkContext jsc;

    @BeforeAll
    static void startSpark() {
        jsc = LocalSpark.start(2);
    }

    @AfterAll
    static void stopSpark() {
        jsc.stop();
    }

    /**
     * Rows whose labels follow their scores loosely; with {@code levels > 0} scores are multiples of
     * 1/levels, so many rows tie, else each row's score is its own.
     */
    static List<Scored> rows(int n, int levels, long seed) {
        Random random = new Random(seed);
        List<Scored> rows = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            double p = 1 / (1 + Math.exp(-2 * random.nextGaussian()));
            float score = levels > 0 ? Math.round(p * levels) / (float) levels : (float) p;
            int label = random.nextDouble() < 0.2 + 0.6 * p ? 1 : 0;
            rows.add(new Scored(score, label));
        }
        return rows;
    }

    /** P(score of a positive > score of a negative), ties counting half: the area under the ROC curve. */
    static double mannWhitney(List<Scored> rows) {
        double wins = 0;
        long pairs = 0;
        for (Scored pos : rows) {
            if (pos.label() != 1) {
                continue;
            }
            for (Scored neg : rows) {
                if (neg.label() == 0) {
                    wins += pos.score() > neg.score() ? 1 : pos.score() == neg.score() ? 0.5 : 0;
                    pairs++;
                }
            }
        }
        return wins / pairs;
    }

    /**
     * The area under the precision-recall curve as Spark defines it: one point per distinct score,
     * from the highest (predicting class 1 at scores of at least it), the first point repeated at recall 0,
     * joined by straight lines.
     */
    static double sparkPrArea(List<Scored> rows) {
        TreeMap<Float, long[]> byScore = new TreeMap<>(java.util.Comparator.reverseOrder());
        long positives = 0;
        for (Scored r : rows) {
            byScore.computeIfAbsent(r.score(), s -> new long[2])[r.label()]++;
            positives += r.label();
        }
        double area = 0;
        double previousRecall = 0;
        double previousPrecision = Double.NaN;
        long tp = 0;
        long fp = 0;
        for (long[] counts : byScore.values()) {
            tp += counts[1];
            fp += counts[0];
            double recall = (double) tp / positives;
            double precision = (double) tp / (tp + fp);
            if (Double.isNaN(previousPrecision)) {
                previousPrecision = precision;
            }
            area += (recall - previousRecall) * (precision + previousPrecision) / 2;
            previousRecall = recall;
            previousPrecision = precision;
        }
        return area;
    }

    @Test
    void rocAndPrAreasEqualTheirDefinitionsAndSparksMetricsOnTheSameScores() {
        List<Scored> rows = rows(3000, 40, 1);
        BinaryMetrics metrics = BinaryMetrics.of(jsc.parallelize(rows, 3), 0.5);

        assertEquals(mannWhitney(rows), metrics.rocAuc(), 1e-9);
        assertEquals(sparkPrArea(rows), metrics.prAuc(), 1e-9);
        List<scala.Tuple2<Object, Object>> pairs = rows.stream()
                .map(r -> new scala.Tuple2<Object, Object>((double) r.score(), (double) r.label())).toList();
        BinaryClassificationMetrics spark = new BinaryClassificationMetrics(jsc.parallelize(pairs, 1).rdd());
        assertEquals(spark.areaUnderROC(), metrics.rocAuc(), 1e-9);
        assertEquals(spark.areaUnderPR(), metrics.prAuc(), 1e-9);
        assertTrue(metrics.rocAuc() > 0.6 && metrics.rocAuc() < 0.95, "scores that tell the classes apart, loosely: "
                + metrics.rocAuc());
    }

    @Test
    void thresholdMetricsCountRowsScoredAboveTheThresholdAsClassOne() {
        List<Scored> rows = rows(3000, 40, 2);
        // Scores are multiples of 1/40, so rows score exactly 0.25, 0.5 and 0.8: they are not above them. The
        // comparison is DL4J's, in the network's float: 0.8f is not above 0.8, which rounds to 0.8f.
        for (double threshold : new double[] {0.0, 0.25, 0.5, 0.8, 1.0}) {
            BinaryMetrics metrics = BinaryMetrics.of(jsc.parallelize(rows, 3), threshold);
            long tp = 0;
            long fp = 0;
            long fn = 0;
            long tn = 0;
            for (Scored r : rows) {
                boolean predicted = r.score() > (float) threshold;
                if (predicted) {
                    if (r.label() == 1) {
                        tp++;
                    } else {
                        fp++;
                    }
                } else if (r.label() == 1) {
                    fn++;
                } else {
                    tn++;
                }
            }
            String at = "threshold " + threshold;
            assertEquals(threshold, metrics.threshold());
            assertEquals(rows.size(), metrics.examples(), at);
            assertEquals(tp + fn, metrics.positives(), at);
            assertEquals(tn + fp, metrics.negatives(), at);
            assertEquals((double) (tp + tn) / rows.size(), metrics.accuracy(), 1e-12, at);
            double precision = tp + fp == 0 ? 0 : (double) tp / (tp + fp);
            double recall = (double) tp / (tp + fn);
            assertEquals(precision, metrics.precision(), 1e-12, at);
            assertEquals(recall, metrics.recall(), 1e-12, at);
            assertEquals(precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall), metrics.f1(),
                    1e-12, at);
        }
    }

    @Test
    void theRocCurveIsDownsampledButTheAreasComeFromTheWholeCurve() {
        List<Scored> rows = rows(5000, 0, 3);
        BinaryMetrics metrics = BinaryMetrics.of(jsc.parallelize(rows, 4), 0.5);

        List<BinaryMetrics.RocPoint> curve = metrics.rocCurve();
        assertTrue(curve.size() >= BinaryMetrics.CURVE_BINS / 2 && curve.size() <= BinaryMetrics.CURVE_BINS + 4 + 2,
                "about " + BinaryMetrics.CURVE_BINS + " points of 5000 scores: " + curve.size());
        assertEquals(new BinaryMetrics.RocPoint(0, 0), curve.get(0));
        assertEquals(new BinaryMetrics.RocPoint(1, 1), curve.get(curve.size() - 1));
        for (int i = 1; i < curve.size(); i++) {
            assertTrue(curve.get(i).falsePositiveRate() >= curve.get(i - 1).falsePositiveRate()
                    && curve.get(i).truePositiveRate() >= curve.get(i - 1).truePositiveRate(), "a rising curve at " + i);
        }
        double binnedArea = 0;
        for (int i = 1; i < curve.size(); i++) {
            binnedArea += (curve.get(i).falsePositiveRate() - curve.get(i - 1).falsePositiveRate())
                    * (curve.get(i).truePositiveRate() + curve.get(i - 1).truePositiveRate()) / 2;
        }
        double exact = mannWhitney(rows);
        assertEquals(exact, metrics.rocAuc(), 1e-9);
        assertNotEquals(exact, binnedArea, 1e-9, "the downsampled curve is not what the area is computed on");
        assertEquals(exact, binnedArea, 1e-2, "but it draws the same curve");
    }

    @Test
    void dataOfOneClassHasNoCurveAndNoAreas() {
        List<Scored> rows = List.of(new Scored(0.9f, 1), new Scored(0.2f, 1), new Scored(0.7f, 1));
        BinaryMetrics metrics = BinaryMetrics.of(jsc.parallelize(rows, 2), 0.5);
        assertTrue(Double.isNaN(metrics.rocAuc()));
        assertTrue(Double.isNaN(metrics.prAuc()));
        assertEquals(List.of(), metrics.rocCurve());
        assertEquals(2 / 3.0, metrics.recall(), 1e-12);
        assertEquals(1.0, metrics.precision());
        assertEquals(null, metrics.describe().get("roc_auc"), "JSON has no NaN");
        assertTrue(metrics.summary(4).contains("ROC AUC undefined (one class only)"), metrics.summary(4));
    }

    @Test
    void aThresholdOutsideZeroToOneIsRefusedNamingTheValue() {
        for (double bad : new double[] {1.5, -0.1, Double.NaN, Double.POSITIVE_INFINITY}) {
            ParameterException e = assertThrows(ParameterException.class, () -> BinaryMetrics.checkThreshold(bad));
            assertEquals("threshold", e.key());
            assertEquals("--threshold: " + bad + " is not allowed; expected a number in [0, 1], the score above which "
                    + "a row is predicted as class 1", e.message(ParameterException::flag));
        }
    }

    @Test
    void aThresholdAppliesToBinaryClassifiersOnly() {
        ModelSpec sigmoid = ModelSpec.parse("input_shape: [3]\nlayers:\n  - dense: {units: 1, activation: sigmoid}\n"
                + "loss: binary_crossentropy\n", "sigmoid");
        ModelSpec twoUnits = ModelSpec.parse("input_shape: [3]\nlayers:\n  - dense: {units: 2, activation: softmax}\n"
                + "loss: sparse_categorical_crossentropy\n", "two");
        ModelSpec tenUnits = ModelSpec.parse("input_shape: [3]\nlayers:\n  - dense: {units: 10, activation: softmax}\n"
                + "loss: categorical_crossentropy\n", "ten");
        ModelSpec regression = ModelSpec.parse("input_shape: [3]\nlayers:\n  - dense: {units: 1}\nloss: mse\n", "mse");

        assertEquals(OptionalDouble.of(0.5), BinaryMetrics.threshold(sigmoid, "m.zip", OptionalDouble.empty()));
        assertEquals(OptionalDouble.of(0.25), BinaryMetrics.threshold(twoUnits, "m.zip", OptionalDouble.of(0.25)));
        assertEquals(OptionalDouble.empty(), BinaryMetrics.threshold(tenUnits, "m.zip", OptionalDouble.empty()));
        assertEquals(OptionalDouble.empty(), BinaryMetrics.threshold(regression, "m.zip", OptionalDouble.empty()));
        ParameterException multiClass = assertThrows(ParameterException.class,
                () -> BinaryMetrics.threshold(tenUnits, "ten.zip", OptionalDouble.of(0.3)));
        assertEquals("--threshold: 0.3 applies to binary classifiers only (one output unit with binary_crossentropy, "
                + "or two output units), but the model ten.zip has 10 classes; leave --threshold out",
                multiClass.message(ParameterException::flag));
        ParameterException noClasses = assertThrows(ParameterException.class,
                () -> BinaryMetrics.threshold(regression, "mse.zip", OptionalDouble.of(0.3)));
        assertTrue(noClasses.getMessage().contains("mse.zip is a regression (loss mse), which has no classes"),
                noClasses.getMessage());
    }
}
