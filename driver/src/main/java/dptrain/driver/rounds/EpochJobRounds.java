package dptrain.driver.rounds;

import dptrain.data.Minibatch;
import dptrain.exchange.ExchangeAddress;
import dptrain.exchange.RoundAssignment;
import dptrain.exchange.RoundClient;
import dptrain.replica.DeltaFeedback;
import dptrain.replica.DeltaPrecision;
import dptrain.replica.HeldResult;
import dptrain.replica.ParameterAverage;
import dptrain.replica.ReplicaPool;
import dptrain.replica.ReplicaResult;
import dptrain.replica.ReplicaTrainer;
import dptrain.spec.ModelSpec;
import java.io.Closeable;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import org.apache.spark.TaskContext;
import org.apache.spark.TaskKilledException;
import org.apache.spark.api.java.JavaFutureAction;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.rdd.RDD;
import scala.jdk.javaapi.CollectionConverters;
import scala.runtime.AbstractFunction2;
import scala.reflect.ClassTag;
import scala.reflect.ClassTag$;

/**
 * An epoch's rounds inside one Spark job. The job is a barrier stage (Spark starts all its tasks
 * together, and retries them together); each task holds its partition's minibatch iterator and a
 * connection to the driver's {@link RoundExchange}, and for each round receives the starting state,
 * trains its replica and sends the result back. The driver averages, checks and checkpoints between
 * rounds exactly as with {@link JobPerRound}, so both give the same bits; this one skips a Spark
 * job's scheduling, task serialization and broadcast per round.
 *
 * <p>If a task fails, Spark restarts the whole stage; the new tasks connect, are sent the round
 * under way and start it from its first minibatch, so the run goes on from where it was.
 */
final class EpochJobRounds implements RoundTransport {
    private static final ClassTag<Integer> INTEGER = ClassTag$.MODULE$.apply(Integer.class);

    private final JavaSparkContext jsc;
    private final JavaRDD<Minibatch> batches;
    private final Broadcast<ModelSpec> spec;
    private final String jobId;
    private final RoundExchange exchange;
    private final int epochs;
    private final BlockMomentum momentum;
    /** The residuals of 16-bit deltas, or null for float32 deltas. */
    private final DeltaFeedback feedback;
    private JavaFutureAction<List<Integer>> job;

    EpochJobRounds(JavaSparkContext jsc, JavaRDD<Minibatch> batches, Broadcast<ModelSpec> spec, String jobId,
            RoundExchange exchange, int epochs, BlockMomentum momentum, DeltaPrecision precision) {
        this.momentum = momentum;
        this.feedback = precision.rounds() ? new DeltaFeedback(precision) : null;
        this.jsc = jsc;
        this.batches = batches;
        this.spec = spec;
        this.jobId = jobId;
        this.exchange = exchange;
        this.epochs = epochs;
    }


    @Override
    public Round train(LearnedState start, int epoch, int round, int firstBatch, int minibatchesPerRound,
            long roundSeed, boolean exact) {
        if (job == null) {
            job = startJob(epoch);
        }
        RoundExchange.RoundResults results = exchange.runRound(epoch, round, firstBatch, minibatchesPerRound, roundSeed,
                start.state(), job);
        ParameterAverage average = RoundTransport.averageOf(List.of(results.byPartition()), start.state(), feedback,
                exact);
        return Round.combinedHere(average, start, momentum, feedback, exact, results.sendSeconds(),
                results.waitSeconds());
    }

    private JavaFutureAction<List<Integer>> startJob(int epoch) {
        jsc.setJobGroup("dptrain-epoch-" + epoch, String.format("dptrain epoch %d/%d (its rounds in one job, states "
                + "via the driver's round exchange at %s)", epoch, epochs, exchange.address()), true);
        exchange.beginEpoch();
        // A barrier stage behind a shuffle, as PeerRounds explains: Spark then starts the tasks together
        // and restarts them together.
        RDD<Integer> rounds = batches.rdd().barrier().mapPartitionsWithIndex(
                new EpochTask(spec, jobId, exchange.address()), false, INTEGER);
        return new JavaRDD<>(rounds, INTEGER).repartition(1).collectAsync();
    }

