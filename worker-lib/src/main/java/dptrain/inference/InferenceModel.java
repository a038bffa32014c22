package dptrain.inference;

import dptrain.spec.ModelSpec;
import dptrain.spec.TargetEncoding;
import java.io.Serializable;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A trained network as it travels to executors, broadcast once per command: its configuration as
 * DL4J JSON and its parameters as one flat float array in DL4J's layout. No optimizer state: it
 * only predicts.
 */
public final class InferenceModel implements Serializable {
    private static final long serialVersionUID = 1L;

    private final String configurationJson;
    private final float[] parameters;
    private final int outputSize;
    private final TargetEncoding encoding;

    private InferenceModel(String configurationJson, float[] parameters, int outputSize, TargetEncoding encoding) {
        this.configurationJson = configurationJson;
        this.parameters = parameters;
        this.outputSize = outputSize;
        this.encoding = encoding;
    }

    /** Copies the parameters of {@code net}, whose configuration {@code spec} describes. */
    public static InferenceModel of(MultiLayerNetwork net, ModelSpec spec) {
        return new InferenceModel(spec.configurationJson(), net.params().castTo(DataType.FLOAT).dup().data().asFloat(),
                spec.outputSize(), spec.targetEncoding());
    }

    /** A new network holding these parameters; each task builds its own (DL4J networks are not thread-safe). */
    public MultiLayerNetwork network() {
        MultiLayerNetwork net = new MultiLayerNetwork(MultiLayerConfiguration.fromJson(configurationJson));
        net.init(Nd4j.createFromArray(parameters).reshape(1, parameters.length), false);
        return net;
    }

    /** Units of the output layer. */
    public int outputSize() {
        return outputSize;
    }

    /**
     * Classes the model tells apart: its output units, or 2 for a single thresholded unit; 0 for a regression.
     */
    public int classes() {
        if (encoding.isRegression()) {
            return 0;
        }
        return encoding == TargetEncoding.SCALAR ? 2 : outputSize;
    }

    public TargetEncoding encoding() {
        return encoding;
    }

    public int parameterCount() {
        return parameters.length;
    }
}
