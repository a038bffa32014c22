package dptrain.driver.inference;

import dptrain.data.Minibatch;
import dptrain.inference.InferenceModel;
import dptrain.replica.TrainingState;
import dptrain.spec.ModelSpec;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.JavaDoubleRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.mllib.evaluation.RegressionMetrics;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;
import org.apache.spark.util.StatCounter;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import scala.Tuple2;

/**
 * How well a regression model's predictions match the targets, computed where the data lives: Spark's own
 * {@link RegressionMetrics} (mean absolute and squared error, their root, R²) over every target value, a summary of
 * the residuals (actual minus predicted), the mean loss, and a seeded sample of (actual, predicted) pairs for the
 * report's chart. With several outputs every target value counts once, as Keras's {@code mae} averages them.
 *
 * @param examples  examples evaluated
 * @param targets   target values per example (the model's output units)
 * @param loss      the mean loss per example, as DL4J's score computes it (regularization included)
 * @param mae       mean absolute error
 * @param mse       mean squared error
 * @param rmse      root mean squared error
 * @param r2        the coefficient of determination, 1 - residual sum of squares / total sum of squares
 * @param residuals the distribution of actual minus predicted
 * @param sample    up to {@link #SAMPLE_SIZE} (actual, predicted) pairs, chosen by a seeded sample
 */
