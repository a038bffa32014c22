package dptrain.driver.rounds;

import dptrain.data.Minibatch;
import dptrain.peers.PeerNetwork;
import dptrain.peers.PeerTask;
import dptrain.replica.DeltaPrecision;
import dptrain.replica.MomentumFilter;
import dptrain.replica.OptimizerStateScope;
import dptrain.replica.ReplicaPool;
import dptrain.replica.ReplicaResult;
import dptrain.spec.ModelSpec;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.BarrierTaskContext;
import org.apache.spark.SparkEnv;
import org.apache.spark.TaskKilledException;
import org.apache.spark.broadcast.Broadcast;
import scala.jdk.javaapi.CollectionConverters;
import scala.runtime.AbstractFunction2;

/**
 * The task of an epoch whose replicas average among themselves ({@link PeerRounds}): a long-lived
 * training task that opens its end of the replicas' exchange on its executor's host, follows the
 * driver's orders ({@link PeerTask}) with its partition's minibatches, and returns its rounds.
 */
final class PeerEpochTask
        extends AbstractFunction2<Object, scala.collection.Iterator<Minibatch>, scala.collection.Iterator<Integer>>
        implements Serializable {
    private static final long serialVersionUID = 1L;
    private final Broadcast<ModelSpec> spec;
    private final String jobId;
    private final long token;
    private final String driverHost;
    private final int driverPort;
    private final MomentumFilter momentum;
    private final DeltaPrecision deltas;
    private final OptimizerStateScope optimizerState;

    PeerEpochTask(Broadcast<ModelSpec> spec, String jobId, long token, String driverHost, int driverPort,
            MomentumFilter momentum, DeltaPrecision deltas, OptimizerStateScope optimizerState) {
        this.deltas = deltas;
        this.optimizerState = optimizerState;
        this.spec = spec;
        this.jobId = jobId;
        this.token = token;
        this.driverHost = driverHost;
        this.driverPort = driverPort;
        this.momentum = momentum;
    }

    @Override
    public scala.collection.Iterator<Integer> apply(Object partition, scala.collection.Iterator<Minibatch> batches) {
        return CollectionConverters.asScala(
                List.of(trainRounds((Integer) partition, CollectionConverters.asJava(batches))).iterator());
    }

    private int trainRounds(int partition, Iterator<Minibatch> batches) {
        BarrierTaskContext context = BarrierTaskContext.get();
        String host = SparkEnv.get().blockManager().blockManagerId().host();
        try (PeerNetwork net = PeerNetwork.open(host, host, 0, token)) {
            PeerTask.Identity identity = new PeerTask.Identity(token, context.stageAttemptNumber(), partition,
                    momentum, deltas, optimizerState);
            RoundTaskHook hook = RoundTaskHook.current();
            int[] position = {0};
            return ReplicaPool.withReplica(jobId, spec.value(), replica -> {
                try {
                    return PeerTask.run(net, identity, driverHost, driverPort, (start, a) -> {
                        if (a.firstBatch() < position[0]) {
                            throw new IllegalStateException("round " + a.round() + " of epoch " + a.epoch()
                                    + " starts at minibatch " + a.firstBatch() + " but partition " + partition
                                    + " is already at " + position[0]);
                        }
                        JobPerRound.skip(batches, a.firstBatch() - position[0]);
                        hook.beforeTraining(a.epoch(), a.round(), partition);
                        ReplicaResult result = replica.train(start, batches, a.minibatches(),
                                a.roundSeed() + partition);
                        position[0] = a.firstBatch() + (int) result.stats().steps();
                        hook.afterTraining(a.epoch(), a.round(), partition);
                        return result;
                    }, () -> stopIfKilled(context));
                } catch (IOException e) {
                    throw new UncheckedIOException("partition " + partition + ": " + e.getMessage(), e);
                }
            });
        }
    }

    private static void stopIfKilled(BarrierTaskContext context) {
        if (context.isInterrupted()) {
            throw new TaskKilledException("the epoch's stage was restarted or its job cancelled");
        }
    }
}
