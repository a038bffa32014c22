package dptrain.driver;

import dptrain.data.ExampleCheck;
import dptrain.data.MinibatchBuilder;
import dptrain.driver.files.ParameterException;
import dptrain.driver.inference.BinaryMetrics;
import dptrain.driver.inference.ConfusionMatrix;
import dptrain.driver.inference.RegressionEvaluation;
import dptrain.driver.input.DataInput;
import dptrain.driver.input.ExampleSource;
import dptrain.driver.input.IndexedExamples;
import dptrain.driver.input.OnePassRead;
import dptrain.driver.input.ValidationReport;
import dptrain.driver.pipeline.BatchedData;
import dptrain.driver.pipeline.DataPipeline;
import dptrain.replica.ReplicaPool;
import dptrain.replica.ReplicaStats;
import dptrain.replica.TrainingState;
import dptrain.spec.ModelSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;

/**
 * Data-parallel training on Spark: reads and prepares the data (shuffle, split, normalization,
 * minibatches on the executors), runs the {@link TrainingLoop} of synchronous parameter averaging,
 * and evaluates the result on the test data. Also K-fold cross-validation over the same steps.
 *
 * <p>Averaging more often keeps replicas closer (better accuracy with many workers) but costs a
 * broadcast and an aggregation of the whole state per round.
 */
public final class DistributedTrainer {
    private final JavaSparkContext jsc;

    public DistributedTrainer(JavaSparkContext jsc) {
        this.jsc = jsc;
    }

    /** Trains as {@code config} says, telling {@code progress} as it goes. */
    public TrainingResult train(TrainingConfig given, TrainingProgress progress) {
        TrainingConfig config = given.resolve(jsc.defaultParallelism());
        ModelSpec spec = config.spec();
        ExampleCheck check = new ExampleCheck(spec);
        int workers = config.workers();

        jsc.setJobDescription("dptrain read and shuffle training data");
        IndexedExamples trainExamples =
                OnePassRead.read(jsc, config.train(), "--train", check, spec.inputSize(), workers,
                        config.cache().examplesLevel());
        int workerBatch = config.workerBatchSize(trainingRows(trainExamples.count(), config.validationFraction()));
        DataPipeline pipeline = new DataPipeline(builder(config, config.train(), workerBatch), workers, config.seed(),
                config.cache());
        DataPipeline.Split split;
        try {
            split = trainExamples.whileRead(() -> config.stratify()
                    ? pipeline.stratifiedSplit(trainExamples, config.validationFraction(), spec.normalization())
                    : pipeline.split(trainExamples, config.validationFraction(), spec.normalization()));
        } finally {
            // The split's minibatches are kept: nothing reads the examples again.
            trainExamples.release();
        }
        if (config.validationData().isPresent()) {
            DataInput validationData = config.validationData().get();
            jsc.setJobDescription("dptrain read validation data");
            IndexedExamples validationExamples = OnePassRead.read(jsc, validationData,
                    "--validation-data", check, spec.inputSize(), workers, config.cache().examplesLevel());
            try {
                DataPipeline validationPipeline = new DataPipeline(builder(config, validationData, workerBatch),
                        workers, config.seed(), config.cache());
                DataPipeline.Split trained = split;
                split = new DataPipeline.Split(split.training(), validationExamples.whileRead(
                        () -> validationPipeline.evaluationBatches(validationExamples, trained.normalizer())),
                        split.normalizer());
            } finally {
                validationExamples.release();
            }
            progress.skipped("--validation-data", validationExamples.report());
        }
        BatchedData test = null;
        ValidationReport testReport = null;
        if (config.test().isPresent()) {
            DataInput testData = config.test().get();
            jsc.setJobDescription("dptrain read test data");
            IndexedExamples testExamples =
                    OnePassRead.read(jsc, testData, "--test", check, spec.inputSize(), workers,
                            config.cache().examplesLevel());
            try {
                DataPipeline testPipeline = new DataPipeline(builder(config, testData, workerBatch), workers,
                        config.seed(), config.cache());
                DataPipeline.Split trained = split;
                test = testExamples.whileRead(() -> testPipeline.evaluationBatches(testExamples, trained.normalizer()));
            } finally {
                testExamples.release();
            }
            testReport = testExamples.report();
        }
        progress.skipped("--train", trainExamples.report());
        if (testReport != null) {
            progress.skipped("--test", testReport);
        }
        return trainOn(config, workerBatch, trainExamples.report(), split, test, testReport, progress);
    }

    /** Rows left for training once the validation split holds out its share, as {@link DataPipeline} rounds it. */
    private static long trainingRows(long rows, double validationFraction) {
        return rows - Math.round(rows * validationFraction);
    }

    /**
     * Trains as {@code config} says on examples already read and checked (e.g. from a DataFrame),
     * instead of reading {@code config.train()}: the same split, normalization and training loop.
     * {@code config.train()} still names the data in messages and supplies the feature scale.
     */
    public TrainingResult train(TrainingConfig given, IndexedExamples examples,
            TrainingProgress progress) {
        TrainingConfig config = given.resolve(jsc.defaultParallelism());
        int workerBatch = config.workerBatchSize(trainingRows(examples.count(), config.validationFraction()));
        DataPipeline pipeline = new DataPipeline(builder(config, config.train(), workerBatch), config.workers(),
                config.seed(), config.cache());
        ModelSpec spec = config.spec();
        DataPipeline.Split split = config.stratify()
                ? pipeline.stratifiedSplit(examples, config.validationFraction(), spec.normalization())
                : pipeline.split(examples, config.validationFraction(), spec.normalization());
        return trainOn(config, workerBatch, examples.report(), split, null, null, progress);
    }

