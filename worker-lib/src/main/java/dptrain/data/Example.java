package dptrain.data;

import java.io.Serializable;
import java.util.Arrays;
import java.util.Objects;

/**
 * One example: raw (unscaled) feature values and an integer class label. An example decoded from data without
 * labels (predict's {@code --no-label}) carries {@link #UNLABELED} as its label.
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

    public Example(float[] features, int label) {
        this.features = Objects.requireNonNull(features, "features");
        this.label = label;
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
        return other instanceof Example that && label == that.label && Arrays.equals(features, that.features);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(features) + label;
    }

    @Override
    public String toString() {
        StringBuilder text = new StringBuilder("Example{label=").append(label)
                .append(", ").append(features.length).append(" features [");
        int shown = Math.min(features.length, 8);
        for (int i = 0; i < shown; i++) {
            text.append(i == 0 ? "" : ", ").append(features[i]);
        }
        return text.append(shown < features.length ? ", ...]}" : "]}").toString();
    }
}
