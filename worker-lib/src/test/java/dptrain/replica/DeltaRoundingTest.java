package dptrain.replica;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * 16-bit deltas: round trips within half a unit in the last place, error feedback that keeps the
 * sum of what was sent within one residual of the sum of the true deltas, and what happens beyond
 * float16's range.
 */
class DeltaRoundingTest {
    private static final DeltaPrecision F16 = DeltaPrecision.FLOAT16;
    private static final DeltaPrecision BF16 = DeltaPrecision.BFLOAT16;

    private static float roundTrip(DeltaPrecision p, float v) {
        return DeltaRounding.decode(p, DeltaRounding.encode(p, v));
    }

    @Test
    void everyFloat16CodeDecodesAndEncodesBackToItself() {
        for (int h = 0; h < 0x10000; h++) {
            short code = (short) h;
            float v = DeltaRounding.decode(F16, code);
            if (Float.isNaN(v)) {
                assertTrue(Float.isNaN(roundTrip(F16, v)), "NaN stays NaN");
                continue;
            }
            assertEquals(code, DeltaRounding.encode(F16, v), "float16 code " + Integer.toHexString(h));
        }
        assertEquals(65504f, DeltaRounding.decode(F16, (short) 0x7bff));
        assertEquals(0x1p-24f, DeltaRounding.decode(F16, (short) 0x0001), "the smallest subnormal");
        assertEquals(1f, DeltaRounding.decode(F16, (short) 0x3c00));
    }

    @Test
    void everyBfloat16CodeDecodesAndEncodesBackToItself() {
        for (int h = 0; h < 0x10000; h++) {
            short code = (short) h;
            float v = DeltaRounding.decode(BF16, code);
            if (!Float.isNaN(v)) {
                assertEquals(code, DeltaRounding.encode(BF16, v), "bfloat16 code " + Integer.toHexString(h));
            }
        }
    }

    /** Half a unit in the last place: 2^-11 relative (2^-25 absolute below 2^-14) in float16, 2^-8 in bfloat16. */
    @Test
    void roundingIsToTheNearestCodeWithinHalfAUnitInTheLastPlace() {
        Random random = new Random(15);
        for (int i = 0; i < 1_000_000; i++) {
            float v = (float) (random.nextGaussian() * Math.pow(10, random.nextInt(12) - 8));
            float f16 = roundTrip(F16, v);
            float bound16 = Math.abs(v) >= 0x1p-14f ? Math.abs(v) * 0x1p-11f : 0x1p-25f;
            assertTrue(Math.abs(f16 - v) <= bound16, v + " -> " + f16);
            float bf16 = roundTrip(BF16, v);
            assertTrue(Math.abs(bf16 - v) <= Math.abs(v) * 0x1p-8f, v + " -> " + bf16);
            // Nearest: neither neighbouring code is closer.
            short code = DeltaRounding.encode(F16, v);
            for (int step : new int[] {-1, 1}) {
                float neighbour = DeltaRounding.decode(F16, (short) (code + step));
                if (Float.isFinite(neighbour) && Math.signum(neighbour) == Math.signum(f16)) {
                    assertTrue(Math.abs(neighbour - v) >= Math.abs(f16 - v), v + ": " + neighbour + " is nearer");
                }
            }
        }
        assertEquals(2048f, roundTrip(F16, 2049f), "a tie rounds to the even code");
        assertEquals(2052f, roundTrip(F16, 2051f), "a tie rounds to the even code");
        assertEquals(1f, roundTrip(BF16, 1f + 0x1p-8f), "a tie rounds to the even code");
    }

