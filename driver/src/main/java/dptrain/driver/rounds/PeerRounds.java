package dptrain.driver.rounds;

import dptrain.data.Minibatch;
import dptrain.driver.files.EnvironmentException;
import dptrain.peers.PeerMessage;
import dptrain.peers.PeerNetwork;
import dptrain.replica.DeltaPrecision;
import dptrain.replica.OptimizerStateScope;
import dptrain.replica.StateChunks;
import dptrain.replica.TrainingState;
import dptrain.spec.ModelSpec;
import dptrain.timing.Seconds;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import org.apache.spark.BarrierTaskContext;
import org.apache.spark.api.java.JavaFutureAction;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.rdd.RDD;
import scala.reflect.ClassTag;
import scala.reflect.ClassTag$;

/**
 * An epoch's rounds in one Spark barrier job whose replicas average among themselves ({@link
 * dptrain.peers.PeerRound}), over Spark's own network layer with Spark's authentication and
 * encryption. The driver orchestrates: each round it sends partition 0's task a small order
 * (which passes it on to the others) and receives one small report from it; it sends the tasks a state (each its chunk, the whole state once in all) only
 * at an epoch's start, and fetches one back (each task its chunk) only when it needs it: a
 * checkpoint, the end of an epoch, a divergence to roll back from. So the driver moves no state
 * per round, whatever the number of workers.
 *
 * <p><b>Retries.</b> Spark restarts a barrier stage's tasks together. The new tasks say hello; the
 * driver sends them the last state it holds and the orders given since, which they replay: the
 * replicas are deterministic, so the replayed rounds reach the same bits, and the round under way
 * goes on. A replay costs the rounds since the last state the driver holds (the epoch's start or
 * the last checkpoint).
 */
final class PeerRounds implements RoundTransport {
    private static final ClassTag<Integer> INTEGER = ClassTag$.MODULE$.apply(Integer.class);
    private static final long POLL_MILLIS = 50;

    private final JavaSparkContext jsc;
    private final JavaRDD<Minibatch> batches;
    private final Broadcast<ModelSpec> spec;
    private final String jobId;
    private final int epochs;
    private final int workers;
    private final BlockMomentum momentum;
    private final DeltaPrecision deltas;
    private final OptimizerStateScope optimizerState;
    private final long token = new SecureRandom().nextLong();
    private final PeerNetwork net;

    private JavaFutureAction<List<Integer>> job;
    /** Counts epoch jobs, so a state held by an earlier job's tasks is known to be gone. */
    private int jobNumber;
    /** The stage attempt whose tasks the driver talks to, their addresses, and whether they have their start. */
    private int attempt = -1;
    private final String[] hosts;
    private final int[] ports;
    private boolean started;
    private int sequence;
    /** The last state in the driver's hands that the current job's tasks started from, and every order since. */
    private LearnedState base;
    private int baseSequence;
    private final List<Order> since = new ArrayList<>();
    /** A fetch under way (its round's sequence), re-asked of a restarted stage's tasks; -1 when none. */
    private int fetching = -1;

    /** A round's order, sent again to a restarted stage's tasks. */
    private record Order(int sequence, int epoch, int round, int firstBatch, int minibatches, long roundSeed,
            boolean exact) {
    }

    PeerRounds(JavaSparkContext jsc, JavaRDD<Minibatch> batches, Broadcast<ModelSpec> spec, String jobId, int epochs,
            int workers, BlockMomentum momentum, DeltaPrecision deltas, OptimizerStateScope optimizerState,
            String bindHost, String host, int port) {
        this.deltas = deltas;
        this.optimizerState = optimizerState;
        this.jsc = jsc;
        this.batches = batches;
        this.spec = spec;
        this.jobId = jobId;
        this.epochs = epochs;
        this.workers = workers;
        this.momentum = momentum;
        this.hosts = new String[workers];
        this.ports = new int[workers];
        this.net = PeerNetwork.open(bindHost, host, port, token);
    }


    @Override
    public Round train(LearnedState start, int epoch, int round, int firstBatch, int minibatchesPerRound,
            long roundSeed, boolean exact) {
        long began = System.nanoTime();
        long sentBefore = net.bytesSent();
        if (job == null) {
            startJob(epoch);
        }
        if (!(start instanceof HeldByReplicas held && held.isLatest(this, jobNumber, sequence))) {
            // Not what the tasks hold: they start from it (each is sent its chunk).
            base = LearnedState.here(start.state(), start.filter());
            baseSequence = ++sequence;
            since.clear();
            if (started) {
                sendStart();
            }
        }
        Order order = new Order(++sequence, epoch, round, firstBatch, minibatchesPerRound, roundSeed, exact);
        since.add(order);
        if (started) {
            send(0, assignment(order));
        }
        long sent = System.nanoTime();
        PeerMessage.Report report = await(PeerMessage.Report.class, order.sequence());
        return new Round(new HeldByReplicas(this, order.sequence(), jobNumber), report.stats(), report.rejections(),
                report.contributions(), report.contributed(), report.finite(), Seconds.between(began, sent),
                Seconds.since(sent), report.combineSeconds(), new RoundTraffic(net.bytesSent() - sentBefore,
                net.takeBytesReceived(order.sequence()), report.bytesSent(), report.bytesReceived()));
    }

