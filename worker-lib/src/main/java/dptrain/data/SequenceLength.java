package dptrain.data;

import java.io.Serializable;
import java.util.Locale;

/**
 * How sequences of another length than input_shape's timesteps are fitted to it, with the semantics of Keras's
 * {@code pad_sequences}: {@code padding} adds steps of zeros before ({@code PRE}) or after ({@code POST}) a shorter
 * sequence, {@code truncating} drops the steps at the start ({@code PRE}) or the end ({@code POST}) of a longer one.
 * {@code NONE} refuses such a sequence, naming the record.
 *
 * @param padding    what happens to a shorter sequence
 * @param truncating what happens to a longer sequence
 */
public record SequenceLength(Side padding, Side truncating) implements Serializable {

    /** Every sequence must have exactly input_shape's timesteps: the default. */
    public static final SequenceLength EXACT = new SequenceLength(Side.NONE, Side.NONE);

    /** Where steps are added or dropped. */
    public enum Side {
        NONE, PRE, POST;

        /** The name Keras and dptrain's flags use: none, pre, post. */
        public String cliName() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    public SequenceLength {
        if (padding == null || truncating == null) {
            throw new IllegalArgumentException("padding and truncating must be given; Side.NONE for none");
        }
    }

    /**
     * {@code values} (steps of {@code stepSize} values one after another) fitted to {@code timesteps} steps, or
     * null when its length is not allowed: the caller names the record.
     */
    public float[] fit(float[] values, int timesteps, int stepSize) {
        int steps = values.length / stepSize;
        if (steps == timesteps) {
            return values;
        }
        Side side = steps < timesteps ? padding : truncating;
        if (side == Side.NONE) {
            return null;
        }
        float[] fitted = new float[timesteps * stepSize];
        if (steps < timesteps) {
            int offset = side == Side.PRE ? (timesteps - steps) * stepSize : 0;
            System.arraycopy(values, 0, fitted, offset, values.length);
        } else {
            int from = side == Side.PRE ? (steps - timesteps) * stepSize : 0;
            System.arraycopy(values, from, fitted, 0, fitted.length);
        }
        return fitted;
    }
}
