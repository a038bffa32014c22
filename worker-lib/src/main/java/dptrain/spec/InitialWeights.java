package dptrain.spec;

import java.io.Serializable;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Parameters a network starts training from instead of its initializers: every parameter of the network as one
 * flat array in DL4J's layout (what {@link MultiLayerNetwork#params()} returns), e.g. the weights of a Keras .h5 file.
 * Kept apart from {@link ModelSpec}, which describes the network but never holds weights.
 */
public final class InitialWeights implements Serializable {

    private static final long serialVersionUID = 1L;

    private final float[] values;
    private final String source;

    /**
     * @param values every parameter in DL4J's flat layout; copied
     * @param source where the weights came from, e.g. the .h5 file, for messages and provenance
     */
    public InitialWeights(float[] values, String source) {
        this.values = values.clone();
        this.source = source;
    }

    /** The parameters of an initialized network, copied. */
    public static InitialWeights of(MultiLayerNetwork network, String source) {
        return new InitialWeights(network.params().castTo(org.nd4j.linalg.api.buffer.DataType.FLOAT).toFloatVector(),
                source);
    }

    /** Number of parameters. */
    public long count() {
        return values.length;
    }

    /** A copy of the parameters. */
    public float[] values() {
        return values.clone();
    }

    public String source() {
        return source;
    }

    /**
     * Sets these parameters on an initialized network.
     *
     * @throws IllegalArgumentException if the network has a different number of parameters
     */
    public void applyTo(MultiLayerNetwork network) {
        long expected = network.numParams();
        if (expected != values.length) {
            throw new IllegalArgumentException("The initial weights from " + source + " hold " + values.length
                    + " parameters, but the network has " + expected);
        }
        INDArray flat = Nd4j.create(values, new long[] {1, values.length}, 'c').castTo(network.params().dataType());
        network.setParams(flat);
    }

    @Override
    public String toString() {
        return "InitialWeights(" + values.length + " parameters from " + source + ")";
    }
}