    @Test
    void errorFeedbackKeepsTheSumSentWithinOneResidualOfTheSumOfTrueDeltas() {
        for (DeltaPrecision p : new DeltaPrecision[] {F16, BF16}) {
            Random random = new Random(7);
            int n = 1000;
            float[] start = new float[n];
            float[] residual = new float[n];
            double[] trueSum = new double[n];
            double[] sentSum = new double[n];
            double[] sentWithoutFeedback = new double[n];
            for (int i = 0; i < n; i++) {
                start[i] = (float) random.nextGaussian();
            }
            for (int round = 0; round < 500; round++) {
                float[] trained = new float[n];
                for (int i = 0; i < n; i++) {
                    // Small deltas against weights near 1: float16 keeps only a few of their bits.
                    trained[i] = start[i] + (float) (1e-4 * (1 + random.nextGaussian()));
                }
                float[] r = residual.clone();
                short[] codes = DeltaRounding.encodeDeltas(p, start, trained, residual);
                for (int i = 0; i < n; i++) {
                    float sent = DeltaRounding.decode(p, codes[i]);
                    float delta = trained[i] - start[i];
                    trueSum[i] += delta;
                    sentSum[i] += sent;
                    sentWithoutFeedback[i] += roundTrip(p, delta);
                    assertEquals(delta + r[i], sent + residual[i], Math.ulp(delta + r[i]) * 2,
                            "the residual is exactly what the code left out");
                }
            }
            double worstDrift = 0;
            double worstWithout = 0;
            for (int i = 0; i < n; i++) {
                assertEquals(trueSum[i], sentSum[i] + residual[i], 1e-6, p + ": sum sent + residual = sum of deltas");
                worstDrift = Math.max(worstDrift, Math.abs(trueSum[i] - sentSum[i]));
                worstWithout = Math.max(worstWithout, Math.abs(trueSum[i] - sentWithoutFeedback[i]));
                assertTrue(Math.abs(residual[i]) <= 2e-4 * 0x1p-8 * 8, p + ": the residual stays bounded: "
                        + residual[i]);
            }
            assertTrue(worstDrift < worstWithout / 10, p + ": feedback drifts " + worstDrift + ", without "
                    + worstWithout);
        }
    }

    @Test
    void aFiniteDeltaBeyondFloat16sRangeSaturatesAndTheExcessWaitsInTheResidual() {
        float[] start = {0f, 0f, 1f};
        float[] trained = {100_000f, -70_000f, 1.5f};
        float[] residual = new float[3];
        short[] codes = DeltaRounding.encodeDeltas(F16, start, trained, residual);
        assertArrayEquals(new float[] {65504f, -65504f, 1.5f}, DeltaRounding.applyDeltas(F16, start, codes));
        assertArrayEquals(new float[] {100_000f - 65504f, -70_000f + 65504f, 0f}, residual);
        // The next round, with no further change, sends the excess.
        codes = DeltaRounding.encodeDeltas(F16, start, start, residual);
        assertArrayEquals(new float[] {100_000f - 65504f, -70_000f + 65504f, 1f},
                DeltaRounding.applyDeltas(F16, start, codes));
        assertArrayEquals(new float[3], residual);
        assertEquals((short) 0x7f7f, DeltaRounding.encode(BF16, Float.MAX_VALUE), "bfloat16 saturates too");
    }

    @Test
    void aNanOrInfiniteDeltaIsSentAsItIsSoTheRoundIsSeenToDiverge() {
        for (DeltaPrecision p : new DeltaPrecision[] {F16, BF16}) {
            assertTrue(Float.isNaN(roundTrip(p, Float.NaN)), p + " NaN");
            assertEquals(Float.POSITIVE_INFINITY, roundTrip(p, Float.POSITIVE_INFINITY), p + " +inf");
            assertEquals(Float.NEGATIVE_INFINITY, roundTrip(p, Float.NEGATIVE_INFINITY), p + " -inf");
        }
    }

    @Test
    void anExactRoundSendsTheDeltaAndTheResidualInFloat32AndZeroesTheResidual() {
        float[] start = {1f, 2f};
        float[] trained = {1.001f, 1.999f};
        float[] residual = {1e-5f, -2e-5f};
        float[] flushed = DeltaRounding.flush(start, trained, residual);
        assertEquals(1f + ((1.001f - 1f) + 1e-5f), flushed[0]);
        assertEquals(2f + ((1.999f - 2f) - 2e-5f), flushed[1]);
        assertArrayEquals(new float[2], residual);
    }

    @Test
    void theFeedbackKeepsAResidualPerPartitionAndAnExactRoundFlushesThemAll() {
        DeltaFeedback feedback = new DeltaFeedback(F16);
        TrainingState start = TrainingState.restore(new float[] {1f, 1f}, new float[] {0.5f}, 0, 0);
        TrainingState trained = TrainingState.restore(new float[] {1.3333f, 0.9999f}, new float[] {0.25f}, 3, 0);
        ReplicaResult result = new ReplicaResult(trained, ReplicaStats.NONE).forPartition(1);
        ReplicaResult sent = feedback.contribution(result, start, false);
        assertEquals(1, sent.partition());
        assertNotEquals(trained.parameter(0), sent.state().parameter(0), "a delta of 0.3333 loses bits in float16");
        assertEquals(0.25f, sent.state().optimizerValue(0), "the optimizer state travels as it is");
        assertFalse(feedback.flushed());
        feedback.contribution(result, start, true);
        feedback.outcome(start, trained, true);
        assertTrue(feedback.flushed(), "an exact round leaves no residual");
    }
}
