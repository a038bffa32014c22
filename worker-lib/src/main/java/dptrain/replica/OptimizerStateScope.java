package dptrain.replica;

import java.util.Locale;

/**
 * Where the optimizer state (RMSprop's or Adam's moving averages) lives between averaging rounds:
 * averaged with the parameters every round ({@link #AVERAGED}, the default), or kept by each replica
 * for its own next round while only the parameters are averaged ({@link #LOCAL}, as DiLoCo keeps
 * its inner optimizer's state). Under {@link #LOCAL} an epoch's last round, and a round a
 * checkpoint follows, still average the optimizer state, so that at those points every replica
 * holds one state and a checkpoint needs no replica's own.
 */
public enum OptimizerStateScope {
    /** The optimizer state is averaged with the parameters every round. */
    AVERAGED,
    /** Each replica keeps its own optimizer state between the exact rounds. */
    LOCAL;

    /** The scope named {@code text} (case-insensitive), e.g. "local". */
    public static OptimizerStateScope parse(String text) {
        for (OptimizerStateScope s : values()) {
            if (s.toString().equalsIgnoreCase(text.trim())) {
                return s;
            }
        }
        throw new IllegalArgumentException("expected averaged or local, got '" + text + "'");
    }

    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }
}