public record RegressionEvaluation(long examples, int targets, double loss, double mae, double mse, double rmse,
        double r2, Residuals residuals, List<Point> sample) implements Serializable {

    /** Points kept for the predicted-against-actual chart. */
    public static final int SAMPLE_SIZE = 2000;
    private static final long SAMPLE_SEED = 42;
    /** approxQuantile's relative rank error for the residual quartiles. */
    private static final double QUANTILE_ERROR = 1e-4;

    public RegressionEvaluation {
        sample = List.copyOf(sample);
    }

    /**
     * The residuals' distribution (actual minus predicted): mean, standard deviation, extremes and quartiles (the
     * quartiles to within 0.01% of rank, Spark's approxQuantile).
     */
    public record Residuals(double mean, double std, double min, double q1, double median, double q3, double max)
            implements Serializable {
    }

    /** One target value and the model's prediction of it. */
    public record Point(double actual, double predicted) implements Serializable {
    }

    /** One example's targets, predictions and loss. */
    private record Scored(float[] actual, float[] predicted, double loss) implements Serializable {
    }

    /** Evaluates {@code state} on {@code data}'s minibatches, as the test evaluation after training does. */
    public static RegressionEvaluation of(JavaSparkContext jsc, ModelSpec spec, TrainingState state,
            JavaRDD<Minibatch> batches) {
        MultiLayerNetwork net = new MultiLayerNetwork(spec.configuration());
        net.init();
        state.loadInto(net);
        return of(jsc, InferenceModel.of(net, spec), batches);
    }

    /** Evaluates {@code model} on {@code batches} (built with the model's scaling and normalizer). */
    public static RegressionEvaluation of(JavaSparkContext jsc, InferenceModel model, JavaRDD<Minibatch> batches) {
        try (ModelOnPartitions<InferenceModel> parameters = ModelOnPartitions.broadcast(jsc, model)) {
            JavaRDD<Scored> scored = parameters.map(batches, RegressionEvaluation::score)
                    .persist(StorageLevel.MEMORY_AND_DISK());
            try {
                return summarize(jsc, scored);
            } finally {
                scored.unpersist(false);
            }
        }
    }

    private static RegressionEvaluation summarize(JavaSparkContext jsc, JavaRDD<Scored> scored) {
        JavaRDD<Tuple2<Object, Object>> pairs = scored.flatMap(s -> {
            List<Tuple2<Object, Object>> values = new ArrayList<>(s.actual().length);
            for (int t = 0; t < s.actual().length; t++) {
                values.add(new Tuple2<>((double) s.predicted()[t], (double) s.actual()[t]));
            }
            return values.iterator();
        });
        RegressionMetrics metrics = new RegressionMetrics(pairs.rdd());
        StatCounter losses = scored.mapToDouble(Scored::loss).stats();
        JavaDoubleRDD residualValues = pairs.mapToDouble(p -> (Double) p._2() - (Double) p._1());
        StatCounter residualStats = residualValues.stats();
        SparkSession spark = SparkSession.builder().sparkContext(jsc.sc()).getOrCreate();
        Dataset<Row> residualTable = spark.createDataFrame(residualValues.map(RowFactory::create),
                new StructType().add("residual", DataTypes.DoubleType, false));
        double[] quartiles = residualTable.stat().approxQuantile("residual", new double[] {0.25, 0.5, 0.75},
                QUANTILE_ERROR);
        long values = residualStats.count();
        double fraction = values == 0 ? 0 : Math.min(1.0, 1.2 * SAMPLE_SIZE / values);
        List<Point> sample = new ArrayList<>(pairs.sample(false, fraction, SAMPLE_SEED)
                .map(p -> new Point((Double) p._2(), (Double) p._1())).collect());
        if (sample.size() > SAMPLE_SIZE) {
            sample = sample.subList(0, SAMPLE_SIZE);
        }
        sample.sort(Comparator.comparingDouble(Point::actual));
        long examples = losses.count();
        int targets = examples == 0 ? 0 : (int) (values / examples);
        return new RegressionEvaluation(examples, targets, losses.mean(), metrics.meanAbsoluteError(),
                metrics.meanSquaredError(), metrics.rootMeanSquaredError(), metrics.r2(),
                new Residuals(residualStats.mean(), residualStats.stdev(), residualStats.min(), quartiles[0],
                        quartiles[1], quartiles[2], residualStats.max()),
                sample);
    }

    /** One partition's examples scored by a network of its own. */
    private static Iterator<Scored> score(InferenceModel model, Iterator<Minibatch> batches) {
        List<Scored> scored = new ArrayList<>();
        MultiLayerNetwork net = batches.hasNext() ? model.network() : null;
        while (batches.hasNext()) {
            Minibatch batch = batches.next();
            INDArray features = batch.featuresArray();
            INDArray output = net.output(features, false).castTo(DataType.FLOAT).dup('c');
            INDArray losses = net.scoreExamples(new DataSet(features, batch.targetsArray()), true);
            int columns = (int) output.columns();
            float[] values = output.data().asFloat();
            for (int r = 0; r < batch.rows(); r++) {
                float[] actual = new float[columns];
                float[] predicted = new float[columns];
                for (int c = 0; c < columns; c++) {
                    actual[c] = batch.target(r, c);
                    predicted[c] = values[r * columns + c];
                }
                scored.add(new Scored(actual, predicted, losses.getDouble(r)));
            }
        }
        return scored.iterator();
    }

    /** The figures as evaluation.json and history.json record them (the sample apart). */
    public Map<String, Object> describe() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("examples", examples);
        m.put("loss", finite(loss));
        m.put("mae", finite(mae));
        m.put("mse", finite(mse));
        m.put("rmse", finite(rmse));
        m.put("r2", finite(r2));
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("mean", finite(residuals.mean()));
        r.put("std", finite(residuals.std()));
        r.put("min", finite(residuals.min()));
        r.put("q1", finite(residuals.q1()));
        r.put("median", finite(residuals.median()));
        r.put("q3", finite(residuals.q3()));
        r.put("max", finite(residuals.max()));
        m.put("residuals", r);
        return m;
    }

    /** The sample as two parallel lists, {@code actual} and {@code predicted}. */
    public Map<String, Object> describeSample() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("actual", sample.stream().map(Point::actual).toList());
        m.put("predicted", sample.stream().map(Point::predicted).toList());
        return m;
    }

    private static Double finite(double value) {
        return Double.isFinite(value) ? value : null;
    }
}
