package dptrain.bench;

import dptrain.peers.PeerMessage;
import dptrain.replica.ParameterAverage;
import dptrain.replica.ReplicaStats;
import dptrain.replica.RoundCombine;
import dptrain.replica.StateChunks;
import dptrain.replica.TrainingState;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Locale;
import java.util.Random;

/**
 * The CPU one replica spends on a round of averaging among the replicas, without a network: cut
 * its state into chunks, encode the N - 1 it sends, decode the N - 1 it receives, fold and combine
 * its own chunk, encode its averaged chunk, decode the N - 1 others and assemble the next state.
 * One thread, as a replica has. This is the per-byte term of the round-cost model (BENCHMARKS.md);
 * the network adds {@code 2 (N - 1) / N} states over the link and a few latencies.
 *
 * <p>Usage: {@code PeerRoundCpu "0.4 4 16" "2 8 64" REPEATS}: parameter counts in millions, worker counts.
 */
public final class PeerRoundCpu {
    private PeerRoundCpu() {
    }

    public static void main(String[] args) throws IOException {
        double[] sizes = java.util.Arrays.stream(args[0].trim().split("\\s+")).mapToDouble(Double::parseDouble).toArray();
        int[] workers = java.util.Arrays.stream(args[1].trim().split("\\s+")).mapToInt(Integer::parseInt).toArray();
        int repeats = Integer.parseInt(args[2]);
        System.out.println("| Parameters | State (MB) | Workers | CPU per round (ms) | ms per MB of state |");
        System.out.println("|---|---|---|---|---|");
        // Untimed: the JIT compiles the copy and averaging loops on the first rounds.
        TrainingState warm = randomState(1 << 20, 2);
        for (int r = 0; r < 20; r++) {
            oneRound(warm, 2 + r % 7, r);
        }
        for (double millions : sizes) {
            int parameters = (int) (millions * 1e6);
            TrainingState state = randomState(parameters, 1);
            for (int n : workers) {
                double[] ms = new double[repeats];
                for (int r = 0; r < repeats; r++) {
                    ms[r] = oneRound(state, n, r);
                }
                double median = EngineSpeed.median(ms);
                double mb = 8.0 * parameters / 1e6;
                System.out.printf(Locale.ROOT, "| %.1fM | %.1f | %d | %.1f | %.2f |%n", millions, mb, n, median,
                        median / mb);
            }
        }
    }

    private static TrainingState randomState(int parameters, long seed) {
        Random random = new Random(seed);
        float[] p = new float[parameters];
        float[] o = new float[parameters];
        for (int i = 0; i < parameters; i++) {
            p[i] = (float) random.nextGaussian();
            o[i] = random.nextFloat() * 1e-3f;
        }
        return TrainingState.restore(p, o, 10, 1);
    }

    /** One replica's share of a round with {@code n} replicas, in milliseconds. */
    private static double oneRound(TrainingState reached, int n, int salt) throws IOException {
        ReplicaStats stats = new ReplicaStats(128, 1, 1, 50.0, 100, 0, 0, 0.01, 0.01);
        PeerMessage.Envelope e = new PeerMessage.Envelope(1, 0, salt, 0);
        // What the others send it, encoded by them (not timed): their values of its chunk, and their
        // averaged chunks (its own values stand in for both: the sizes are what count).
        StateChunks layout = StateChunks.of(reached, n);
        ByteBuffer[] incomingChunks = new ByteBuffer[n];
        ByteBuffer[] incomingReduced = new ByteBuffer[n];
        for (int p = 1; p < n; p++) {
            incomingChunks[p] = PeerMessage.encode(new PeerMessage.Chunk(e, layout.slice(reached, 0)));
            incomingReduced[p] = PeerMessage.encode(new PeerMessage.Reduced(e, true, layout.slice(reached, p)));
        }

        long began = System.nanoTime();
        StateChunks chunks = StateChunks.of(reached, n);
        TrainingState own = chunks.slice(reached, 0);
        ParameterAverage average = ParameterAverage.empty();
        average.add(RoundCombine.chunkResult(0, stats, null, own));
        for (int p = 1; p < n; p++) {
            PeerMessage.encode(new PeerMessage.Chunk(e, chunks.slice(reached, p)));
            PeerMessage.Chunk in = (PeerMessage.Chunk) PeerMessage.decode(incomingChunks[p].duplicate());
            average.add(RoundCombine.chunkResult(p, stats, null, in.values()));
        }
        RoundCombine.Outcome outcome = RoundCombine.of(average, own, RoundCombine.Filter.PLAIN);
        PeerMessage.encode(new PeerMessage.Reduced(e, true, outcome.next()));
        TrainingState[] parts = new TrainingState[n];
        parts[0] = outcome.next();
        for (int p = 1; p < n; p++) {
            parts[p] = ((PeerMessage.Reduced) PeerMessage.decode(incomingReduced[p].duplicate())).values();
        }
        TrainingState next = chunks.assemble(parts);
        double ms = (System.nanoTime() - began) / 1e6;
        if (next.parameterCount() != reached.parameterCount()) {
            throw new IllegalStateException("the round lost values");
        }
        return ms;
    }
}
