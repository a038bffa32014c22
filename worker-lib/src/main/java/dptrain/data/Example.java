package dptrain.data;

import java.io.Serializable;
import java.util.Arrays;
import java.util.Objects;

/**
 * One example: raw (unscaled) feature values and either an integer class label (classifiers) or real-valued
 * targets, one per output unit (regression; see {@link #regression}). An example decoded from data without labels
 * (predict's {@code --no-label}) carries {@link #UNLABELED} as its label and no targets.
 *
 * <p>A plain final class rather than a record because Kryo cannot set the fields of a record. The feature array is
 * taken over, not copied, and {@link #features()} returns it as is: examples are created by the million while
 * decoding, so callers own the array once they hand it in and must not change it afterwards.
 */
public final class Example implements Serializable {
    private static final long serialVersionUID = 1L;

    /**
     * The label of an example read from data without labels: 0, a class every model has, so batching encodes it
     * like any label. Nothing reads it: such examples are only predicted, and prediction ignores labels.
     */
    public static final int UNLABELED = 0;

    private final float[] features;
    private final int label;
    /** Regression targets; null for a class label or an unlabeled example. */
    private final float[] targets;

    public Example(float[] features, int label) {
        this(features, label, null);
    }

    private Example(float[] features, int label, float[] targets) {
        this.features = Objects.requireNonNull(features, "features");
        this.label = label;
        this.targets = targets;
    }

    /** A regression example: {@code targets} are the real values the model's outputs should reach, taken over. */
    public static Example regression(float[] features, float[] targets) {
        return new Example(features, UNLABELED, Objects.requireNonNull(targets, "targets"));
    }

    /** Java serialization writes {@link SerializedForms.ExampleForm}: each array as one block of bytes. */
    private Object writeReplace() {
        return new SerializedForms.ExampleForm(this);
    }

    /** The real-valued targets of a regression example (the array itself), or null for any other example. */
    public float[] targets() {
        return targets;
    }

    /** The raw feature values; the array itself, not a copy (see the class comment). */
    public float[] features() {
        return features;
    }

    public int label() {
        return label;
    }

    /** An example of data without labels: {@code features} with the placeholder label {@link #UNLABELED}. */
    public static Example unlabeled(float[] features) {
        return new Example(features, UNLABELED);
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof Example that && label == that.label && Arrays.equals(features, that.features)
                && Arrays.equals(targets, that.targets);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * Arrays.hashCode(features) + label) + Arrays.hashCode(targets);
    }

    @Override
    public String toString() {
        StringBuilder text = new StringBuilder("Example{")
                .append(targets == null ? "label=" + label : "targets=" + Arrays.toString(targets))
                .append(", ").append(features.length).append(" features [");
        int shown = Math.min(features.length, 8);
        for (int i = 0; i < shown; i++) {
            text.append(i == 0 ? "" : ", ").append(features[i]);
        }
        return text.append(shown < features.length ? ", ...]}" : "]}").toString();
    }
}
