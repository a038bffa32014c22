package dptrain.data;

import java.io.Serializable;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A minibatch built once from a partition's examples and reused every epoch: features already
 * scaled, targets already encoded, as flat row-major float arrays (cheap to cache and to turn
 * into ND4J arrays; slicing an INDArray per minibatch cost 20-29 ms, a flat copy about 2 ms).
 */
public final class Minibatch implements Serializable {
    private static final long serialVersionUID = 1L;

    private final float[] features;
    private final float[] targets;
    private final int[] labels;
    private final int featureCount;
    private final int targetCount;

    Minibatch(float[] features, float[] targets, int[] labels, int featureCount, int targetCount) {
        this.features = features;
        this.targets = targets;
        this.labels = labels;
        this.featureCount = featureCount;
        this.targetCount = targetCount;
    }

    /** Java serialization writes {@link SerializedForms.MinibatchForm}: each array as one block of bytes. */
    private Object writeReplace() {
        return new SerializedForms.MinibatchForm(this);
    }

    void writeTo(java.io.ObjectOutput out) throws java.io.IOException {
        out.writeInt(featureCount);
        out.writeInt(targetCount);
        SerializedForms.writeFloats(out, features);
        SerializedForms.writeFloats(out, targets);
        SerializedForms.writeInts(out, labels);
    }

    static Minibatch readFrom(java.io.ObjectInput in) throws java.io.IOException {
        int featureCount = in.readInt();
        int targetCount = in.readInt();
        return new Minibatch(SerializedForms.readFloats(in), SerializedForms.readFloats(in), SerializedForms.readInts(in),
                featureCount, targetCount);
    }

    public int rows() {
        return labels.length;
    }

    public int featureCount() {
        return featureCount;
    }

    public int targetCount() {
        return targetCount;
    }

    /** The integer class label of row {@code row}, as read from the data. */
    public int label(int row) {
        return labels[row];
    }

    /** The encoded target of row {@code row}, column {@code column}: a regression target, or one-hot's 0 or 1. */
    public float target(int row, int column) {
        return targets[row * targetCount + column];
    }

    /** A new {@code rows × featureCount} array holding the scaled features. */
    public INDArray featuresArray() {
        return Nd4j.create(features, new long[] {rows(), featureCount}, 'c');
    }

    /**
     * Writes the features into {@code target}, a float {@code rows × featureCount} array in c order
     * that owns its buffer: a bulk copy into native memory that a replica reuses every step.
     */
    public void copyFeaturesInto(INDArray target) {
        checkTarget(target, featureCount);
        target.data().asNioFloat().put(features);
    }

    /** Writes the encoded targets into {@code target}, like {@link #copyFeaturesInto}. */
    public void copyTargetsInto(INDArray target) {
        checkTarget(target, targetCount);
        target.data().asNioFloat().put(targets);
    }

    private void checkTarget(INDArray target, int columns) {
        if (target.rows() != rows() || target.columns() != columns || target.ordering() != 'c' || target.isView()
                || target.dataType() != DataType.FLOAT) {
            throw new IllegalArgumentException("expected a float " + rows() + "×" + columns + " c-order array, got "
                    + target.shapeInfoToString());
        }
    }

    /** A new {@code rows × targetCount} array holding the encoded targets. */
    public INDArray targetsArray() {
        return Nd4j.create(targets, new long[] {rows(), targetCount}, 'c');
    }
}
