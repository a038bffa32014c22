package dptrain.driver.rounds;

import dptrain.data.Minibatch;
import dptrain.replica.DeltaFeedback;
import dptrain.replica.DeltaPrecision;
import dptrain.replica.ParameterAverage;
import dptrain.replica.ReplicaPool;
import dptrain.replica.ReplicaResult;
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

    JobPerRound(JavaSparkContext jsc, JavaRDD<Minibatch> batches, Broadcast<ModelSpec> spec, String jobId,
            BlockMomentum momentum, DeltaPrecision precision) {
        this.momentum = momentum;
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
        long sent = System.nanoTime();
        try {
            // 16-bit deltas round each replica's result with its own residual, which the driver keeps: the
            // results come back whole (in partition order) instead of tree-aggregated on the executors.
            ParameterAverage average = feedback == null
                    ? trainRound(batches, spec, snapshot, jobId, firstBatch, minibatchesPerRound, roundSeed, epoch,
                            round)
                    : RoundTransport.averageOf(results(batches, spec, snapshot, jobId, firstBatch, minibatchesPerRound,
                            roundSeed, epoch, round).collect(), start.state(), feedback, exact);
            return Round.combinedHere(average, start, momentum, feedback, exact, Seconds.between(began, sent),
                    Seconds.since(sent));
        } finally {
            snapshot.destroy();
        }
    }

    /**
     * One averaging round as a Spark job. Only the two broadcast handles and a few numbers travel in
     * the task closure. Each result is marked with its partition, so the average folds them in
     * partition order, whatever order the tasks finish in, and a retried or speculative task's result
     * counts once.
     */
    static ParameterAverage trainRound(JavaRDD<Minibatch> batches, Broadcast<ModelSpec> spec,
            Broadcast<TrainingState> snapshot, String jobId, int firstBatch, int minibatchesPerRound, long roundSeed, int epoch,
            int round) {
        return results(batches, spec, snapshot, jobId, firstBatch, minibatchesPerRound, roundSeed, epoch, round)
                .treeAggregate(ParameterAverage.empty(), ParameterAverage::add, ParameterAverage::merge);
    }

    /** Every partition's result of the round, marked with its partition, in partition order. */
    private static JavaRDD<ReplicaResult> results(JavaRDD<Minibatch> batches, Broadcast<ModelSpec> spec,
            Broadcast<TrainingState> snapshot, String jobId, int firstBatch, int minibatchesPerRound, long roundSeed,
            int epoch, int round) {
        return batches.mapPartitionsWithIndex((partition, it) -> {
            skip(it, firstBatch);
            RoundTaskHook hook = RoundTaskHook.current();
            hook.beforeTraining(epoch, round, partition);
            ReplicaResult result = ReplicaPool.withReplica(jobId, spec.value(),
                    replica -> replica.train(snapshot.value(), it, minibatchesPerRound, roundSeed + partition));
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
