package dptrain.peers;

import dptrain.replica.DeltaFeedback;
import dptrain.replica.DeltaPrecision;
import dptrain.replica.MomentumFilter;
import dptrain.replica.OptimizerStateScope;
import dptrain.replica.ReplicaResult;
import dptrain.replica.RoundCombine;
import dptrain.replica.StateChunks;
import dptrain.replica.TrainingState;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/**
 * A long-lived training task that averages with the other replicas itself: it follows the driver's
 * orders (start from this state, train this round, send me your chunk, the epoch is done) and runs
 * each round's averaging with its peers ({@link PeerRound}). The driver only ever sends it its chunk
 * of a state to start from, and fetches its chunk back when it needs the state (a checkpoint, the
 * end of an epoch).
 */
public final class PeerTask {
    private static final long POLL_MILLIS = 200;

    /** Trains the replica on an assigned round from {@code start}: the caller's minibatches and hooks. */
    @FunctionalInterface
    public interface Trainer {
        ReplicaResult train(TrainingState start, PeerMessage.Assign assignment) throws IOException;
    }

    /**
     * Who this task is: its run's token, stage attempt and partition, block momentum's settings (or
     * null), the precision its parameter deltas travel in, and where its optimizer state lives.
     */
    public record Identity(long token, int attempt, int partition, MomentumFilter momentum, DeltaPrecision deltas,
            OptimizerStateScope optimizerState) {
        public Identity(long token, int attempt, int partition, MomentumFilter momentum) {
            this(token, attempt, partition, momentum, DeltaPrecision.FLOAT32, OptimizerStateScope.AVERAGED);
        }
    }

    private final PeerNetwork net;
    private final Identity identity;
    private final String driverHost;
    private final int driverPort;
    /** Every task's address, from the driver's start message (Spark's barrier allGather waits in whole seconds). */
    private PeerRound.Peers peers;
    private final PeerNetwork.StillWanted stillWanted;
    private StateChunks chunks;
    private TrainingState current;
    private PeerRound.Owned owned;
    private PeerRound.Owned previous;
    /** The residuals of 16-bit deltas since the state the driver last sent, or null for float32 deltas. */
    private DeltaFeedback feedback;
    private final List<Integer> deferredFetches = new ArrayList<>();

    private PeerTask(PeerNetwork net, Identity identity, String driverHost, int driverPort,
            PeerNetwork.StillWanted stillWanted) {
        this.net = net;
        this.identity = identity;
        this.driverHost = driverHost;
        this.driverPort = driverPort;
        this.stillWanted = stillWanted;
    }

    /**
     * Says hello to the driver at {@code driverHost}:{@code driverPort} (where this task's end
     * listens) and follows its orders until the epoch is done. Returns the rounds trained.
     */
    public static int run(PeerNetwork net, Identity identity, String driverHost, int driverPort, Trainer trainer,
            PeerNetwork.StillWanted stillWanted) throws IOException {
        return new PeerTask(net, identity, driverHost, driverPort, stillWanted).followDriver(trainer);
    }

    private PeerMessage.Envelope envelope(int sequence) {
        return new PeerMessage.Envelope(identity.token(), identity.attempt(), sequence, identity.partition());
    }

