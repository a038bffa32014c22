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
import org.apache.spark.sql.types.StructType;

/**
 * A Spark ML Estimator that trains a dptrain network data-parallel on a DataFrame: features from
 * {@code featuresCol} (a vector), class indices from {@code labelCol}, the network from
 * {@code spec}. {@link #fit} runs dptrain's distributed training ({@link DistributedTrainer}) on
 * the DataFrame's rows where they are, and returns a {@link DptrainClassificationModel}. The
 * training Params and {@code fit} are those of {@link DptrainRegressor} too.
 *
 * <pre>{@code
 * DptrainClassifier classifier = new DptrainClassifier()
 *         .setSpec("src/examples/mnist-mlp.yaml").setEpochs(2).setWorkers(2).setLearningRate(0.01);
 * DptrainClassificationModel model = classifier.fit(training);
 * Dataset<Row> predictions = model.transform(test);
 * }</pre>
 */
public final class DptrainClassifier extends NetworkEstimator<DptrainClassificationModel> {
    private static final long serialVersionUID = 1L;

    private final Param<String> probabilityCol;

    public DptrainClassifier() {
        this(Identifiable$.MODULE$.randomUID("dptrainClassifier"));
    }

    /** For Spark ML persistence and copies: an estimator with this unique id. */
    public DptrainClassifier(String uid) {
        super(uid, "classifier", ParamRules.CLASS_LABELS, ParamRules.PREDICTED_CLASS);
        probabilityCol = ParamRules.probabilityCol(this);
        setDefault(probabilityCol, ParamRules.PROBABILITY_COL);
    }

    public Param<String> probabilityCol() {
        return probabilityCol;
    }

    public DptrainClassifier setSpec(String value) {
        return put(spec(), value);
    }

    public DptrainClassifier setEpochs(int value) {
        return put(epochs(), value);
    }

    public DptrainClassifier setBatchSize(int value) {
        return put(batchSize(), value);
    }

    /** What the batch size counts: {@code worker}, {@code global} or {@code auto}. */
    public DptrainClassifier setBatchScope(String value) {
        return put(batchScope(), value);
    }

    /** The precision of the rounds' parameter deltas: {@code float32}, {@code float16} or {@code bfloat16}. */
    public DptrainClassifier setDeltaPrecision(String value) {
        return put(deltaPrecision(), value);
    }

    /** Where the optimizer state lives between rounds: {@code averaged} or {@code local}. */
    public DptrainClassifier setOptimizerState(String value) {
        return put(optimizerState(), value);
    }

    public DptrainClassifier setWorkers(int value) {
        return put(workers(), value);
    }

    /** Every {@code value} minibatches per replica, {@code epoch} or {@code auto}. */
    public DptrainClassifier setAveragingFrequency(String value) {
        return put(averagingFrequency(), value);
    }

    /** Every {@code minibatches} minibatches per replica. */
    public DptrainClassifier setAveragingFrequency(int minibatches) {
        return setAveragingFrequency(Integer.toString(minibatches));
    }

    public DptrainClassifier setLearningRate(double value) {
        return put(learningRate(), value);
    }

    public DptrainClassifier setSeed(long value) {
        return put(seed(), value);
    }

    public DptrainClassifier setValidationFraction(double value) {
        return put(validationFraction(), value);
    }

    public DptrainClassifier setFeaturesCol(String value) {
        return put(featuresCol(), value);
    }

    /** "pre" or "post" pads shorter sequences with 0 as Keras's pad_sequences does; "none" (default) refuses them. */
    public DptrainClassifier setPadSequences(String value) {
        return put(padSequences(), value);
    }

    /** "pre" or "post" truncates longer sequences as Keras's pad_sequences does; "none" (default) refuses them. */
    public DptrainClassifier setTruncateSequences(String value) {
        return put(truncateSequences(), value);
    }

    public DptrainClassifier setLabelCol(String value) {
        return put(labelCol(), value);
    }

    public DptrainClassifier setPredictionCol(String value) {
        return put(predictionCol(), value);
    }

    public DptrainClassifier setProbabilityCol(String value) {
        return put(probabilityCol, value);
    }

    private <T> DptrainClassifier put(Param<T> param, T value) {
        set(param, value);
        return this;
    }

    @Override
    void checkLabels(StructType schema) {
        ParamRules.checkLabel(this, schema, "labelCol", getLabelCol());
    }

    @Override
    StructType outputSchema(StructType schema) {
        return DptrainClassificationModel.addOutputColumns(this, schema, getOrDefault(predictionCol()),
                getOrDefault(probabilityCol));
    }

    @Override
    void checkKind(ModelSpec spec) {
        if (spec.isRegression()) {
            throw new IllegalArgumentException("DptrainClassifier spec: loss: " + spec.lossName() + " is a "
                    + "regression loss; expected a classifier (categorical_crossentropy, "
                    + "sparse_categorical_crossentropy or binary_crossentropy), or DptrainRegressor for regression");
        }
    }

    @Override
    DptrainClassificationModel model(String uid, ModelSpec spec, float[] parameters, List<EpochRecord> history) {
        return new DptrainClassificationModel(uid, spec, parameters, history);
    }

    /** Trains the spec's network on {@code dataset}'s rows, where they are, and returns it as a model. */
    @Override
    public DptrainClassificationModel fit(Dataset<?> dataset) {
        return super.fit(dataset);
    }

    @Override
    public DptrainClassifier copy(ParamMap extra) {
        return defaultCopy(extra);
    }

    public static MLReader<DptrainClassifier> read() {
        return new DefaultParamsReader<>();
    }

    public static DptrainClassifier load(String path) {
        return read().load(path);
    }
}
