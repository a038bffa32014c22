package dptrain.peers;

import dptrain.replica.DeltaFeedback;
import dptrain.replica.ParameterAverage;
import dptrain.replica.ReplicaResult;
import dptrain.replica.RoundCombine;
import dptrain.replica.StateChunks;
import dptrain.replica.TrainingState;
import java.io.IOException;

/**
 * One averaging round among the replicas, after each has trained from the same state: every
 * replica owns one chunk of the state ({@link StateChunks}) and
 * <ol>
 *   <li>tells every other replica what it did (its statistics, or why it was rejected): a header;</li>
 *   <li>sends each owner its values of that owner's chunk (reduce-scatter);</li>
 *   <li>averages its own chunk over all replicas in partition order and applies block momentum to
 *       it ({@link RoundCombine}: the driver's arithmetic on a slice of the values, so the same bits);</li>
 *   <li>sends its averaged chunk to every other replica (all-gather), so each holds the next state;</li>
 *   <li>partition 0 reports the round's statistics and checks to the driver.</li>
 * </ol>
 * With 16-bit deltas ({@link DeltaFeedback}), a replica rounds what it reached before step 2 and
 * an owner rounds its averaged chunk before step 4, each with its own residual, so the parameters
 * travel as 2-byte codes and every replica averages and applies the same floats as the driver
 * would; an exact round sends float32 and flushes the residuals. With the optimizer state kept
 * local ({@code OptimizerStateScope.LOCAL}), a round that is not exact moves the parameters only.
 * Each replica sends and receives about {@code 2 (N - 1) / N} times the state; the driver receives
 * one small report, whatever N is.
 */
final class PeerRound {
    private static final long POLL_MILLIS = 200;

    /** The replicas' addresses and who this one is. */
    record Peers(int self, String[] hosts, int[] ports, String driverHost, int driverPort) {
        int count() {
            return hosts.length;
        }
    }

    /** What a round leaves with this replica: the whole next state and its own chunk of it. */
    record Result(TrainingState next, Owned owned) {
    }

    /** The chunk this replica owns after a round, with its chunk of block momentum's filter. */
    record Owned(int sequence, TrainingState chunk, RoundCombine.Filter filter) {
    }

    private PeerRound() {
    }

    /**
     * Combines this replica's {@code trained} result of round {@code envelope.sequence()}, which
     * started from {@code owned}'s chunk, with every other replica's.
     */
    static Result combine(PeerNetwork net, Peers peers, PeerMessage.Envelope envelope, StateChunks chunks,
            Owned owned, ReplicaResult trained, PeerNetwork.StillWanted stillWanted) throws IOException {
        return combine(net, peers, envelope, chunks, owned, trained, stillWanted, null, null, false, false);
    }

