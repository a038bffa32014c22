package dptrain.ml;

import dptrain.data.ExampleCheck;
import dptrain.data.SequenceLength;
import dptrain.driver.DistributedTrainer;
import dptrain.driver.TrainingConfig;
import dptrain.driver.TrainingConfigBuilder;
import dptrain.driver.TrainingProgress;
import dptrain.driver.TrainingResult;
import dptrain.driver.files.InputException;
import dptrain.driver.files.InputFiles;
import dptrain.driver.files.ParameterException;
import dptrain.driver.input.DataInput;
import dptrain.driver.input.DatasetExamples;
import dptrain.driver.input.IndexedExamples;
import dptrain.driver.metrics.TrainingMetrics;
import dptrain.driver.pipeline.BatchScope;
import dptrain.driver.rounds.AveragingSchedule;
import dptrain.driver.rounds.EpochRecord;
import dptrain.spec.ModelFile;
import dptrain.spec.ModelSpec;
import dptrain.spec.Normalization;
import dptrain.spec.SpecException;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.ml.Estimator;
import org.apache.spark.ml.param.DoubleParam;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.LongParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.util.DefaultParamsWritable;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.types.StructType;

/**
 * What {@link DptrainClassifier} and {@link DptrainRegressor} share: the training Params, each
 * declared here once with its default, doc and rule, and {@link #fit}, which reads the spec, checks
 * every row, trains data-parallel ({@link DistributedTrainer}) and hands the trained parameters to
 * the subclass's model. A subclass adds its output Params, its label column's check and the kind
 * of spec it takes. Messages name the subclass, so they read "DptrainClassifier epochs: ...".
 */
abstract class NetworkEstimator<M extends NetworkModel<M>> extends Estimator<M> implements DefaultParamsWritable {
    private static final long serialVersionUID = 1L;

    /** The Params whose names are not the camel case of the training parameter's key. */
    private static final Map<String, String> PARAM_NAMES = Map.of("validation_split", "validationFraction",
            "train", "the DataFrame");

    private final String uid;
    /** What the subclass is called in prose: "classifier", "regressor". */
    private final String role;
    private final Param<String> spec;
    private final IntParam epochs;
    private final IntParam batchSize;
    private final Param<String> batchScope;
    private final Param<String> deltaPrecision;
    private final Param<String> optimizerState;
    private final IntParam workers;
    private final Param<String> averagingFrequency;
    private final DoubleParam learningRate;
    private final LongParam seed;
    private final DoubleParam validationFraction;
    private final Param<String> featuresCol;
    private final Param<String> labelCol;
    private final Param<String> predictionCol;
    private final Param<String> padSequences;
    private final Param<String> truncateSequences;