    private void startJob(int epoch) {
        jobNumber++;
        attempt = -1;
        started = false;
        Arrays.fill(hosts, null);
        net.drop(m -> true);
        jsc.setJobGroup("dptrain-epoch-" + epoch, String.format("dptrain epoch %d/%d (its rounds in one job, the "
                + "replicas averaging among themselves)", epoch, epochs), true);
        // mapPartitionsWithIndex, not mapPartitionsWithEvaluator: Spark 4.2's RDDBarrier builds the
        // latter's RDD without marking it a barrier stage, so its tasks would be neither gang-scheduled
        // nor restarted together, and would have no BarrierTaskContext.
        RDD<Integer> rounds = batches.rdd().barrier().mapPartitionsWithIndex(new PeerEpochTask(spec, jobId, token,
                net.host(), net.port(), momentum.enabled() ? momentum.arithmetic() : null, deltas, optimizerState),
                false, INTEGER);
        // Through a shuffle, so the barrier stage is a map stage: Spark retries a failed barrier map
        // stage whole (up to spark.stage.maxConsecutiveAttempts), but aborts a failed barrier result stage.
        job = new JavaRDD<>(rounds, INTEGER).repartition(1).collectAsync();
    }

    /**
     * Round {@code seq}'s state, which epoch job {@code job}'s tasks hold, fetched from them (see
     * {@link HeldByReplicas}).
     */
    LearnedState fetchHeld(int seq, int heldByJob) {
        if (heldByJob != jobNumber || job == null) {
            throw new IllegalStateException("the state of round " + seq + " was held by an epoch's tasks that have "
                    + "ended");
        }
        return fetch(seq);
    }

    /** Asks every task for its chunk of round {@code seq}'s state and assembles them. */
    private LearnedState fetch(int seq) {
        fetching = seq;
        try {
            if (started) {
                sendToAll(new PeerMessage.Fetch(envelope(seq)));
            }
            TrainingState[] parts = new TrainingState[workers];
            float[][] globals = new float[workers][];
            float[][] deltas = new float[workers][];
            int received = 0;
            while (received < workers) {
                PeerMessage.State s = await(PeerMessage.State.class, seq);
                int p = s.envelope().from();
                if (p >= 0 && p < workers && parts[p] == null) {
                    parts[p] = s.chunk();
                    globals[p] = s.global();
                    deltas[p] = s.delta();
                    received++;
                }
            }
            net.takeBytesReceived(seq);
            StateChunks chunks = StateChunks.ofParts(parts);
            BlockMomentum.Filter filter = momentum.enabled()
                    ? new BlockMomentum.Filter(chunks.assemble(globals), chunks.assemble(deltas)) : null;
            LearnedState here = LearnedState.here(chunks.assemble(parts), filter);
            if (seq == sequence) {
                // A restarted stage now starts from here instead of replaying the rounds before it.
                base = here;
                baseSequence = seq;
                since.clear();
            }
            return here;
        } finally {
            fetching = -1;
        }
    }

    /**
     * Waits for a message of {@code kind} about round {@code seq} (from any stage attempt: replicas
     * are deterministic), taking care on the way of hellos: a stage's tasks, once all have said
     * hello, are sent their start and the orders since.
     */
    private <T extends PeerMessage> T await(Class<T> kind, int seq) {
        try {
            while (true) {
                PeerMessage m = net.take(PeerMessage.class, x -> true, POLL_MILLIS, this::failIfJobEnded);
                if (m instanceof PeerMessage.Hello hello) {
                    greet(hello);
                } else if (kind.isInstance(m) && m.envelope().sequence() == seq) {
                    return kind.cast(m);
                }
                // Anything else is a replayed round's report or a stale attempt's answer: dropped.
            }
        } catch (IOException e) {
            throw new UncheckedIOException("the replicas' exchange on the driver failed: " + e.getMessage(), e);
        }
    }

