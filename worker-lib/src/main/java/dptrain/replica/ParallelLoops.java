package dptrain.replica;

import java.util.stream.IntStream;

/**
 * Elementwise loops over parameter-sized arrays split into chunks that run on the common fork-join
 * pool as well as the calling thread: for the driver's work between two rounds (combining results,
 * the block-momentum filter, the finiteness check), when the replicas wait and the cores are idle.
 * Each element is computed by the same operations whichever chunk it falls in, so the results are
 * the same bits as one sequential loop.
 */
public final class ParallelLoops {
    /** Elements per chunk: large enough that scheduling a chunk costs little against its work. */
    static final int CHUNK = 1 << 16;

    private ParallelLoops() {
    }

    /** The body of a loop over the indices {@code [from, to)}. */
    @FunctionalInterface
    public interface Range {
        void run(int from, int to);
    }

    /** Runs {@code body} over {@code [0, length)}, in parallel chunks when there are at least two. */
    public static void forRange(int length, Range body) {
        int chunks = (length + CHUNK - 1) / CHUNK;
        if (chunks < 2) {
            body.run(0, length);
            return;
        }
        IntStream.range(0, chunks).parallel().forEach(c -> body.run(c * CHUNK, Math.min(length, (c + 1) * CHUNK)));
    }

    /** True when {@code test} holds for every chunk of {@code [0, length)}. */
    static boolean allRanges(int length, RangeTest test) {
        int chunks = (length + CHUNK - 1) / CHUNK;
        if (chunks < 2) {
            return test.holds(0, length);
        }
        return IntStream.range(0, chunks).parallel()
                .allMatch(c -> test.holds(c * CHUNK, Math.min(length, (c + 1) * CHUNK)));
    }

    /** A condition over the indices {@code [from, to)}. */
    @FunctionalInterface
    interface RangeTest {
        boolean holds(int from, int to);
    }
}