    /**
     * @param labels      what the label column holds, for its doc ({@link ParamRules#CLASS_LABELS}, ...)
     * @param predictions what the prediction column holds, for its doc
     */
    NetworkEstimator(String uid, String role, String labels, String predictions) {
        this.uid = uid;
        this.role = role;
        spec = new Param<>(this, "spec", "the network: a path (any Hadoop filesystem) to a dptrain model spec, or the "
                + "spec itself as YAML/JSON text (text starting with '{' or spanning lines); see src/docs/SPEC.md",
                ParamRules.rule(this, "spec", (String s) -> !s.isBlank(), "a spec path or YAML/JSON spec text"));
        epochs = new IntParam(this, "epochs", "passes over the training data",
                ParamRules.rule(this, "epochs", (Integer n) -> n >= 1, "a whole number >= 1"));
        batchSize = new IntParam(this, "batchSize", "examples per minibatch, of all workers together or per worker "
                + "as batchScope says",
                ParamRules.rule(this, "batchSize", (Integer n) -> n >= 1, "a whole number >= 1"));
        batchScope = new Param<>(this, "batchScope", "what batchSize counts, as the CLI's --batch-scope: 'worker' "
                + "(each worker's minibatch), 'global' (all workers' together, each taking ceil(batchSize/N)) or "
                + "'auto' (split only as far as every replica keeps " + BatchScope.AUTO_MIN_MINIBATCHES_PER_EPOCH
                + " minibatches per epoch) (default: '" + TrainingConfig.DEFAULT_BATCH_SCOPE + "'; PARITY.md)",
                ParamRules.rule(this, "batchScope", (String k) -> parses(BatchScope::parse, k),
                        "worker, global or auto"));
        deltaPrecision = new Param<>(this, "deltaPrecision", "the precision each averaging round's parameter deltas "
                + "travel in, as the CLI's --delta-precision: 'float32' (exact), 'float16' or 'bfloat16' (rounded, "
                + "with error feedback; an epoch's last round stays float32) (default: '"
                + TrainingConfig.DEFAULT_DELTA_PRECISION + "'; PARITY.md)",
                ParamRules.rule(this, "deltaPrecision",
                        (String k) -> parses(TrainingConfigBuilder::parseDeltaPrecision, k),
                        "float32, float16 or bfloat16"));
        optimizerState = new Param<>(this, "optimizerState", "where the optimizer state lives between averaging "
                + "rounds, as the CLI's --optimizer-state: 'averaged' (with the parameters) or 'local' (each replica "
                + "keeps its own; an epoch's last round averages it) (default: '"
                + TrainingConfig.DEFAULT_OPTIMIZER_STATE + "'; PARITY.md)",
                ParamRules.rule(this, "optimizerState",
                        (String k) -> parses(TrainingConfigBuilder::parseOptimizerState, k), "averaged or local"));
        workers = new IntParam(this, "workers", "model replicas, one Spark partition each (default: Spark's default "
                + "parallelism)", ParamRules.rule(this, "workers", (Integer n) -> n >= 1, "a whole number >= 1"));
        averagingFrequency = new Param<>(this, "averagingFrequency", "how often the replicas are averaged: every K "
                + "minibatches per replica ('16'), once per epoch ('epoch'), or 'auto' (the default, as for the CLI: "
                + "every " + AveragingSchedule.RECOMMENDED_MINIBATCHES_PER_ROUND + " minibatches with Nesterov block "
                + "momentum for 2+ workers, once per epoch for one; PARITY.md)",
                ParamRules.rule(this, "averagingFrequency", (String k) -> parses(AveragingSchedule::parse, k),
                        "a whole number of minibatches >= 1, 'epoch' or 'auto'"));
        learningRate = new DoubleParam(this, "learningRate", "the optimizer's learning rate, replacing the spec's "
                + "(default: the spec's)", ParamRules.rule(this, "learningRate",
                        (Double r) -> r > 0 && Double.isFinite(r), "a number > 0"));
        seed = new LongParam(this, "seed", "seeds the shuffle, the validation split and dropout (default: the spec's "
                + "seed; weight initialization always uses the spec's seed)",
                ParamRules.rule(this, "seed", (Long s) -> true, "a whole number"));
        validationFraction = new DoubleParam(this, "validationFraction", "fraction of the rows held out after a "
                + "seeded shuffle to report validation loss and metrics per epoch; 0 for none",
                ParamRules.rule(this, "validationFraction", (Double f) -> f >= 0 && f < 1, "a fraction in [0, 1)"));
        featuresCol = ParamRules.featuresCol(this);
        labelCol = ParamRules.labelCol(this, labels);
        predictionCol = ParamRules.predictionCol(this, predictions);
        padSequences = ParamRules.padSequences(this);
        truncateSequences = ParamRules.truncateSequences(this);
        setDefault(padSequences, ParamRules.NO_SEQUENCE_FITTING);
        setDefault(truncateSequences, ParamRules.NO_SEQUENCE_FITTING);
        setDefault(epochs, TrainingConfig.DEFAULT_EPOCHS);
        setDefault(batchSize, TrainingConfig.DEFAULT_BATCH_SIZE);
        setDefault(batchScope, TrainingConfig.DEFAULT_BATCH_SCOPE.toString());
        setDefault(deltaPrecision, TrainingConfig.DEFAULT_DELTA_PRECISION.toString());
        setDefault(optimizerState, TrainingConfig.DEFAULT_OPTIMIZER_STATE.toString());
        setDefault(averagingFrequency, AveragingSchedule.AUTO.toString());
        setDefault(validationFraction, 0.0);
        setDefault(featuresCol, ParamRules.FEATURES_COL);
        setDefault(labelCol, ParamRules.LABEL_COL);
        setDefault(predictionCol, ParamRules.PREDICTION_COL);
    }

