package dptrain.driver.rounds;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dptrain.driver.files.ParameterException;
import org.junit.jupiter.api.Test;

class BlockMomentumTest {

    @Test
    void filtersTheBlockUpdateWithMomentum() {
        BlockMomentum bm = new BlockMomentum(0.5, 2.0, false);
        BlockMomentum.Filter f = BlockMomentum.Filter.start(new float[] {1f, -1f});
        // Round 1: G = avg - W_g = (0.5, 0.5); Δ = 2 G = (1, 1); W_g = (2, 0).
        BlockMomentum.Step step = bm.advance(f, new float[] {1.5f, -0.5f});
        assertArrayEquals(new float[] {1f, 1f}, step.filter().delta());
        assertArrayEquals(new float[] {2f, 0f}, step.filter().global());
        assertArrayEquals(new float[] {2f, 0f}, step.start());
        assertArrayEquals(new float[] {1f, -1f}, f.global(), "the filter before the round is left as it was");
        // Round 2: G = (2.25 - 2, -0.25 - 0) = (0.25, -0.25); Δ = 0.5 (1, 1) + 2 G = (1, 0); W_g = (3, 0).
        step = bm.advance(step.filter(), new float[] {2.25f, -0.25f});
        assertArrayEquals(new float[] {1f, 0f}, step.filter().delta());
        assertArrayEquals(new float[] {3f, 0f}, step.filter().global());
    }

    @Test
    void nesterovStartsTheNextRoundFromTheLookAheadPoint() {
        BlockMomentum bm = new BlockMomentum(0.5, 1.0, true);
        BlockMomentum.Step step = bm.advance(BlockMomentum.Filter.start(new float[] {0f}), new float[] {2f});
        assertArrayEquals(new float[] {2f}, step.filter().global());
        assertArrayEquals(new float[] {3f}, step.start(), "W_g + μ Δ = 2 + 0.5 · 2");
    }

    @Test
    void aFilterLargerThanOneChunkIsSteppedAsTheFormulaSaysForEveryParameter() {
        int n = 200_003; // several of the parallel loop's chunks, the last one partial
        java.util.Random random = new java.util.Random(3);
        float[] global = new float[n];
        float[] delta = new float[n];
        float[] averaged = new float[n];
        for (int i = 0; i < n; i++) {
            global[i] = (float) random.nextGaussian();
            delta[i] = (float) random.nextGaussian() * 0.1f;
            averaged[i] = global[i] + (float) random.nextGaussian() * 0.01f;
        }
        float[] averagedCopy = averaged.clone();
        BlockMomentum bm = new BlockMomentum(0.4, 1.5, true);
        BlockMomentum.Step step = bm.advance(new BlockMomentum.Filter(global, delta), averaged);
        float mu = 0.4f;
        float zeta = 1.5f;
        for (int i = 0; i < n; i++) {
            float d = mu * delta[i] + zeta * (averagedCopy[i] - global[i]);
            float g = global[i] + d;
            assertEquals(d, step.filter().delta()[i], "delta " + i);
            assertEquals(g, step.filter().global()[i], "global " + i);
            assertEquals(g + mu * d, step.start()[i], "start " + i);
        }
    }

    @Test
    void theDefaultIsNesterovBlockMomentumForRoundsOf16MinibatchesOrMore() {
        BlockMomentum nesterov = new BlockMomentum(0.4, 1, true);
        assertEquals(nesterov, BlockMomentum.recommended(2, AveragingSchedule.EVERY_EPOCH));
        assertEquals(nesterov, BlockMomentum.recommended(8, AveragingSchedule.everyMinibatches(64)));
        assertEquals(nesterov, BlockMomentum.recommended(4, AveragingSchedule.everyMinibatches(16)));
        assertEquals(BlockMomentum.NONE, BlockMomentum.recommended(4, AveragingSchedule.everyMinibatches(15)), "short rounds average plainly");
        assertEquals(BlockMomentum.NONE, BlockMomentum.recommended(1, AveragingSchedule.EVERY_EPOCH),
                "one worker has nothing to filter");
    }

    @Test
    void theDefaultAveragingIsEvery16MinibatchesWithTwoOrMoreWorkers() {
        assertEquals(AveragingSchedule.EVERY_EPOCH, AveragingSchedule.AUTO.resolve(1));
        assertEquals(AveragingSchedule.everyMinibatches(16), AveragingSchedule.AUTO.resolve(2));
        assertEquals(AveragingSchedule.everyMinibatches(16), AveragingSchedule.AUTO.resolve(8));
        assertEquals(AveragingSchedule.everyMinibatches(5), AveragingSchedule.everyMinibatches(5).resolve(8),
                "a schedule the user chose stays as it is");
    }

    @Test
    void plainAveragingIsNotFiltered() {
        assertFalse(BlockMomentum.NONE.enabled());
        assertTrue(new BlockMomentum(0, 1, true).enabled());
    }

    @Test
    void refusesValuesOutOfRange() {
        ParameterException e = assertThrows(ParameterException.class, () -> new BlockMomentum(1.0, 1, false));
        assertTrue(e.message(ParameterException::flag).startsWith(
                "--block-momentum: 1.0 is not allowed; expected a number in [0, 1)"), e.getMessage());
        e = assertThrows(ParameterException.class, () -> new BlockMomentum(0.5, 0, false));
        assertTrue(e.message(ParameterException::flag).startsWith("--block-lr: 0.0 is not allowed"), e.getMessage());
    }
}
