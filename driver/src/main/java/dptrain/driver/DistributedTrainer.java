package dptrain.driver;

import dptrain.data.ExampleCheck;
import dptrain.data.Minibatch;
import dptrain.data.MinibatchBuilder;
import dptrain.replica.ParameterAverage;
import dptrain.replica.ReplicaPool;
import dptrain.replica.ReplicaResult;
import dptrain.replica.ReplicaStats;
import dptrain.replica.TrainingState;
import dptrain.spec.ModelSpec;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.UUID;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.storage.StorageLevel;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

/**
 * The driver's training loop: synchronous parameter averaging.
 *
 * <p>Each round broadcasts one state snapshot; every partition's replica trains on its next K
 * minibatches from that snapshot; {@code treeAggregate} forms the example-weighted average of
 * parameters and optimizer state, which becomes the next snapshot. Averaging more often keeps
 * replicas closer (better accuracy with many workers) but costs a broadcast and an aggregation
 * of the whole state per round.
 */
public final class DistributedTrainer {
    private final JavaSparkContext jsc;

    public DistributedTrainer(JavaSparkContext jsc) {
        this.jsc = jsc;
    }

    /** Trains as {@code config} says, telling {@code progress} as it goes. */
    public TrainingResult train(TrainingConfig config, TrainingProgress progress) {
        ModelSpec spec = config.spec();
        ExampleCheck check = new ExampleCheck(spec);
        int workers = config.workers();

        jsc.setJobDescription("dptrain read and shuffle training data");
        ExampleSource.IndexedExamples trainExamples =
                ExampleSource.read(jsc, config.train(), "--train", check, spec.inputSize(), workers);
        DataPipeline pipeline = new DataPipeline(builder(config, config.train()), workers, config.seed(), config.cache());
        DataPipeline.Split split = config.stratify()
                ? pipeline.stratifiedSplit(trainExamples, config.validationFraction(), spec.normalization())
                : pipeline.split(trainExamples, config.validationFraction(), spec.normalization());
        BatchedData training = split.training();
        BatchedData validation = split.validation();
        BatchedData test = null;
        ValidationReport testReport = null;
        if (config.test() != null) {
            jsc.setJobDescription("dptrain read test data");
            ExampleSource.IndexedExamples testExamples =
                    ExampleSource.read(jsc, config.test(), "--test", check, spec.inputSize(), workers);
            test = new DataPipeline(builder(config, config.test()), workers, config.seed(), config.cache())
                    .evaluationBatches(testExamples, split.normalizer());
            testReport = testExamples.report();
        }
        progress.skipped("--train", trainExamples.report());
        if (testReport != null) {
            progress.skipped("--test", testReport);
        }
        return trainOn(config, trainExamples.report(), split, test, testReport, progress);
    }

    /**
     * Trains as {@code config} says on examples already read and checked (e.g. from a DataFrame),
     * instead of reading {@code config.train()}: the same split, normalization and training loop.
     * {@code config.train()} still names the data in messages and supplies the feature scale.
     */
    public TrainingResult train(TrainingConfig config, ExampleSource.IndexedExamples examples,
            TrainingProgress progress) {
        DataPipeline pipeline = new DataPipeline(builder(config, config.train()), config.workers(), config.seed(),
                config.cache());
        ModelSpec spec = config.spec();
        DataPipeline.Split split = config.stratify()
                ? pipeline.stratifiedSplit(examples, config.validationFraction(), spec.normalization())
                : pipeline.split(examples, config.validationFraction(), spec.normalization());
        return trainOn(config, examples.report(), split, null, null, progress);
    }