    @Override
    public String uid() {
        return uid;
    }

    // Spark ML finds params through public no-argument methods returning them.

    public Param<String> spec() {
        return spec;
    }

    public IntParam epochs() {
        return epochs;
    }

    public IntParam batchSize() {
        return batchSize;
    }

    public Param<String> batchScope() {
        return batchScope;
    }

    public Param<String> deltaPrecision() {
        return deltaPrecision;
    }

    public Param<String> optimizerState() {
        return optimizerState;
    }

    public IntParam workers() {
        return workers;
    }

    public Param<String> averagingFrequency() {
        return averagingFrequency;
    }

    public DoubleParam learningRate() {
        return learningRate;
    }

    public LongParam seed() {
        return seed;
    }

    public DoubleParam validationFraction() {
        return validationFraction;
    }

    public Param<String> featuresCol() {
        return featuresCol;
    }

    public Param<String> labelCol() {
        return labelCol;
    }

    public Param<String> predictionCol() {
        return predictionCol;
    }

    public String getSpec() {
        return getOrDefault(spec);
    }

    public int getEpochs() {
        return (Integer) getOrDefault(epochs);
    }

    public int getBatchSize() {
        return (Integer) getOrDefault(batchSize);
    }

    public String getBatchScope() {
        return getOrDefault(batchScope);
    }

    public String getDeltaPrecision() {
        return getOrDefault(deltaPrecision);
    }

    public String getOptimizerState() {
        return getOrDefault(optimizerState);
    }

    public String getAveragingFrequency() {
        return getOrDefault(averagingFrequency);
    }

    public double getValidationFraction() {
        return (Double) getOrDefault(validationFraction);
    }

    public String getFeaturesCol() {
        return getOrDefault(featuresCol);
    }

    public Param<String> padSequences() {
        return padSequences;
    }

    public Param<String> truncateSequences() {
        return truncateSequences;
    }

    /** How rows of another length than the spec's timesteps are fitted, from padSequences and truncateSequences. */
    SequenceLength sequenceLength() {
        return ParamRules.sequenceLength(getOrDefault(padSequences), getOrDefault(truncateSequences));
    }

    public String getLabelCol() {
        return getOrDefault(labelCol);
    }

    /** Whether {@code parse} accepts {@code text}: the check behind a string param's rule. */
    private static boolean parses(java.util.function.Function<String, ?> parse, String text) {
        try {
            parse.apply(text);
            return true;
        } catch (ParameterException e) {
            return false;
        }
    }

    @Override
    public StructType transformSchema(StructType schema) {
        ParamRules.checkFeatures(this, schema, "featuresCol", getFeaturesCol());
        checkLabels(schema);
        return outputSchema(schema);
    }

    /** Fails unless {@code schema}'s label column holds what this estimator learns from. */
    abstract void checkLabels(StructType schema);

    /** {@code schema} with the model's output columns added, after checking they are new. */
    abstract StructType outputSchema(StructType schema);

    /** Fails, naming the spec param, unless {@code spec} is the kind of network this estimator trains. */
    abstract void checkKind(ModelSpec spec);

    /** The trained model, before its Params are copied from this estimator. */
    abstract M model(String uid, ModelSpec spec, float[] parameters, List<EpochRecord> history);

