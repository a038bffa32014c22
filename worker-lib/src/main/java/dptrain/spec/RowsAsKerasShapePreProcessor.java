package dptrain.spec;

import java.util.Arrays;
import org.deeplearning4j.nn.api.MaskState;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.InputPreProcessor;
import org.deeplearning4j.nn.conf.RNNFormat;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.shade.jackson.annotation.JsonCreator;
import org.nd4j.shade.jackson.annotation.JsonProperty;

/**
 * Reshapes flat rows to Keras's input shape with its axes kept in Keras's order: (height, width, channels) images for
 * NHWC layers, (timesteps, features) sequences for NWC layers. These are the layouts DL4J's Keras import gives the
 * layers of a Keras model file, so the imported weights apply unchanged; dptrain feeds every example as a flat row,
 * and DL4J has no preprocessor that turns a row into an NHWC image or an NWC sequence.
 */
public final class RowsAsKerasShapePreProcessor implements InputPreProcessor {

    private static final long serialVersionUID = 1L;

    /** The example's shape without the batch axis, as Keras writes it: [height, width, channels] or [timesteps, features]. */
    private final long[] shape;

    @JsonCreator
    public RowsAsKerasShapePreProcessor(@JsonProperty("shape") long[] shape) {
        if (shape == null || shape.length < 2 || shape.length > 3) {
            throw new IllegalArgumentException("expected [height, width, channels] or [timesteps, features], got "
                    + Arrays.toString(shape));
        }
        this.shape = shape.clone();
    }

    @JsonProperty("shape")
    public long[] getShape() {
        return shape.clone();
    }

    long flatSize() {
        long size = 1;
        for (long dimension : shape) {
            size *= dimension;
        }
        return size;
    }

    @Override
    public INDArray preProcess(INDArray input, int miniBatchSize, LayerWorkspaceMgr workspaceMgr) {
        if (input.rank() != 2 || input.size(1) != flatSize()) {
            throw new IllegalArgumentException("expected rows of " + flatSize() + " values (" + Arrays.toString(shape)
                    + " flattened), got an array of shape " + Arrays.toString(input.shape()));
        }
        long[] withBatch = new long[shape.length + 1];
        withBatch[0] = input.size(0);
        System.arraycopy(shape, 0, withBatch, 1, shape.length);
        return workspaceMgr.dup(ArrayType.ACTIVATIONS, input.dup('c').reshape('c', withBatch), 'c');
    }

    @Override
    public INDArray backprop(INDArray output, int miniBatchSize, LayerWorkspaceMgr workspaceMgr) {
        return workspaceMgr.leverageTo(ArrayType.ACTIVATION_GRAD,
                output.dup('c').reshape('c', output.size(0), flatSize()));
    }

    @Override
    public InputType getOutputType(InputType inputType) {
        if (inputType.getType() != InputType.Type.FF || inputType.arrayElementsPerExample() != flatSize()) {
            throw new IllegalStateException("expected feed-forward input of " + flatSize() + " values, got "
                    + inputType);
        }
        return shape.length == 3 ? InputType.convolutional(shape[0], shape[1], shape[2], CNN2DFormat.NHWC)
                : InputType.recurrent(shape[1], shape[0], RNNFormat.NWC);
    }

    @Override
    public Pair<INDArray, MaskState> feedForwardMaskArray(INDArray maskArray, MaskState currentMaskState,
                                                          int minibatchSize) {
        return new Pair<>(maskArray, currentMaskState);
    }

    @Override
    public RowsAsKerasShapePreProcessor clone() {
        return new RowsAsKerasShapePreProcessor(shape);
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof RowsAsKerasShapePreProcessor that && Arrays.equals(shape, that.shape);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(shape);
    }

    @Override
    public String toString() {
        return "RowsAsKerasShapePreProcessor(shape=" + Arrays.toString(shape) + ")";
    }
}