    /**
     * K-fold cross-validation: reads and checks the data once, then for each fold trains a model on
     * the other folds (normalization refitted on them) and validates it on the held-out fold.
     *
     * @return one result per fold, in fold order; each result's last epoch holds the held-out metrics
     */
    public List<TrainingResult> crossValidate(TrainingConfig given, int folds, FoldProgress progress) {
        TrainingConfig config = given.resolve(jsc.defaultParallelism());
        ModelSpec spec = config.spec();
        jsc.setJobDescription("dptrain read training data for cross-validation");
        IndexedExamples data = ExampleSource.read(jsc, config.train(), "--train", new ExampleCheck(spec),
                spec.inputSize(), config.workers(), config.cache().examplesLevel());
        if (data.count() < folds) {
            data.release();
            throw new ParameterException("folds", "{folds}: " + folds + " folds need at least as many examples, but "
                    + config.train().uri() + " holds " + data.count());
        }
        progress.skipped("--train", data.report());
        // Every fold reads the examples again, from the copy the read keeps rather than from the files.
        try {
            // Every fold trains on the rows of the other folds.
            int workerBatch = config.workerBatchSize(data.count() - data.count() / folds);
            DataPipeline pipeline = new DataPipeline(builder(config, config.train(), workerBatch), config.workers(),
                    config.seed(), config.cache());
            List<TrainingResult> results = new ArrayList<>();
            for (int fold = 0; fold < folds; fold++) {
                progress.foldStarted(fold + 1, folds);
                DataPipeline.Split split = pipeline.fold(data, fold, folds, spec.normalization());
                TrainingResult result = trainOn(config, workerBatch, data.report(), split, null, null, progress);
                results.add(result);
                progress.foldEnded(fold + 1, folds, result);
            }
            return results;
        } finally {
            data.release();
        }
    }

    /** Receives cross-validation progress: each fold's epochs, framed by fold start and end. */
    public interface FoldProgress extends TrainingProgress {
        default void foldStarted(int fold, int folds) {
        }

        default void foldEnded(int fold, int folds, TrainingResult result) {
        }
    }

    /** Trains on prepared data and releases it when done. */
    private TrainingResult trainOn(TrainingConfig config, int workerBatch, ValidationReport trainReport,
            DataPipeline.Split split, BatchedData test, ValidationReport testReport, TrainingProgress progress) {
        ModelSpec spec = config.spec();
        int workers = config.workers();
        BatchedData training = split.training();
        BatchedData validation = split.validation();
        String jobId = UUID.randomUUID().toString();
        Broadcast<ModelSpec> specBroadcast = jsc.broadcast(spec);
        try {
            if (training.examples() < config.batchSize()) {
                throw new ParameterException("batch_size", "{batch_size}: " + config.batchSize()
                        + " is larger than the "
                        + training.examples() + " training examples of " + config.train().uri()
                        + "; expected at most that many");
            }
            if (training.examples() < workers) {
                throw new ParameterException("workers", "{workers}: " + workers + " workers need at least as many "
                        + "training examples, "
                        + "but " + config.train().uri() + " leaves " + training.examples() + " for training");
            }
            TrainingLoop.Outcome outcome = new TrainingLoop(jsc, config, split, workerBatch, specBroadcast, jobId,
                    progress).run();
            TrainingState state = outcome.finalState();
            Optional<TrainingResult.TestOutcome> testOutcome = Optional.empty();
            if (test != null) {
                jsc.setJobGroup("dptrain-test", "dptrain test evaluation", false);
                ReplicaStats stats = TrainingLoop.evaluate(jsc, test, specBroadcast, state, jobId);
                Optional<ConfusionMatrix> confusion = ConfusionMatrix.classes(spec) == 0 ? Optional.empty()
                        : Optional.of(ConfusionMatrix.of(jsc, test, spec, state));
                Optional<RegressionEvaluation> regression = spec.isRegression()
                        ? Optional.of(RegressionEvaluation.of(jsc, spec, state, test.batches())) : Optional.empty();
                Optional<BinaryMetrics> binary = BinaryMetrics.appliesTo(spec)
                        ? Optional.of(BinaryMetrics.of(jsc, test, spec, state)) : Optional.empty();
                testOutcome = Optional.of(new TrainingResult.TestOutcome(stats, stats.metrics(spec.reportedMetrics()),
                        confusion, regression, testReport, binary));
            }
            return new TrainingResult(state, Optional.ofNullable(split.normalizer()), outcome.history(),
                    outcome.rounds(), testOutcome, training.examples(), validation == null ? 0 : validation.examples(),
                    trainReport);
        } finally {
            jsc.clearJobGroup();
            training.release();
            if (validation != null) {
                validation.release();
            }
            if (test != null) {
                test.release();
            }
            specBroadcast.destroy();
            ReplicaPool.release(jobId);
        }
    }

    private static MinibatchBuilder builder(TrainingConfig config, DataInput input, int workerBatch) {
        ModelSpec spec = config.spec();
        return new MinibatchBuilder(workerBatch, spec.inputSize(), spec.outputSize(), spec.targetEncoding(),
                input.featureMultiplier());
    }
}