    @Override
    public M fit(Dataset<?> dataset) {
        transformSchema(dataset.schema());
        String name = getClass().getSimpleName();
        if (!isDefined(spec)) {
            throw new IllegalArgumentException(name + " spec: not set; expected a spec path or YAML/JSON spec text "
                    + "(setSpec)");
        }
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(dataset.sparkSession().sparkContext());
        ModelSpec model = resolveSpec(jsc.hadoopConfiguration());
        int replicas = isDefined(workers) ? (Integer) getOrDefault(workers) : jsc.defaultParallelism();
        long shuffleSeed = isDefined(seed) ? (Long) getOrDefault(seed) : model.seed();
        // The rows are read once: the check keeps the decoded examples until they are batched.
        IndexedExamples examples = DatasetExamples.read(dataset, getFeaturesCol(), getLabelCol(),
                new ExampleCheck(model), sequenceLength(), name + " input");
        try {
            checkSizes(examples.count(), replicas);
            TrainingConfig config;
            try {
                config = TrainingConfig.builder(model, DataInput.dataFrame(getFeaturesCol(), getLabelCol())
                                .withSequences(sequenceLength()))
                        .epochs(getEpochs()).batchSize(getBatchSize())
                        .batchScope(BatchScope.parse(getBatchScope())).workers(replicas)
                        .deltaPrecision(TrainingConfigBuilder.parseDeltaPrecision(getDeltaPrecision()))
                        .optimizerState(TrainingConfigBuilder.parseOptimizerState(getOptimizerState()))
                        .averaging(AveragingSchedule.parse(getAveragingFrequency()))
                        .validationSplit(getValidationFraction()).seed(shuffleSeed).build();
            } catch (ParameterException e) {
                throw new IllegalArgumentException(name + " " + e.message(PARAM_NAMES, ParamRules::camelCase), e);
            }
            TrainingResult result;
            try (TrainingMetrics metrics = TrainingMetrics.register()) {
                result = new DistributedTrainer(jsc).train(config, examples,
                        metrics.recordingThen(new TrainingProgress() { }));
            }
            M trained = model(uid, model, result.finalState().copyParameters(), result.epochs());
            copyValues(trained, new ParamMap());
            return trained.setParent(this);
        } finally {
            examples.release();
        }
    }

    /** The batch size and worker count must fit the rows left for training after the validation split. */
    private void checkSizes(long rows, int replicas) {
        String name = getClass().getSimpleName();
        long training = rows - Math.round(rows * getValidationFraction());
        if (training < getBatchSize()) {
            throw new IllegalArgumentException(name + " batchSize: " + getBatchSize() + " is larger than the "
                    + training + " rows left for training (of " + rows + "); expected at most that many");
        }
        if (training < replicas) {
            throw new IllegalArgumentException(name + " workers: " + replicas + " workers need at least as "
                    + "many training rows, but there are " + training + " (of " + rows + ")");
        }
    }

    /**
     * The spec param as a model spec: text starting with '{' or spanning lines is the spec itself,
     * anything else a path. With learningRate set, the optimizer's learning rate is replaced.
     */
    ModelSpec resolveSpec(Configuration hadoop) {
        String name = getClass().getSimpleName();
        String value = getSpec();
        boolean inline = value.strip().startsWith("{") || value.strip().contains("\n");
        ModelSpec parsed;
        try {
            parsed = inline
                    ? ModelFile.parseSpec(value, name + " spec (inline text)")
                    : ModelFile.parseSpec(InputFiles.readText(value.strip(), hadoop), name + " spec " + value.strip());
            if (isDefined(learningRate)) {
                parsed = parsed.withLearningRate((Double) getOrDefault(learningRate));
            }
        } catch (SpecException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        } catch (InputException e) {
            throw new IllegalArgumentException(name + " spec: " + e.getMessage()
                    + " (the spec param is read as a path unless it starts with '{' or spans lines)", e);
        }
        if (parsed.normalization() != Normalization.NONE) {
            throw new IllegalArgumentException(name + " spec: normalization: " + parsed.normalization().specName()
                    + " is not applied by " + name + "; expected no normalization in the spec, with a StandardScaler "
                    + "or MinMaxScaler stage before the " + role + " in the Pipeline instead");
        }
        checkKind(parsed);
        return parsed;
    }
}
