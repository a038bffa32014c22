package dptrain.replica;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/**
 * A round combined chunk by chunk (as replicas averaging among themselves do) has the bits of the
 * same round combined whole (as the driver does): the average, block momentum and the checks.
 */
class StateChunksTest {

    private static float[] values(Random random, int n, double scale) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (random.nextGaussian() * scale * Math.pow(10, random.nextInt(7) - 3));
        }
        return v;
    }

    /** Results of {@code n} replicas: partition 1 rejected and partition 2 empty when there are enough. */
    private static List<ReplicaResult> results(int n, Random random, int parameters, int optimizer) {
        List<ReplicaResult> out = new ArrayList<>();
        for (int p = 0; p < n; p++) {
            long examples = 100 + random.nextInt(29);
            ReplicaStats stats = ReplicaStats.ofReplica(examples, 4, random.nextDouble() * examples,
                    new OutputTally(examples / 2, 0.0, 0.0), random.nextDouble());
            if (n > 3 && p == 1) {
                out.add(ReplicaResult.rejected("the loss is NaN at step 2", stats));
            } else if (n > 3 && p == 2) {
                out.add(new ReplicaResult(null, ReplicaStats.NONE));
            } else {
                out.add(new ReplicaResult(new TrainingState(values(random, parameters, 1), values(random, optimizer,
                        1e-3), 7, 1), stats));
            }
        }
        return out;
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3, 5, 8})
    void aRoundCombinedChunkByChunkHasTheBitsOfTheWholeRound(int n) {
        Random random = new Random(n);
        int parameters = 1003;
        int optimizer = 2006;
        TrainingState start = new TrainingState(values(random, parameters, 1), values(random, optimizer, 1e-3), 7, 1);
        MomentumFilter nesterov = new MomentumFilter(0.4, 1, true);
        RoundCombine.Filter filter = new RoundCombine.Filter(nesterov, values(random, parameters, 1),
                values(random, parameters, 0.1));
        List<ReplicaResult> results = results(n, random, parameters, optimizer);

        ParameterAverage whole = ParameterAverage.empty();
        for (int p = 0; p < n; p++) {
            whole.add(results.get(p).forPartition(p));
        }
        RoundCombine.Outcome expected = RoundCombine.of(whole, start, filter);

        StateChunks chunks = StateChunks.of(start, n);
        TrainingState[] next = new TrainingState[n];
        float[][] global = new float[n][];
        float[][] delta = new float[n][];
        for (int c = 0; c < n; c++) {
            ParameterAverage chunk = ParameterAverage.empty();
            for (int p = 0; p < n; p++) {
                ReplicaResult r = results.get(p);
                chunk.add(RoundCombine.chunkResult(p, r.stats(), r.rejection(), chunks.slice(r, c)));
            }
            RoundCombine.Outcome o = RoundCombine.of(chunk, chunks.slice(start, c), new RoundCombine.Filter(nesterov,
                    chunks.slice(filter.global(), c), chunks.slice(filter.delta(), c)));
            assertEquals(expected.stats(), o.stats());
            assertEquals(expected.rejections(), o.rejections());
            assertEquals(expected.finite(), o.finite());
            next[c] = o.next();
            global[c] = o.filter().global();
            delta[c] = o.filter().delta();
        }
        TrainingState assembled = StateChunks.ofParts(next).assemble(next);
        assertArrayEquals(expected.next().copyParameters(), assembled.copyParameters());
        assertArrayEquals(expected.next().copyOptimizerState(), assembled.copyOptimizerState());
        assertEquals(expected.next().iteration(), assembled.iteration());
        assertArrayEquals(expected.filter().global(), chunks.assemble(global));
        assertArrayEquals(expected.filter().delta(), chunks.assemble(delta));
    }

    @Test
    void aChunkOfTheWrongSizeIsRefused() {
        TrainingState state = new TrainingState(new float[10], new float[4], 0, 0);
        StateChunks chunks = StateChunks.of(state, 3);
        // Chunks of 3, 3 and 4 parameters: the last two swapped.
        TrainingState[] parts = {chunks.slice(state, 0), chunks.slice(state, 2), chunks.slice(state, 1)};
        assertThrows(IllegalArgumentException.class, () -> chunks.assemble(parts));
    }
}
