package dptrain.spec;

import java.util.Objects;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.lossfunctions.ILossFunction;
import org.nd4j.linalg.lossfunctions.LossUtil;
import org.nd4j.linalg.ops.transforms.Transforms;
import org.nd4j.common.primitives.Pair;
import org.nd4j.shade.jackson.annotation.JsonCreator;
import org.nd4j.shade.jackson.annotation.JsonProperty;

/**
 * Keras's {@code huber} loss, which DL4J does not have: per target value, with the error {@code r = output - label},
 * {@code 0.5 r²} where {@code |r| <= delta} and {@code delta (|r| - 0.5 delta)} beyond, averaged over the output units
 * as Keras averages over the last axis (DL4J's LossMSE does the same). Quadratic near the answer like mse, linear far
 * from it like mae, so a few outliers pull less.
 *
 * <p>Serialized into the network's configuration JSON by class name, like DL4J's own losses, so executors rebuild it
 * from the broadcast configuration.
 */
public final class LossHuber implements ILossFunction {
    private static final long serialVersionUID = 1L;

    /** Keras's default {@code delta}. */
    public static final double DEFAULT_DELTA = 1.0;

    private final double delta;

    public LossHuber() {
        this(DEFAULT_DELTA);
    }

    @JsonCreator
    public LossHuber(@JsonProperty("delta") double delta) {
        if (!(delta > 0) || !Double.isFinite(delta)) {
            throw new IllegalArgumentException("huber delta " + delta + " is not allowed; expected a number > 0");
        }
        this.delta = delta;
    }

    public double getDelta() {
        return delta;
    }

    /** Per-value losses, rows × outputs, before averaging over the outputs. */
    private INDArray scoreArray(INDArray labels, INDArray preOutput, IActivation activationFn, INDArray mask) {
        checkShapes(labels, preOutput);
        INDArray output = activationFn.getActivation(preOutput.dup(), true);
        INDArray absError = Transforms.abs(output.subi(labels.castTo(preOutput.dataType())), false);
        INDArray quadratic = Transforms.min(absError, delta, true);
        INDArray linear = absError.subi(quadratic);
        INDArray score = quadratic.muli(quadratic).muli(0.5).addi(linear.muli(delta));
        if (mask != null) {
            LossUtil.applyMask(score, mask);
        }
        return score;
    }

    @Override
    public double computeScore(INDArray labels, INDArray preOutput, IActivation activationFn, INDArray mask,
            boolean average) {
        INDArray score = scoreArray(labels, preOutput, activationFn, mask);
        double sum = score.sumNumber().doubleValue() / score.size(1);
        return average ? sum / score.size(0) : sum;
    }

    @Override
    public INDArray computeScoreArray(INDArray labels, INDArray preOutput, IActivation activationFn, INDArray mask) {
        INDArray score = scoreArray(labels, preOutput, activationFn, mask);
        return score.sum(true, 1).divi(score.size(1));
    }

    @Override
    public INDArray computeGradient(INDArray labels, INDArray preOutput, IActivation activationFn, INDArray mask) {
        checkShapes(labels, preOutput);
        INDArray output = activationFn.getActivation(preOutput.dup(), true);
        INDArray error = output.subi(labels.castTo(preOutput.dataType()));
        // d/dr of the loss: r inside [-delta, delta], ±delta beyond; then the mean over the outputs.
        INDArray dLda = Transforms.max(Transforms.min(error, delta, false), -delta, false).divi(error.size(1));
        if (mask != null && LossUtil.isPerOutputMasking(dLda, mask)) {
            LossUtil.applyMask(dLda, mask);
        }
        INDArray gradient = activationFn.backprop(preOutput, dLda).getFirst();
        if (mask != null) {
            LossUtil.applyMask(gradient, mask);
        }
        return gradient;
    }

    @Override
    public Pair<Double, INDArray> computeGradientAndScore(INDArray labels, INDArray preOutput,
            IActivation activationFn, INDArray mask, boolean average) {
        return new Pair<>(computeScore(labels, preOutput, activationFn, mask, average),
                computeGradient(labels, preOutput, activationFn, mask));
    }

    private static void checkShapes(INDArray labels, INDArray preOutput) {
        if (!labels.equalShapes(preOutput)) {
            throw new IllegalArgumentException("labels and outputs must have the same shape: got "
                    + labels.shapeInfoToString() + " and " + preOutput.shapeInfoToString());
        }
    }

    @Override
    public String name() {
        return toString();
    }

    @Override
    public String toString() {
        return "LossHuber(delta=" + delta + ")";
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof LossHuber that && Double.compare(delta, that.delta) == 0;
    }

    @Override
    public int hashCode() {
        return Objects.hash(delta);
    }
}
