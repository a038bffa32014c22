package dptrain.replica;

import java.io.Serializable;

/**
 * The arithmetic of block momentum (BMUF, Chen and Huo 2016) on averaged parameters, per value, so
 * that the driver can run it on a whole state and each replica on its own chunk with the same bits:
 * <pre>
 *   Δ   = momentum · Δ + blockLearningRate · (W̄ - W_g)
 *   W_g = W_g + Δ
 *   next round starts from W_g, or W_g + momentum · Δ (Nesterov)
 * </pre>
 * Its settings are validated where they are declared ({@code dptrain.driver.rounds.BlockMomentum}).
 */
public record MomentumFilter(double momentum, double blockLearningRate, boolean nesterov) implements Serializable {

    /** The filter's new {@code W_g} and {@code Δ}; {@code averaged} now holds where the next round starts. */
    public record Advanced(float[] global, float[] delta) {
    }

    /**
     * One round of the filter, in one pass on all cores: takes {@code averaged} over and overwrites
     * it with the next round's starting point.
     */
    public Advanced advance(float[] oldGlobal, float[] oldDelta, float[] averaged) {
        if (averaged.length != oldGlobal.length || oldDelta.length != oldGlobal.length) {
            throw new IllegalArgumentException("expected " + oldGlobal.length + " averaged parameters and deltas, got "
                    + averaged.length + " and " + oldDelta.length);
        }
        float[] global = new float[oldGlobal.length];
        float[] delta = new float[oldGlobal.length];
        float mu = (float) momentum;
        float zeta = (float) blockLearningRate;
        ParallelLoops.forRange(global.length, (from, to) -> {
            for (int i = from; i < to; i++) {
                float d = mu * oldDelta[i] + zeta * (averaged[i] - oldGlobal[i]);
                float g = oldGlobal[i] + d;
                delta[i] = d;
                global[i] = g;
                averaged[i] = nesterov ? g + mu * d : g;
            }
        });
        return new Advanced(global, delta);
    }
}
