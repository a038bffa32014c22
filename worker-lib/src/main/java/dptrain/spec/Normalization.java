package dptrain.spec;

import java.util.Locale;

/**
 * Per-feature preprocessing fitted on the training split only, applied to training, validation and
 * test data, and stored in model.zip (DL4J's normalizer slot) so that the saved model applies it.
 */
public enum Normalization {
    /** Features as read (after --scale). */
    NONE,
    /** {@code (x - mean) / std} per feature: DL4J's NormalizerStandardize. */
    STANDARDIZE,
    /** {@code (x - min) / (max - min)} per feature, into [0, 1]: DL4J's NormalizerMinMaxScaler. */
    MINMAX;

    /** The name used in specs and on the command line. */
    public String specName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
