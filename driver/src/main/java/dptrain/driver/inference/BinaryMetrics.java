package dptrain.driver.inference;

import dptrain.driver.files.ParameterException;
import dptrain.driver.pipeline.BatchedData;
import dptrain.inference.BinaryScores;
import dptrain.inference.InferenceModel;
import dptrain.replica.TrainingState;
import dptrain.spec.ModelSpec;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalDouble;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.mllib.evaluation.BinaryClassificationMetrics;
import org.apache.spark.rdd.RDD;
import org.apache.spark.storage.StorageLevel;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.evaluation.classification.Evaluation;
import scala.Tuple2;

/**
 * What users of a binary classifier read, class 1 being the positive class: accuracy, precision,
 * recall and F1 at a decision threshold, from DL4J's {@link Evaluation}; and ROC AUC and PR AUC,
 * with the ROC curve, from Spark's {@link BinaryClassificationMetrics}. Both are computed from the
 * rows' scores where the rows live; only counts and a downsampled curve reach the driver.
 *
 * @param threshold   a row is predicted as class 1 when its score is above this
 * @param atThreshold DL4J's evaluation of the scores cut at {@code threshold}
 * @param rocAuc      the area under the ROC curve, NaN when the data holds only one class
 * @param prAuc       the area under the precision-recall curve as Spark computes it, NaN when the
 *                    data holds only one class
 * @param rocCurve    the ROC curve from (0, 0) to (1, 1), downsampled to about {@link #CURVE_BINS}
 *                    points; empty when the data holds only one class
 */
