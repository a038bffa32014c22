package dptrain.data;

import dptrain.spec.Normalization;
import java.io.Serializable;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.api.preprocessor.DataNormalization;
import org.nd4j.linalg.dataset.api.preprocessor.NormalizerMinMaxScaler;
import org.nd4j.linalg.dataset.api.preprocessor.NormalizerStandardize;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A fitted normalization, as plain arrays that travel to executors. It applies itself through
 * the very DL4J normalizer that model.zip stores, so training data and a reloaded model see the
 * same numbers.
 */
public final class FeatureNormalizer implements Serializable {
    private static final long serialVersionUID = 1L;

    private final Normalization kind;
    /** Standardize: mean and std. Min-max: min and max. */
    private final float[] first;
    private final float[] second;
    private transient DataNormalization dl4j;

    private FeatureNormalizer(Normalization kind, float[] first, float[] second) {
        this.kind = kind;
        this.first = first;
        this.second = second;
    }

    /**
     * Fits {@code kind} to {@code stats}. A feature that never changes (max = min) gets a min-max
     * range of 1, so it maps to 0 instead of dividing by zero; DL4J already keeps std at least 1e-5.
     */
    public static FeatureNormalizer fit(Normalization kind, FeatureStats stats) {
        if (kind == Normalization.NONE) {
            throw new IllegalArgumentException("nothing to fit for normalization none");
        }
        if (stats.count() == 0) {
            throw new IllegalArgumentException("cannot fit a normalization on no examples");
        }
        if (kind == Normalization.STANDARDIZE) {
            return new FeatureNormalizer(kind, toFloat(stats.mean()), toFloat(stats.std()));
        }
        double[] min = stats.min();
        double[] max = stats.max();
        for (int i = 0; i < max.length; i++) {
            if (!(max[i] > min[i])) {
                max[i] = min[i] + 1;
            }
        }
        return new FeatureNormalizer(kind, toFloat(min), toFloat(max));
    }

    /**
     * The normalization a saved model carries in DL4J's normalizer slot, as written by
     * {@link #toDl4j()}: standardize, or min-max onto [0, 1] of the features only.
     *
     * @throws IllegalArgumentException naming the normalizer when it is of another kind
     */
    public static FeatureNormalizer fromDl4j(Object normalizer) {
        if (normalizer instanceof NormalizerStandardize standardize && !standardize.isFitLabel()) {
            return new FeatureNormalizer(Normalization.STANDARDIZE, floats(standardize.getMean()),
                    floats(standardize.getStd()));
        }
        if (normalizer instanceof NormalizerMinMaxScaler minMax && !minMax.isFitLabel() && minMax.getTargetMin() == 0
                && minMax.getTargetMax() == 1) {
            return new FeatureNormalizer(Normalization.MINMAX, floats(minMax.getMin()), floats(minMax.getMax()));
        }
        throw new IllegalArgumentException("a " + normalizer.getClass().getSimpleName()
                + (normalizer instanceof NormalizerMinMaxScaler || normalizer instanceof NormalizerStandardize
                        ? " that also normalizes labels or maps to a range other than [0, 1]" : "")
                + "; dptrain applies feature standardization or min-max scaling onto [0, 1], as dptrain train saves them");
    }

    private static float[] floats(INDArray values) {
        return values.castTo(DataType.FLOAT).dup('c').data().asFloat();
    }

    /** Number of features the statistics cover. */
    public int featureCount() {
        return first.length;
    }

    public Normalization kind() {
        return kind;
    }

    /** The DL4J normalizer with these statistics, for ModelSerializer's normalizer slot. */
    public DataNormalization toDl4j() {
        if (dl4j == null) {
            INDArray a = Nd4j.createFromArray(first).reshape(1, first.length);
            INDArray b = Nd4j.createFromArray(second).reshape(1, second.length);
            if (kind == Normalization.STANDARDIZE) {
                dl4j = new NormalizerStandardize(a, b);
            } else {
                NormalizerMinMaxScaler minMax = new NormalizerMinMaxScaler(0, 1);
                minMax.setFeatureStats(a, b);
                dl4j = minMax;
            }
        }
        return dl4j;
    }

    /** Normalizes {@code rows × features} row-major values in place. */
    public void apply(float[] values, int rows, int features) {
        INDArray array = Nd4j.create(values, new long[] {rows, features}, 'c');
        toDl4j().transform(array);
        array.castTo(DataType.FLOAT).data().asNioFloat().get(values);
    }

    /** Statistic arrays, for tests and reports: mean/std or min/max. */
    public float[][] statistics() {
        return new float[][] {first.clone(), second.clone()};
    }

    private static float[] toFloat(double[] values) {
        float[] out = new float[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = (float) values[i];
        }
        return out;
    }
}