    @Override
    public void endEpoch() {
        if (job == null) {
            return;
        }
        exchange.finishEpoch();
        try {
            job.get();
        } catch (ExecutionException e) {
            throw e.getCause() instanceof RuntimeException r ? r
                    : new IllegalStateException("the training job failed: " + e.getCause(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while the epoch's training job ended", e);
        } finally {
            job = null;
        }
    }

    @Override
    public void close() {
        try {
            if (job != null && !job.isDone()) {
                job.cancel(true);
            }
        } finally {
            job = null;
            exchange.close();
        }
    }

    @Override
    public String describe() {
        // Only in local mode do the tasks run in the driver's JVM; on a cluster every task is in an executor's.
        return "one Spark job per epoch, states via the driver's round exchange at " + exchange.address()
                + (exchange.inProcess() && jsc.isLocal() ? " (in memory for tasks in the driver's JVM)"
                        : " (over TCP)");
    }

    private static void stopIfKilled(TaskContext context) {
        if (context.isInterrupted()) {
            throw new TaskKilledException("the epoch's stage was restarted or its job cancelled");
        }
    }

    /**
     * A long-lived training task: trains its partition's replica round after round as the driver
     * assigns them, and returns how many rounds it trained.
     */
    static final class EpochTask
            extends AbstractFunction2<Object, scala.collection.Iterator<Minibatch>, scala.collection.Iterator<Integer>>
            implements Serializable {
        private static final long serialVersionUID = 1L;
        private final Broadcast<ModelSpec> spec;
        private final String jobId;
        private final ExchangeAddress address;

        EpochTask(Broadcast<ModelSpec> spec, String jobId, ExchangeAddress address) {
            this.spec = spec;
            this.jobId = jobId;
            this.address = address;
        }

        @Override
        public scala.collection.Iterator<Integer> apply(Object partition, scala.collection.Iterator<Minibatch> batches) {
            return CollectionConverters.asScala(
                    List.of(trainRounds((Integer) partition, CollectionConverters.asJava(batches))).iterator());
        }

        private int trainRounds(int partition, Iterator<Minibatch> batches) {
            TaskContext context = TaskContext.get();
            try (DriverLink driver = DriverLink.open(address, partition, context.stageAttemptNumber())) {
                return ReplicaPool.withReplica(jobId, spec.value(),
                        replica -> trainRounds(partition, batches, driver, replica, context));
            } catch (IOException e) {
                throw new UncheckedIOException("partition " + partition + ": " + e.getMessage(), e);
            }
        }

        /** Trains the rounds the driver assigns until it says the epoch is done. */
        private int trainRounds(int partition, Iterator<Minibatch> batches, DriverLink driver, ReplicaTrainer replica,
                TaskContext context) {
            int position = 0;
            int rounds = 0;
            RoundTaskHook hook = RoundTaskHook.current();
            try {
                // A killed task (its stage restarted) stops waiting instead of holding its slot.
                Optional<RoundAssignment> next;
                while ((next = driver.next(replica, () -> stopIfKilled(context))).isPresent()) {
                    RoundAssignment a = next.get();
                    if (a.firstBatch() < position) {
                        throw new IllegalStateException("round " + a.round() + " of epoch " + a.epoch()
                                + " starts at minibatch " + a.firstBatch() + " but partition " + partition
                                + " is already at " + position);
                    }
                    JobPerRound.skip(batches, a.firstBatch() - position);
                    hook.beforeTraining(a.epoch(), a.round(), partition);
                    long steps = driver.train(replica, batches, a.minibatches(), a.roundSeed() + partition);
                    position = a.firstBatch() + (int) steps;
                    hook.afterTraining(a.epoch(), a.round(), partition);
                    driver.sendResult(a.sequence());
                    rounds++;
                }
            } catch (IOException e) {
                throw new UncheckedIOException("partition " + partition + ": " + e.getMessage(), e);
            }
            return rounds;
        }
    }

    /**
     * A training task's end of the round exchange: in process when the task runs in the driver's JVM
     * and the exchange allows it, otherwise over TCP. Either way a round is: the assignment with its
     * starting state ({@link #next}), training ({@link #train}), the result back ({@link #sendResult}).
     */
    private interface DriverLink extends Closeable {
        static DriverLink open(ExchangeAddress address, int partition, int stageAttempt) throws IOException {
            Optional<InProcessTask> inProcess = RoundExchange.joinInProcess(address, partition, stageAttempt);
            return inProcess.isPresent() ? new InProcessLink(inProcess.get())
                    : new SocketLink(RoundClient.connect(address, partition, stageAttempt));
        }

        /** The next assignment, its state already loaded or at hand; empty when the epoch is done. */
        Optional<RoundAssignment> next(ReplicaTrainer replica, Runnable stillWanted) throws IOException;

        /** Trains the round just assigned and keeps its result for {@link #sendResult}; returns its steps. */
        long train(ReplicaTrainer replica, Iterator<Minibatch> batches, int minibatches, long seed);

        void sendResult(int sequence) throws IOException;
    }

    /** Over TCP: the state is read straight into the replica's network and the result written from it. */
    private static final class SocketLink implements DriverLink {
        private final RoundClient client;
        private HeldResult result;

        SocketLink(RoundClient client) {
            this.client = client;
        }

        @Override
        public Optional<RoundAssignment> next(ReplicaTrainer replica, Runnable stillWanted) throws IOException {
            Optional<RoundAssignment> a = client.next(stillWanted);
            if (a.isPresent()) {
                client.receiveState(replica::receiveState);
            }
            return a;
        }

        @Override
        public long train(ReplicaTrainer replica, Iterator<Minibatch> batches, int minibatches, long seed) {
            result = replica.trainHeldState(batches, minibatches, seed);
            return result.stats().steps();
        }

        @Override
        public void sendResult(int sequence) throws IOException {
            client.send(sequence, result::writeTo);
        }

        @Override
        public void close() throws IOException {
            client.close();
        }
    }

    /** In the driver's JVM: the state and the result pass as immutable objects. */
    private static final class InProcessLink implements DriverLink {
        private final InProcessTask task;
        private ReplicaResult result;

        InProcessLink(InProcessTask task) {
            this.task = task;
        }

        @Override
        public Optional<RoundAssignment> next(ReplicaTrainer replica, Runnable stillWanted) throws IOException {
            return task.next(stillWanted);
        }

        @Override
        public long train(ReplicaTrainer replica, Iterator<Minibatch> batches, int minibatches, long seed) {
            result = replica.train(task.start(), batches, minibatches, seed);
            return result.stats().steps();
        }

        @Override
        public void sendResult(int sequence) {
            task.send(sequence, result);
        }

        @Override
        public void close() {
            task.close();
        }
    }
}
