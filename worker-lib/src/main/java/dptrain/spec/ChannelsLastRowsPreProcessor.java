package dptrain.spec;

import java.util.Arrays;
import org.deeplearning4j.nn.api.MaskState;
import org.deeplearning4j.nn.conf.InputPreProcessor;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.shade.jackson.annotation.JsonCreator;
import org.nd4j.shade.jackson.annotation.JsonProperty;

/**
 * Turns flat rows holding an example in Keras's channels-last order, (height, width, channels) for an image or
 * (timesteps, features) for a sequence, into the channels-first arrays DL4J's layers take: NCHW images or NCW
 * sequences. DL4J's own FeedForwardToCnnPreProcessor reads a flat row as (channels, height, width), which is the
 * same only for one channel, and DL4J has no preprocessor that turns a flat row into a sequence.
 */
public final class ChannelsLastRowsPreProcessor implements InputPreProcessor {

    private static final long serialVersionUID = 1L;

    /** The example's shape without the batch axis, channels last: [height, width, channels] or [timesteps, features]. */
    private final long[] shape;

    @JsonCreator
    public ChannelsLastRowsPreProcessor(@JsonProperty("shape") long[] shape) {
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

    private long flatSize() {
        long size = 1;
        for (long dimension : shape) {
            size *= dimension;
        }
        return size;
    }

    /** The axes that move the channels axis (the last) to position 1. */
    private int[] toChannelsFirst() {
        return shape.length == 3 ? new int[] {0, 3, 1, 2} : new int[] {0, 2, 1};
    }

    private int[] toChannelsLast() {
        return shape.length == 3 ? new int[] {0, 2, 3, 1} : new int[] {0, 2, 1};
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
        INDArray channelsLast = input.dup('c').reshape('c', withBatch);
        return workspaceMgr.dup(ArrayType.ACTIVATIONS, channelsLast.permute(toChannelsFirst()), 'c');
    }

    @Override
    public INDArray backprop(INDArray output, int miniBatchSize, LayerWorkspaceMgr workspaceMgr) {
        INDArray channelsLast = output.permute(toChannelsLast()).dup('c');
        return workspaceMgr.leverageTo(ArrayType.ACTIVATION_GRAD,
                channelsLast.reshape('c', output.size(0), flatSize()));
    }

    @Override
    public InputType getOutputType(InputType inputType) {
        if (inputType.getType() != InputType.Type.FF || inputType.arrayElementsPerExample() != flatSize()) {
            throw new IllegalStateException("expected feed-forward input of " + flatSize() + " values, got "
                    + inputType);
        }
        return shape.length == 3 ? InputType.convolutional(shape[0], shape[1], shape[2])
                : InputType.recurrent(shape[1], shape[0]);
    }

    @Override
    public Pair<INDArray, MaskState> feedForwardMaskArray(INDArray maskArray, MaskState currentMaskState,
                                                          int minibatchSize) {
        return new Pair<>(maskArray, currentMaskState);
    }

    @Override
    public ChannelsLastRowsPreProcessor clone() {
        return new ChannelsLastRowsPreProcessor(shape);
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof ChannelsLastRowsPreProcessor that && Arrays.equals(shape, that.shape);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(shape);
    }

    @Override
    public String toString() {
        return "ChannelsLastRowsPreProcessor(shape=" + Arrays.toString(shape) + ")";
    }
}