    /**
     * {@link #combine}, with 16-bit deltas when {@code feedback} is given: {@code start} is the whole
     * state the round started from, and {@code exact} says whether this round flushes the residuals.
     * With {@code localOptimizer}, a round that is not exact averages the parameters only: no
     * optimizer value travels, and this replica starts its next round from its own optimizer state.
     */
    static Result combine(PeerNetwork net, Peers peers, PeerMessage.Envelope envelope, StateChunks chunks,
            Owned owned, ReplicaResult trained, PeerNetwork.StillWanted stillWanted, DeltaFeedback feedback,
            TrainingState start, boolean exact, boolean localOptimizer) throws IOException {
        boolean parametersOnly = localOptimizer && !exact;
        int self = peers.self();
        int n = peers.count();
        int seq = envelope.sequence();
        long sentBefore = net.bytesSent();
        boolean contributes = trained.rejection() == null && chunks.slice(trained, 0) != null;
        PeerMessage.Header header = new PeerMessage.Header(envelope, contributes,
                RoundCombine.chunkResult(self, trained.stats(), trained.rejection(), null));
        for (int p = 0; p < n; p++) {
            if (p != self) {
                net.send(peers.hosts()[p], peers.ports()[p], header);
            }
        }
        // What this replica sends: its state, or with 16-bit deltas its rounded state and the codes for it.
        DeltaFeedback.Rounded rounded = contributes && feedback != null
                ? feedback.roundReplica(self, trained, start, exact) : null;
        if (contributes) {
            for (int p = 0; p < n; p++) {
                if (p != self) {
                    net.send(peers.hosts()[p], peers.ports()[p],
                            chunkFor(chunks, p, envelope, trained, rounded, parametersOnly));
                }
            }
        }

        // Fold every replica's values of this replica's chunk in partition order, as the driver would.
        ParameterAverage average = ParameterAverage.empty();
        for (int p = 0; p < n; p++) {
            PeerMessage.Header from = p == self ? header : take(net, PeerMessage.Header.class, seq, p, stillWanted);
            ReplicaResult result = from.statsOrRejection();
            TrainingState values = null;
            if (from.contributes()) {
                if (p == self) {
                    values = rounded != null ? chunks.slice(rounded.values(), self) : chunks.slice(trained, self);
                    values = parametersOnly ? RoundCombine.parametersOnly(values) : values;
                } else {
                    PeerMessage.Chunk chunk = take(net, PeerMessage.Chunk.class, seq, p, stillWanted);
                    values = chunk.codes() == null ? chunk.values()
                            : DeltaFeedback.rebuild(feedback.precision(), owned.chunk(), chunk.codes(), chunk.values());
                }
            }
            average.add(RoundCombine.chunkResult(p, result.stats(), result.rejection(), values));
        }
        TrainingState ownedStart = parametersOnly ? RoundCombine.parametersOnly(owned.chunk()) : owned.chunk();
        RoundCombine.Outcome outcome = RoundCombine.of(average, ownedStart, owned.filter());

        TrainingState nextChunk = outcome.next();
        PeerMessage.Reduced mine = new PeerMessage.Reduced(envelope, outcome.finite(), nextChunk);
        if (feedback != null && outcome.contributed()) {
            DeltaFeedback.Rounded applied = feedback.roundOutcome(ownedStart, outcome.next(), exact);
            nextChunk = applied.values();
            mine = new PeerMessage.Reduced(envelope, outcome.finite(), applied.codes() == null ? nextChunk
                    : DeltaFeedback.withoutParameters(nextChunk), applied.codes());
        }
        for (int p = 0; p < n; p++) {
            if (p != self) {
                net.send(peers.hosts()[p], peers.ports()[p], mine);
            }
        }
        TrainingState[] next = new TrainingState[n];
        boolean finite = true;
        for (int p = 0; p < n; p++) {
            PeerMessage.Reduced reduced = p == self ? mine : take(net, PeerMessage.Reduced.class, seq, p, stillWanted);
            next[p] = p == self ? nextChunk : reduced.codes() == null ? reduced.values()
                    : DeltaFeedback.rebuild(feedback.precision(), chunks.slice(start, p), reduced.codes(),
                            reduced.values());
            finite &= reduced.finite();
        }
        if (self == 0) {
            net.send(peers.driverHost(), peers.driverPort(), new PeerMessage.Report(envelope, outcome.stats(),
                    outcome.rejections(), outcome.contributions(), outcome.contributed(), finite,
                    outcome.combineSeconds(), net.bytesSent() - sentBefore, net.takeBytesReceived(seq)));
        } else {
            net.takeBytesReceived(seq);
        }
        if (parametersOnly) {
            // This replica's own optimizer state goes on; its chunk holds it too, for a fetch (a rollback).
            TrainingState whole = RoundCombine.withOwnOptimizerState(RoundCombine.assemble(chunks, next, start),
                    trained, start);
            return new Result(whole, new Owned(seq, chunks.slice(whole, self), outcome.filter()));
        }
        return new Result(chunks.assemble(next), new Owned(seq, nextChunk, outcome.filter()));
    }

    /** Owner {@code p}'s chunk of what this replica reached: floats, or 16-bit codes and the optimizer state. */
    private static PeerMessage.Chunk chunkFor(StateChunks chunks, int p, PeerMessage.Envelope envelope,
            ReplicaResult trained, DeltaFeedback.Rounded rounded, boolean parametersOnly) {
        TrainingState values = rounded == null ? chunks.slice(trained, p) : chunks.slice(rounded.values(), p);
        values = parametersOnly ? RoundCombine.parametersOnly(values) : values;
        if (rounded == null) {
            return new PeerMessage.Chunk(envelope, values);
        }
        return rounded.codes() == null ? new PeerMessage.Chunk(envelope, values)
                : new PeerMessage.Chunk(envelope, DeltaFeedback.withoutParameters(values),
                        chunks.slice(rounded.codes(), p));
    }

    /** Partition {@code from}'s message of kind {@code kind} for round {@code seq}. */
    static <T extends PeerMessage> T take(PeerNetwork net, Class<T> kind, int seq, int from,
            PeerNetwork.StillWanted stillWanted) throws IOException {
        return net.take(kind, m -> m.envelope().sequence() == seq && m.envelope().from() == from, POLL_MILLIS,
                stillWanted);
    }
}
