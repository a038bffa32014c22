package dptrain.bench;

import dptrain.timing.Seconds;
import java.util.Locale;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The single-thread GEMM throughput this machine reaches right now: {@code Nd4j.gemm} of a c-order {@code m×k}
 * by an f-order {@code k×n} float matrix into a preallocated f-order output (the layouts of the book network's
 * first layer), best of several timed rounds. Training speed is reported against it, since the machine is shared
 * and its speed drifts.
 *
 * <p>Usage: {@code GemmPeak [M K N]} (default 128 784 512) prints the GFLOP/s.
 */
public final class GemmPeak {
    /** One timed round runs this many GEMMs. */
    private static final int GEMMS_PER_ROUND = 20;

    private GemmPeak() {
    }

    /** Best GFLOP/s over {@code rounds} rounds, after one warm-up round, for {@code m×k · k×n}. */
    public static double gflops(int m, int k, int n, int rounds) {
        if (m < 1 || k < 1 || n < 1 || rounds < 1) {
            throw new IllegalArgumentException("expected m, k, n and rounds >= 1, got " + m + ", " + k + ", " + n + ", "
                    + rounds);
        }
        INDArray a = Nd4j.rand(DataType.FLOAT, m, k);
        INDArray b = Nd4j.rand(DataType.FLOAT, k, n).dup('f');
        INDArray c = Nd4j.create(DataType.FLOAT, new long[] {m, n}, 'f');
        double flopsPerRound = 2.0 * m * k * n * GEMMS_PER_ROUND;
        double best = 0;
        for (int round = 0; round <= rounds; round++) {
            long began = System.nanoTime();
            for (int i = 0; i < GEMMS_PER_ROUND; i++) {
                Nd4j.gemm(a, b, c, false, false, 1.0, 0.0);
            }
            Nd4j.getExecutioner().commit();
            double seconds = Seconds.since(began);
            if (round > 0) {
                best = Math.max(best, flopsPerRound / seconds / Units.FLOP_PER_GFLOP);
            }
        }
        return best;
    }

    /** The book network's first-layer shape, 128×784×512, best of 10 rounds. */
    public static double bookShapeGflops() {
        return gflops(128, 784, 512, 10);
    }

    public static void main(String[] args) {
        if (args.length != 0 && args.length != 3) {
            System.err.println("usage: GemmPeak [M K N]");
            System.exit(2);
        }
        int m = args.length == 3 ? Integer.parseInt(args[0]) : 128;
        int k = args.length == 3 ? Integer.parseInt(args[1]) : 784;
        int n = args.length == 3 ? Integer.parseInt(args[2]) : 512;
        System.out.printf(Locale.ROOT, "Nd4j.gemm %dx%dx%d, one thread: %.1f GFLOP/s (best of 10)%n", m, k, n,
                gflops(m, k, n, 10));
    }
}