    private void greet(PeerMessage.Hello hello) {
        net.takeBytesReceived(hello.envelope().sequence());
        int a = hello.envelope().attempt();
        int p = hello.envelope().from();
        if (a < attempt || p < 0 || p >= workers) {
            return;
        }
        if (a > attempt) {
            attempt = a;
            started = false;
            Arrays.fill(hosts, null);
        }
        hosts[p] = hello.host();
        ports[p] = hello.port();
        if (!started && Arrays.stream(hosts).allMatch(h -> h != null)) {
            sendStart();
            for (Order o : since) {
                send(0, assignment(o));
            }
            if (fetching >= 0) {
                sendToAll(new PeerMessage.Fetch(envelope(fetching)));
            }
        }
    }

    /**
     * Sends every task the others' addresses and its chunk of the base state (and of block
     * momentum's filter). The addresses come from the hellos: Spark's barrier allGather would do, but
     * it waits in whole seconds (BarrierTaskContext sleeps 1 s between checks), a second per epoch.
     */
    private void sendStart() {
        started = true;
        TrainingState state = base.state();
        StateChunks chunks = StateChunks.of(state, workers);
        BlockMomentum.Filter filter = base.filter();
        List<String> addresses = new ArrayList<>();
        for (int p = 0; p < workers; p++) {
            addresses.add(hosts[p] + ":" + ports[p]);
        }
        for (int p = 0; p < workers; p++) {
            send(p, new PeerMessage.Start(envelope(baseSequence), addresses, chunks.slice(state, p),
                    filter == null ? null : chunks.slice(filter.global(), p),
                    filter == null ? null : chunks.slice(filter.delta(), p)));
        }
    }

    private PeerMessage.Envelope envelope(int seq) {
        return new PeerMessage.Envelope(token, attempt, seq, PeerMessage.DRIVER);
    }

    private PeerMessage.Assign assignment(Order o) {
        return new PeerMessage.Assign(envelope(o.sequence()), o.epoch(), o.round(), o.firstBatch(), o.minibatches(),
                o.roundSeed(), o.exact());
    }

    private void sendToAll(PeerMessage message) {
        for (int p = 0; p < workers; p++) {
            send(p, message);
        }
    }

    private void send(int partition, PeerMessage message) {
        try {
            net.send(hosts[partition], ports[partition], message);
        } catch (IOException e) {
            // The task is gone: its stage fails and restarts, and the new tasks say hello.
            failIfJobEnded();
        }
    }

    private void failIfJobEnded() {
        if (job == null || !job.isDone()) {
            return;
        }
        try {
            job.get();
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            // A task's failure to connect ended the job: Spark hands it back as text in the job's.
            TaskFailures.lineFrom(cause, PeerNetwork.UNREACHABLE).ifPresent(why -> {
                throw new EnvironmentException("the executors " + why + "; open the executors' ports to each other "
                        + "and the driver's to them (spark.dptrain.roundExchange.port fixes the driver's), or set "
                        + "spark.dptrain.roundExchange=jobs to send rounds as Spark jobs", cause);
            });
            if (cause instanceof RuntimeException runtime) {
                throw runtime;
            }
            throw new IllegalStateException("the training job failed: " + cause, cause);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while the replicas averaged", e);
        } catch (CancellationException e) {
            throw new IllegalStateException("the training job was cancelled", e);
        }
        throw new IllegalStateException("the epoch's training job ended while the driver waited for its replicas");
    }

    @Override
    public void endEpoch() {
        if (job == null) {
            return;
        }
        try {
            if (started) {
                sendToAll(new PeerMessage.Done(envelope(sequence)));
            }
            // A stage restarted after this (a task failed on its way out) is told the same.
            while (!job.isDone()) {
                try {
                    PeerMessage.Hello hello = net.take(PeerMessage.Hello.class, h -> true, POLL_MILLIS, () -> {
                        if (job.isDone()) {
                            throw new IOException("done");
                        }
                    });
                    greetDone(hello);
                } catch (IOException e) {
                    break;
                }
            }
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

    private void greetDone(PeerMessage.Hello hello) {
        try {
            net.send(hello.host(), hello.port(), new PeerMessage.Done(new PeerMessage.Envelope(token,
                    hello.envelope().attempt(), sequence, PeerMessage.DRIVER)));
        } catch (IOException e) {
            // That task is gone too.
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
            net.close();
        }
    }

    @Override
    public String describe() {
        boolean authenticated = PeerNetwork.authenticated();
        return "one Spark job per epoch, the replicas averaging among themselves over Spark's network layer ("
                + (authenticated ? "authenticated" : "not authenticated: spark.authenticate is off") + ", "
                + (net.encrypted() ? "encrypted" : "not encrypted") + ")";
    }
}
