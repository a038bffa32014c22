package dptrain.ml;

import dptrain.driver.DistributedTrainer;
import dptrain.driver.rounds.EpochRecord;
import dptrain.spec.ModelSpec;
import java.util.List;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.Identifiable$;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructType;

/**
 * A Spark ML Estimator that trains a dptrain regression network data-parallel on a DataFrame:
 * features from {@code featuresCol} (a vector), real-valued targets from {@code labelCol} (a
 * number, or an array or vector with one value per output unit), the network from {@code spec},
 * whose loss must be a regression loss (mse, mae, huber or mean_squared_logarithmic_error).
 * {@link #fit} runs dptrain's distributed training ({@link DistributedTrainer}) on the DataFrame's
 * rows where they are, with the Params and checks of {@link DptrainClassifier}, and returns a
 * {@link DptrainRegressionModel}. It is a Spark ML Estimator with the Params of a Predictor
 * ({@code featuresCol}, {@code labelCol}, {@code predictionCol}), not a subclass of Spark's
 * {@code Predictor}: SPARK-ML.md says why.
 *
 * <pre>{@code
 * DptrainRegressor regressor = new DptrainRegressor()
 *         .setSpec(specText).setEpochs(30).setBatchSize(16).setWorkers(2);
 * DptrainRegressionModel model = regressor.fit(training);
 * double mae = new RegressionEvaluator().setMetricName("mae").evaluate(model.transform(test));
 * }</pre>
 */
public final class DptrainRegressor extends NetworkEstimator<DptrainRegressionModel> {
    private static final long serialVersionUID = 1L;

    public DptrainRegressor() {
        this(Identifiable$.MODULE$.randomUID("dptrainRegressor"));
    }

    /** For Spark ML persistence and copies: an estimator with this unique id. */
    public DptrainRegressor(String uid) {
        super(uid, "regressor", ParamRules.REAL_TARGETS, ParamRules.PREDICTED_VALUES);
    }

    public DptrainRegressor setSpec(String value) {
        return put(spec(), value);
    }

    public DptrainRegressor setEpochs(int value) {
        return put(epochs(), value);
    }

    public DptrainRegressor setBatchSize(int value) {
        return put(batchSize(), value);
    }

    /** What the batch size counts: {@code worker}, {@code global} or {@code auto}. */
    public DptrainRegressor setBatchScope(String value) {
        return put(batchScope(), value);
    }

    /** The precision of the rounds' parameter deltas: {@code float32}, {@code float16} or {@code bfloat16}. */
    public DptrainRegressor setDeltaPrecision(String value) {
        return put(deltaPrecision(), value);
    }

    /** Where the optimizer state lives between rounds: {@code averaged} or {@code local}. */
    public DptrainRegressor setOptimizerState(String value) {
        return put(optimizerState(), value);
    }

    public DptrainRegressor setWorkers(int value) {
        return put(workers(), value);
    }

    /** Every {@code value} minibatches per replica, {@code epoch} or {@code auto}. */
    public DptrainRegressor setAveragingFrequency(String value) {
        return put(averagingFrequency(), value);
    }

    /** Every {@code minibatches} minibatches per replica. */
    public DptrainRegressor setAveragingFrequency(int minibatches) {
        return setAveragingFrequency(Integer.toString(minibatches));
    }

    public DptrainRegressor setLearningRate(double value) {
        return put(learningRate(), value);
    }

    public DptrainRegressor setSeed(long value) {
        return put(seed(), value);
    }

    public DptrainRegressor setValidationFraction(double value) {
        return put(validationFraction(), value);
    }

    public DptrainRegressor setFeaturesCol(String value) {
        return put(featuresCol(), value);
    }

    /** "pre" or "post" pads shorter sequences with 0 as Keras's pad_sequences does; "none" (default) refuses them. */
    public DptrainRegressor setPadSequences(String value) {
        return put(padSequences(), value);
    }

    /** "pre" or "post" truncates longer sequences as Keras's pad_sequences does; "none" (default) refuses them. */
    public DptrainRegressor setTruncateSequences(String value) {
        return put(truncateSequences(), value);
    }

    public DptrainRegressor setLabelCol(String value) {
        return put(labelCol(), value);
    }

    public DptrainRegressor setPredictionCol(String value) {
        return put(predictionCol(), value);
    }

    private <T> DptrainRegressor put(Param<T> param, T value) {
        set(param, value);
        return this;
    }

    @Override
    void checkLabels(StructType schema) {
        ParamRules.checkTargets(this, schema, "labelCol", getLabelCol());
    }

    /**
     * The prediction is a double or a vector by the spec's output units, so this reads the spec
     * (fit reads it anyway); before a spec is set, the one-output double.
     */
    @Override
    StructType outputSchema(StructType schema) {
        String prediction = getOrDefault(predictionCol());
        ParamRules.checkNew(this, schema, "predictionCol", prediction);
        int outputs = isDefined(spec())
                ? resolveSpec(SparkSession.active().sparkContext().hadoopConfiguration()).outputSize() : 1;
        return DptrainRegressionModel.addOutputColumn(this, schema, prediction, outputs);
    }

    @Override
    void checkKind(ModelSpec spec) {
        if (!spec.isRegression()) {
            throw new IllegalArgumentException("DptrainRegressor spec: loss: " + spec.lossName() + " is a "
                    + "classification loss; expected a regression loss (mse, mae, huber or "
                    + "mean_squared_logarithmic_error), or DptrainClassifier for classification");
        }
    }

    @Override
    DptrainRegressionModel model(String uid, ModelSpec spec, float[] parameters, List<EpochRecord> history) {
        return new DptrainRegressionModel(uid, spec, parameters, history);
    }

    /** Trains the spec's network on {@code dataset}'s rows, where they are, and returns it as a model. */
    @Override
    public DptrainRegressionModel fit(Dataset<?> dataset) {
        return super.fit(dataset);
    }

    @Override
    public DptrainRegressor copy(ParamMap extra) {
        return defaultCopy(extra);
    }

    public static MLReader<DptrainRegressor> read() {
        return new DefaultParamsReader<>();
    }

    public static DptrainRegressor load(String path) {
        return read().load(path);
    }
}