    private int followDriver(Trainer trainer) throws IOException {
        net.send(driverHost, driverPort, new PeerMessage.Hello(envelope(0), net.host(), net.port()));
        int rounds = 0;
        while (true) {
            PeerMessage order = net.take(PeerMessage.class, m -> m.envelope().from() == PeerMessage.DRIVER
                    && m.envelope().attempt() == identity.attempt(), POLL_MILLIS, stillWanted);
            if (order instanceof PeerMessage.Start start) {
                begin(start);
            } else if (order instanceof PeerMessage.Assign assign) {
                if (peers.self() == 0) {
                    // The driver sends a round's order to partition 0 only, so its bytes do not grow with N.
                    for (int p = 1; p < peers.count(); p++) {
                        net.send(peers.hosts()[p], peers.ports()[p], assign);
                    }
                }
                if (current == null) {
                    throw new IllegalStateException("the driver assigned round " + assign.round() + " before a state");
                }
                ReplicaResult trained = trainer.train(current, assign);
                PeerRound.Result result = PeerRound.combine(net, peers, envelope(assign.envelope().sequence()), chunks,
                        owned, trained, stillWanted, feedback, current, assign.exact(),
                        identity.optimizerState() == OptimizerStateScope.LOCAL);
                current = result.next();
                previous = owned;
                owned = result.owned();
                rounds++;
                for (Iterator<Integer> it = deferredFetches.iterator(); it.hasNext();) {
                    int seq = it.next();
                    if (seq <= owned.sequence()) {
                        sendChunk(seq);
                        it.remove();
                    }
                }
            } else if (order instanceof PeerMessage.Fetch fetch) {
                int seq = fetch.envelope().sequence();
                if (owned == null || seq > owned.sequence()) {
                    // A restarted stage's fetch can overtake the replayed orders partition 0 passes on.
                    deferredFetches.add(seq);
                } else {
                    sendChunk(seq);
                }
            } else if (order instanceof PeerMessage.Done) {
                return rounds;
            } else {
                throw new IllegalStateException("unexpected order from the driver: " + order);
            }
        }
    }

    /** Learns where its peers are; takes its chunk of the starting state and gathers the others' (no averaging). */
    private void begin(PeerMessage.Start start) throws IOException {
        List<String> addresses = start.addresses();
        String[] hosts = new String[addresses.size()];
        int[] ports = new int[addresses.size()];
        for (int p = 0; p < hosts.length; p++) {
            int colon = addresses.get(p).lastIndexOf(':');
            hosts[p] = addresses.get(p).substring(0, colon);
            ports[p] = Integer.parseInt(addresses.get(p).substring(colon + 1));
        }
        peers = new PeerRound.Peers(identity.partition(), hosts, ports, driverHost, driverPort);
        int seq = start.envelope().sequence();
        RoundCombine.Filter filter = start.global() == null ? RoundCombine.Filter.PLAIN
                : new RoundCombine.Filter(identity.momentum(), start.global(), start.delta());
        PeerMessage.Reduced mine = new PeerMessage.Reduced(envelope(seq), true, start.chunk());
        int n = peers.count();
        for (int p = 0; p < n; p++) {
            if (p != peers.self()) {
                net.send(peers.hosts()[p], peers.ports()[p], mine);
            }
        }
        TrainingState[] parts = new TrainingState[n];
        for (int p = 0; p < n; p++) {
            parts[p] = p == peers.self() ? start.chunk()
                    : PeerRound.take(net, PeerMessage.Reduced.class, seq, p, stillWanted).values();
        }
        // The chunk layout depends only on the state's shape and the number of replicas.
        chunks = StateChunks.ofParts(parts);
        current = chunks.assemble(parts);
        previous = null;
        owned = new PeerRound.Owned(seq, start.chunk(), filter);
        // The driver sends a state only where residuals are zero (an epoch's start, after an exact round).
        feedback = identity.deltas().rounds() ? new DeltaFeedback(identity.deltas()) : null;
    }

    /** Sends the driver this task's chunk of round {@code seq}'s state: the current one or the one before. */
    private void sendChunk(int seq) throws IOException {
        PeerRound.Owned chunk = owned != null && owned.sequence() == seq ? owned
                : previous != null && previous.sequence() == seq ? previous : null;
        if (chunk == null) {
            throw new IllegalStateException("the driver asked for the state of round " + seq + " but partition "
                    + peers.self() + " holds only " + (owned == null ? "none" : "round " + owned.sequence())
                    + (previous == null ? "" : " and round " + previous.sequence()));
        }
        RoundCombine.Filter filter = chunk.filter();
        net.send(peers.driverHost(), peers.driverPort(),
                new PeerMessage.State(envelope(seq), chunk.chunk(), filter.global(), filter.delta()));
    }
}