    /**
     * K-fold cross-validation: reads and checks the data once, then for each fold trains a model on
     * the other folds (normalization refitted on them) and validates it on the held-out fold.
     *
     * @return one result per fold, in fold order; each result's last epoch holds the held-out metrics
     */
    public List<TrainingResult> crossValidate(TrainingConfig config, int folds, FoldProgress progress) {
        ModelSpec spec = config.spec();
        jsc.setJobDescription("dptrain read training data for cross-validation");
        ExampleSource.IndexedExamples data = ExampleSource.read(jsc, config.train(), "--train", new ExampleCheck(spec),
                spec.inputSize(), config.workers());
        if (data.count() < folds) {
            throw new InputException("--folds: " + folds + " folds need at least as many examples, but "
                    + config.train().uri() + " holds " + data.count());
        }
        progress.skipped("--train", data.report());
        // Every fold reads the examples again: keep them rather than decoding the files K times.
        data.examples().persist(StorageLevel.MEMORY_AND_DISK());
        try {
            DataPipeline pipeline = new DataPipeline(builder(config, config.train()), config.workers(), config.seed(),
                    config.cache());
            List<TrainingResult> results = new ArrayList<>();
            for (int fold = 0; fold < folds; fold++) {
                progress.foldStarted(fold + 1, folds);
                DataPipeline.Split split = pipeline.fold(data, fold, folds, spec.normalization());
                TrainingResult result = trainOn(config, data.report(), split, null, null, progress);
                results.add(result);
                progress.foldEnded(fold + 1, folds, result);
            }
            return results;
        } finally {
            data.examples().unpersist(false);
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
    private TrainingResult trainOn(TrainingConfig config, ValidationReport trainReport, DataPipeline.Split split,
            BatchedData test, ValidationReport testReport, TrainingProgress progress) {
        ModelSpec spec = config.spec();
        int workers = config.workers();
        BatchedData training = split.training();
        BatchedData validation = split.validation();
        String jobId = UUID.randomUUID().toString();
        Broadcast<ModelSpec> specBroadcast = jsc.broadcast(spec);
        try {
            if (training.examples() < config.batchSize()) {
                throw new InputException("--batch-size: " + config.batchSize() + " is larger than the "
                        + training.examples() + " training examples of " + config.train().uri()
                        + "; expected at most that many");
            }
            if (training.examples() < workers) {
                throw new InputException("--workers: " + workers + " workers need at least as many training examples, "
                        + "but " + config.train().uri() + " leaves " + training.examples() + " for training");
            }
            MultiLayerNetwork initial = new MultiLayerNetwork(spec.configuration());
            initial.init();
            TrainingState state = TrainingState.of(initial);

            int stepsPerEpoch = training.maxBatches();
            int batchesPerRound = config.batchesPerRound(stepsPerEpoch);
            int roundsPerEpoch = (stepsPerEpoch + batchesPerRound - 1) / batchesPerRound;
            List<EpochRecord> history = new ArrayList<>();
            progress.started(training.examples(), validation == null ? 0 : validation.examples(), stepsPerEpoch,
                    roundsPerEpoch);
            for (int epoch = 1; epoch <= config.epochs(); epoch++) {
                long began = System.nanoTime();
                ReplicaStats epochStats = ReplicaStats.NONE;
                double slowestReplicaSeconds = 0;
                for (int round = 0; round < roundsPerEpoch; round++) {
                    jsc.setJobGroup("dptrain-epoch-" + epoch, String.format("dptrain epoch %d/%d round %d/%d",
                            epoch, config.epochs(), round + 1, roundsPerEpoch), false);
                    Broadcast<TrainingState> snapshot = jsc.broadcast(state);
                    ParameterAverage average = trainRound(training.batches(), specBroadcast, snapshot, jobId,
                            round * batchesPerRound, batchesPerRound, roundSeed(config.seed(), epoch, round));
                    snapshot.destroy();
                    ReplicaStats stats = average.stats();
                    epochStats = epochStats.plus(stats);
                    slowestReplicaSeconds += stats.maxComputeSeconds();
                    if (!average.hasContributions()) {
                        continue;
                    }
                    TrainingState next = average.toState(state.iteration() + (int) stats.maxStepsPerReplica(), state.epoch());
                    if (!next.isFinite() || !Double.isFinite(stats.lossSum())) {
                        throw new TrainingFailedException(String.format(
                                "training diverged in epoch %d, round %d: the %s is no longer finite; "
                                        + "lower the optimizer's learning_rate or scale the inputs (e.g. --scale)",
                                epoch, round + 1, next.isFinite() ? "loss" : "averaged model"));
                    }
                    state = next;
                }
                state = state.withCounters(state.iteration(), epoch);
                ReplicaStats val = null;
                if (validation != null) {
                    jsc.setJobGroup("dptrain-epoch-" + epoch, String.format("dptrain epoch %d/%d validation",
                            epoch, config.epochs()), false);
                    val = evaluate(validation, specBroadcast, state, jobId);
                }
                double seconds = (System.nanoTime() - began) / 1e9;
                EpochRecord record = new EpochRecord(epoch, epochStats.meanLoss(), epochStats.accuracy(),
                        val == null ? Double.NaN : val.meanLoss(), val == null ? Double.NaN : val.accuracy(),
                        seconds, epochStats.examples(), roundsPerEpoch, stepsPerEpoch, epochStats.steps(),
                        slowestReplicaSeconds);
                history.add(record);
                progress.epochEnded(record);
            }
            ReplicaStats testStats = null;
            if (test != null) {
                jsc.setJobGroup("dptrain-test", "dptrain test evaluation", false);
                testStats = evaluate(test, specBroadcast, state, jobId);
            }
            return new TrainingResult(state, split.normalizer(), history, testStats, training.examples(),
                    validation == null ? 0 : validation.examples(), trainReport, testReport);
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

    private static MinibatchBuilder builder(TrainingConfig config, DataInput input) {
        ModelSpec spec = config.spec();
        return new MinibatchBuilder(config.batchSize(), spec.inputSize(), spec.outputSize(), spec.targetEncoding(),
                input.scale());
    }

    /**
     * One averaging round: every partition's replica trains on minibatches
     * {@code [firstBatch, firstBatch + count)} of its partition, starting from the broadcast snapshot.
     * Only the two broadcast handles and a few numbers travel in the task closure.
     */
    static ParameterAverage trainRound(JavaRDD<Minibatch> batches, Broadcast<ModelSpec> spec,
            Broadcast<TrainingState> snapshot, String jobId, int firstBatch, int count, long roundSeed) {
        return batches.mapPartitionsWithIndex((partition, it) -> {
            skip(it, firstBatch);
            ReplicaResult result = ReplicaPool.withReplica(jobId, spec.value(),
                    replica -> replica.train(snapshot.value(), it, count, roundSeed + partition));
            return List.of(result).iterator();
        }, true).treeAggregate(ParameterAverage.empty(), ParameterAverage::add, ParameterAverage::merge);
    }

    /** Loss and accuracy of {@code state} over {@code data}, computed where the data lives. */
    ReplicaStats evaluate(BatchedData data, Broadcast<ModelSpec> spec, TrainingState state, String jobId) {
        Broadcast<TrainingState> snapshot = jsc.broadcast(state);
        try {
            return data.batches().mapPartitions(it -> {
                ReplicaStats stats = ReplicaPool.withReplica(jobId, spec.value(),
                        replica -> replica.evaluate(snapshot.value(), it));
                return List.of(stats).iterator();
            }, true).reduce(ReplicaStats::plus);
        } finally {
            snapshot.destroy();
        }
    }

    private static void skip(Iterator<?> it, int count) {
        for (int i = 0; i < count && it.hasNext(); i++) {
            it.next();
        }
    }

    /** A seed for round {@code round} of epoch {@code epoch}, so dropout depends on the run's seed alone. */
    static long roundSeed(long seed, int epoch, int round) {
        long z = seed * 0x9E3779B97F4A7C15L + epoch * 0xBF58476D1CE4E5B9L + round * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
