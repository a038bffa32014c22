package dptrain.bench;

import java.util.Locale;

/**
 * The round-cost model of BENCHMARKS.md: the time one averaging round spends outside the replicas'
 * training, for the driver in the data path (the star: the round exchange, or a job per round) and
 * for the replicas averaging among themselves (the peers), as a function of the number of workers
 * N, the state's size S (parameters and optimizer state), a link's bandwidth B per direction and its
 * one-way latency L:
 * <pre>
 *   star:  t0 + c·N·S + 2·N·S / B + 2·L          the driver's one link carries N states out and N back,
 *                                               and its CPU encodes, decodes and averages N states
 *   peers: t0 + c·S   + 2·(N−1)/N·S / B + 5·L    each replica sends (and receives) 2(N−1)/N states over
 *                                               its own link, in parallel; five hops in sequence
 * </pre>
 * {@code c} is a replica's CPU per byte of state in a round (measured by {@link PeerRoundCpu}),
 * {@code t0} a fixed cost per round. Prints the predictions for the given CPU terms.
 *
 * <p>Usage: {@code RoundCostModel C_MS_PER_MB [C_MS_PER_MB...]}; t0 1 ms and L 50 µs.
 */
public final class RoundCostModel {
    private static final double T0_MS = 1.0;
    private static final double LATENCY_MS = 0.05;

    private RoundCostModel() {
    }

    static double peersMs(int n, double stateMb, double gbPerSecond, double cMsPerMb) {
        return T0_MS + cMsPerMb * stateMb + 2.0 * (n - 1) / n * stateMb / gbPerSecond + 5 * LATENCY_MS;
    }

    static double starMs(int n, double stateMb, double gbPerSecond, double cMsPerMb) {
        return T0_MS + cMsPerMb * n * stateMb + 2.0 * n * stateMb / gbPerSecond + 2 * LATENCY_MS;
    }

    public static void main(String[] args) {
        double[] links = {1.25, 3.125}; // 10 GbE and 25 GbE, GB/s (= MB/ms)
        String[] linkNames = {"10 GbE", "25 GbE"};
        double[][] states = {{0.407, 3.26}, {4, 32}, {16, 128}, {50, 400}}; // millions of parameters, MB of state
        System.out.println("| c (ms/MB) | Parameters | State (MB) | Link | N | star (ms) | peers (ms) |");
        System.out.println("|---|---|---|---|---|---|---|");
        for (String arg : args) {
            double c = Double.parseDouble(arg);
            for (double[] s : states) {
                for (int l = 0; l < links.length; l++) {
                    for (int n : new int[] {8, 64}) {
                        System.out.printf(Locale.ROOT, "| %.1f | %.1fM | %.1f | %s | %d | %,.0f | %,.1f |%n", c, s[0],
                                s[1], linkNames[l], n, starMs(n, s[1], links[l], c), peersMs(n, s[1], links[l], c));
                    }
                }
            }
        }
    }
}