public record BinaryMetrics(double threshold, Evaluation atThreshold, double rocAuc, double prAuc,
        List<RocPoint> rocCurve) {
    /** The threshold when none is given: DL4J's and Keras's 0.5. */
    public static final double DEFAULT_THRESHOLD = 0.5;
    /**
     * Bins of the ROC curve kept for charts and files ({@code numBins} of Spark's metrics): enough
     * for a smooth line, small enough for a report. The areas are computed on the whole curve.
     */
    public static final int CURVE_BINS = 100;

    private static final String EXPECTED_THRESHOLD = "a number in [0, 1], the score above which a row is "
            + "predicted as class 1";

    /** One point of the ROC curve. */
    public record RocPoint(double falsePositiveRate, double truePositiveRate) {
    }

    public BinaryMetrics {
        rocCurve = List.copyOf(rocCurve);
    }

    /**
     * Whether {@code spec}'s model is a binary classifier: one output unit with a classification
     * loss (binary_crossentropy), or two output units.
     */
    public static boolean appliesTo(ModelSpec spec) {
        return ConfusionMatrix.classes(spec) == 2;
    }

    /** Fails with a {@link ParameterException} on {@code threshold} unless it is a number in [0, 1]. */
    public static void checkThreshold(double threshold) {
        if (!(threshold >= 0 && threshold <= 1)) {
            throw ParameterException.notAllowed("threshold", threshold, EXPECTED_THRESHOLD);
        }
    }

    /**
     * The threshold to evaluate {@code spec}'s model at: the one {@code given}, else the default, for a
     * binary classifier; none for any other model.
     *
     * @param model names the model in messages
     * @throws ParameterException on a threshold out of range, or one given for a model that is not binary
     */
    public static OptionalDouble threshold(ModelSpec spec, String model, OptionalDouble given) {
        given.ifPresent(BinaryMetrics::checkThreshold);
        if (appliesTo(spec)) {
            return OptionalDouble.of(given.orElse(DEFAULT_THRESHOLD));
        }
        if (given.isPresent()) {
            int classes = ConfusionMatrix.classes(spec);
            String what = classes == 0 ? "is a regression (loss " + spec.lossName() + "), which has no classes"
                    : "has " + classes + " classes";
            throw new ParameterException("threshold", "{threshold}: " + given.getAsDouble() + " applies to binary "
                    + "classifiers only (one output unit with binary_crossentropy, or two output units), but the model "
                    + model + " " + what + "; leave {threshold} out");
        }
        return OptionalDouble.empty();
    }

    /**
     * The metrics of {@code scores}, rows scored on the executors, cut at {@code threshold}. The
     * scores are kept (memory, else disk) for the few jobs this runs and released after.
     */
    public static BinaryMetrics of(JavaRDD<BinaryScores.Scored> scores, double threshold) {
        checkThreshold(threshold);
        scores.persist(StorageLevel.MEMORY_AND_DISK());
        try {
            Evaluation atThreshold = BinaryScores.emptyEvaluation(threshold);
            // collect() returns the parts in partition order.
            for (Evaluation part : scores.mapPartitions(rows -> List.of(BinaryScores.evaluation(rows, threshold))
                    .iterator(), true).collect()) {
                atThreshold.merge(part);
            }
            var counts = atThreshold.getConfusionMatrix();
            if (counts.getActualTotal(0) == 0 || counts.getActualTotal(1) == 0) {
                // Spark would report a curve along one axis (an area of 0 or 1) where there is no curve.
                return new BinaryMetrics(threshold, atThreshold, Double.NaN, Double.NaN, List.of());
            }
            RDD<Tuple2<Object, Object>> scoreAndLabel = scores
                    .map(s -> new Tuple2<Object, Object>((double) s.score(), (double) s.label())).rdd();
            BinaryClassificationMetrics exact = new BinaryClassificationMetrics(scoreAndLabel);
            BinaryClassificationMetrics binned = new BinaryClassificationMetrics(scoreAndLabel, CURVE_BINS);
            try {
                List<RocPoint> curve = new ArrayList<>();
                for (Tuple2<Object, Object> point : binned.roc().toJavaRDD().collect()) {
                    curve.add(new RocPoint((Double) point._1(), (Double) point._2()));
                }
                return new BinaryMetrics(threshold, atThreshold, exact.areaUnderROC(), exact.areaUnderPR(), curve);
            } finally {
                exact.unpersist();
                binned.unpersist();
            }
        } finally {
            scores.unpersist(false);
        }
    }

    /**
     * The metrics of {@code state}'s network on {@code data} at the default threshold: train's test
     * evaluation. The parameters are broadcast once.
     */
    public static BinaryMetrics of(JavaSparkContext jsc, BatchedData data, ModelSpec spec, TrainingState state) {
        MultiLayerNetwork net = new MultiLayerNetwork(spec.configuration());
        net.init();
        state.loadInto(net);
        try (ModelOnPartitions<InferenceModel> model = ModelOnPartitions.broadcast(jsc, InferenceModel.of(net, spec))) {
            return of(model.map(data.batches(), BinaryScores::of), DEFAULT_THRESHOLD);
        }
    }

    /** Rows evaluated. */
    public long examples() {
        return atThreshold.getNumRowCounter();
    }

    /** Rows of class 1. */
    public long positives() {
        return atThreshold.getConfusionMatrix().getActualTotal(1);
    }

    /** Rows of class 0. */
    public long negatives() {
        return atThreshold.getConfusionMatrix().getActualTotal(0);
    }

    public double accuracy() {
        return atThreshold.accuracy();
    }

    /** Of the rows predicted as class 1, the share that are; DL4J's 0 when none is predicted so. */
    public double precision() {
        return atThreshold.precision(1);
    }

    /** Of the rows of class 1, the share predicted so. */
    public double recall() {
        return atThreshold.recall(1);
    }

    public double f1() {
        return atThreshold.f1(1);
    }

    /**
     * One line for the console, e.g. {@code threshold 0.5 (positive class 1): precision 0.9123 -
     * recall 0.8810 - F1 0.8964 - ROC AUC 0.9501 - PR AUC 0.9433}.
     */
    public String summary(int decimals) {
        return String.format(Locale.ROOT, "threshold %s (positive class 1): precision %s - recall %s - F1 %s - "
                        + "ROC AUC %s - PR AUC %s", threshold, number(precision(), decimals),
                number(recall(), decimals), number(f1(), decimals), number(rocAuc, decimals), number(prAuc, decimals));
    }

    private static String number(double v, int decimals) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, "%." + decimals + "f", v)
                : "undefined (one class only)";
    }

    /**
     * The metrics as evaluation.json's {@code binary} and history.json's {@code test_binary} hold
     * them; a value that is not a number is null.
     */
    public Map<String, Object> describe() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("positive_class", 1);
        m.put("threshold", threshold);
        m.put("examples", examples());
        m.put("positives", positives());
        m.put("negatives", negatives());
        m.put("accuracy", finite(accuracy()));
        m.put("precision", finite(precision()));
        m.put("recall", finite(recall()));
        m.put("f1", finite(f1()));
        m.put("roc_auc", finite(rocAuc));
        m.put("pr_auc", finite(prAuc));
        List<Double> fpr = new ArrayList<>();
        List<Double> tpr = new ArrayList<>();
        for (RocPoint p : rocCurve) {
            fpr.add(p.falsePositiveRate());
            tpr.add(p.truePositiveRate());
        }
        Map<String, Object> curve = new LinkedHashMap<>();
        curve.put("bins", CURVE_BINS);
        curve.put("false_positive_rate", fpr);
        curve.put("true_positive_rate", tpr);
        m.put("roc_curve", curve);
        return m;
    }

    private static Double finite(double value) {
        return Double.isFinite(value) ? value : null;
    }
}
