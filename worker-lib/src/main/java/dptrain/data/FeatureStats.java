package dptrain.data;

import java.io.Serializable;

/**
 * Per-feature count, mean, variance, minimum and maximum of (scaled) examples, built where the
 * data is and merged in any order (Chan et al.'s parallel update, in doubles). The empty value is
 * tiny, so it can be a task's zero value.
 */
public final class FeatureStats implements Serializable {
    private static final long serialVersionUID = 1L;

    private long count;
    private double[] mean;
    private double[] sumSquaredDeviations;
    private double[] min;
    private double[] max;

    public static FeatureStats empty() {
        return new FeatureStats();
    }

    /** Adds one example's features, each multiplied by {@code scale} first. Returns this. */
    public FeatureStats add(float[] features, float scale) {
        if (mean == null) {
            allocate(features.length);
        }
        count++;
        for (int i = 0; i < features.length; i++) {
            double x = features[i] * scale;
            double delta = x - mean[i];
            mean[i] += delta / count;
            sumSquaredDeviations[i] += delta * (x - mean[i]);
            min[i] = Math.min(min[i], x);
            max[i] = Math.max(max[i], x);
        }
        return this;
    }

    /** Merges {@code other} into this. Returns this. */
    public FeatureStats merge(FeatureStats other) {
        if (other.count == 0) {
            return this;
        }
        if (count == 0) {
            count = other.count;
            mean = other.mean.clone();
            sumSquaredDeviations = other.sumSquaredDeviations.clone();
            min = other.min.clone();
            max = other.max.clone();
            return this;
        }
        long total = count + other.count;
        for (int i = 0; i < mean.length; i++) {
            double delta = other.mean[i] - mean[i];
            sumSquaredDeviations[i] += other.sumSquaredDeviations[i] + delta * delta * count * other.count / total;
            mean[i] += delta * other.count / total;
            min[i] = Math.min(min[i], other.min[i]);
            max[i] = Math.max(max[i], other.max[i]);
        }
        count = total;
        return this;
    }

    private void allocate(int features) {
        mean = new double[features];
        sumSquaredDeviations = new double[features];
        min = new double[features];
        max = new double[features];
        java.util.Arrays.fill(min, Double.POSITIVE_INFINITY);
        java.util.Arrays.fill(max, Double.NEGATIVE_INFINITY);
    }

    public long count() {
        return count;
    }

    public double[] mean() {
        return mean.clone();
    }

    /** Population standard deviation (divided by n, as DL4J's NormalizerStandardize computes it). */
    public double[] std() {
        double[] std = new double[mean.length];
        for (int i = 0; i < std.length; i++) {
            std[i] = Math.sqrt(sumSquaredDeviations[i] / count);
        }
        return std;
    }

    public double[] min() {
        return min.clone();
    }

    public double[] max() {
        return max.clone();
    }
}
