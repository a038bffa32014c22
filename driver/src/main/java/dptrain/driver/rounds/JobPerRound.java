package dptrain.driver.rounds;

import dptrain.data.Minibatch;
import dptrain.replica.DeltaFeedback;
import dptrain.replica.DeltaPrecision;
import dptrain.replica.OptimizerStateScope;
import dptrain.replica.ParameterAverage;
import dptrain.replica.ReplicaPool;
import dptrain.replica.ReplicaResult;
import dptrain.replica.RoundCombine;
import dptrain.replica.TrainingState;
import dptrain.spec.ModelSpec;
import dptrain.timing.Seconds;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;

/** Each round is one Spark job: the state is broadcast, the replicas' results are tree-aggregated. */
final class JobPerRound implements RoundTransport {
    private final JavaSparkContext jsc;
    private final JavaRDD<Minibatch> batches;
    private final Broadcast<ModelSpec> spec;
    private final String jobId;
    private final BlockMomentum momentum;
    /** The residuals of 16-bit deltas, or null for float32 deltas. */
    private final DeltaFeedback feedback;
    private final OptimizerStateScope optimizerState;
    /** By partition, the optimizer state each replica keeps until the next exact round; null when they share one. */
    private float[][] ownOptimizer;

    JobPerRound(JavaSparkContext jsc, JavaRDD<Minibatch> batches, Broadcast<ModelSpec> spec, String jobId,
            BlockMomentum momentum, DeltaPrecision precision, OptimizerStateScope optimizerState) {
        this.momentum = momentum;
        this.optimizerState = optimizerState;
        this.feedback = precision.rounds() ? new DeltaFeedback(precision) : null;
        this.jsc = jsc;
        this.batches = batches;
        this.spec = spec;
        this.jobId = jobId;
    }

    @Override
    public Round train(LearnedState start, int epoch, int round, int firstBatch, int minibatchesPerRound,
            long roundSeed, boolean exact) {
        long began = System.nanoTime();
        Broadcast<TrainingState> snapshot = jsc.broadcast(start.state());
        // Each replica's own optimizer state, when it keeps one: the driver holds them between rounds.
        Broadcast<float[][]> own = ownOptimizer == null ? null : jsc.broadcast(ownOptimizer);
        long sent = System.nanoTime();
        try {
            if (feedback == null && optimizerState == OptimizerStateScope.AVERAGED) {
                ParameterAverage average = trainRound(batches, spec, snapshot, null, jobId, firstBatch,
                        minibatchesPerRound, roundSeed, epoch, round);
                return Round.combinedHere(average, start, momentum, null, exact, Seconds.between(began, sent),
                        Seconds.since(sent));
            }
            // 16-bit deltas round each replica's result with its own residual, and a local optimizer state is
            // each replica's own, which the driver keeps: the results come back whole (in partition order)
            // instead of tree-aggregated on the executors.
            List<ReplicaResult> results = results(batches, spec, snapshot, own, jobId, firstBatch,
                    minibatchesPerRound, roundSeed, epoch, round).collect();
            Round combined = Round.combinedHere(RoundTransport.averageOf(results, start.state(), feedback, exact),
                    start, momentum, feedback, exact, Seconds.between(began, sent), Seconds.since(sent));
            keepOwnOptimizerStates(results, start.state(), combined.next().state(), exact);
            return combined;
        } finally {
            snapshot.destroy();
            if (own != null) {
                own.destroy();
            }
        }
    }

    /**
     * After a round that is not exact, with {@link OptimizerStateScope#LOCAL}: each partition's next
     * start keeps the optimizer state its replica reached (as {@link RoundCombine#withOwnOptimizerState}
     * says, also for a replica averaging with its peers). After an exact round all start from the average.
     */
    private void keepOwnOptimizerStates(List<ReplicaResult> results, TrainingState start, TrainingState next,
            boolean exact) {
        if (optimizerState != OptimizerStateScope.LOCAL || exact) {
            ownOptimizer = null;
            return;
        }
        float[][] kept = new float[results.size()][];
        for (ReplicaResult result : results) {
            int p = result.partition();
            TrainingState startOfP = ownOptimizer == null ? start : start.withOptimizerState(ownOptimizer[p]);
            kept[p] = RoundCombine.withOwnOptimizerState(next, result, startOfP).copyOptimizerState();
        }
        ownOptimizer = kept;
    }

    /**
     * One averaging round as a Spark job. Only the two broadcast handles and a few numbers travel in
     * the task closure. Each result is marked with its partition, so the average folds them in
     * partition order, whatever order the tasks finish in, and a retried or speculative task's result
     * counts once.
     */
    static ParameterAverage trainRound(JavaRDD<Minibatch> batches, Broadcast<ModelSpec> spec,
            Broadcast<TrainingState> snapshot, Broadcast<float[][]> own, String jobId, int firstBatch,
            int minibatchesPerRound, long roundSeed, int epoch, int round) {
        return results(batches, spec, snapshot, own, jobId, firstBatch, minibatchesPerRound, roundSeed, epoch, round)
                .treeAggregate(ParameterAverage.empty(), ParameterAverage::add, ParameterAverage::merge);
    }

    /**
     * Every partition's result of the round, marked with its partition, in partition order; each
     * replica starts from the snapshot, with its own optimizer state when {@code own} holds one.
     */
    private static JavaRDD<ReplicaResult> results(JavaRDD<Minibatch> batches, Broadcast<ModelSpec> spec,
            Broadcast<TrainingState> snapshot, Broadcast<float[][]> own, String jobId, int firstBatch,
            int minibatchesPerRound, long roundSeed, int epoch, int round) {
        return batches.mapPartitionsWithIndex((partition, it) -> {
            skip(it, firstBatch);
            RoundTaskHook hook = RoundTaskHook.current();
            hook.beforeTraining(epoch, round, partition);
            TrainingState start = own == null ? snapshot.value()
                    : snapshot.value().withOptimizerState(own.value()[partition]);
            ReplicaResult result = ReplicaPool.withReplica(jobId, spec.value(),
                    replica -> replica.train(start, it, minibatchesPerRound, roundSeed + partition));
            hook.afterTraining(epoch, round, partition);
            return List.of(result.forPartition(partition)).iterator();
        }, true);
    }

    static void skip(Iterator<?> it, int count) {
        for (int i = 0; i < count && it.hasNext(); i++) {
            it.next();
        }
    }

    @Override
    public void endEpoch() {
    }

    @Override
    public void close() {
    }

    @Override
    public String describe() {
        return "one Spark job per round";
    }
}
