package dptrain.driver.export;

import dptrain.driver.files.InputException;
import dptrain.driver.inference.SavedModel;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.deeplearning4j.nn.conf.InputPreProcessor;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.DropoutLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationELU;
import org.nd4j.linalg.activations.impl.ActivationHardSigmoid;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.activations.impl.ActivationLReLU;
import org.nd4j.linalg.activations.impl.ActivationMish;
import org.nd4j.linalg.activations.impl.ActivationReLU;
import org.nd4j.linalg.activations.impl.ActivationReLU6;
import org.nd4j.linalg.activations.impl.ActivationSELU;
import org.nd4j.linalg.activations.impl.ActivationSigmoid;
import org.nd4j.linalg.activations.impl.ActivationSoftPlus;
import org.nd4j.linalg.activations.impl.ActivationSoftSign;
import org.nd4j.linalg.activations.impl.ActivationSoftmax;
import org.nd4j.linalg.activations.impl.ActivationSwish;
import org.nd4j.linalg.activations.impl.ActivationTanH;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A DL4J MultiLayerNetwork's layers as ONNX nodes, in order, with their trained parameters as
 * initializers. A layer or preprocessor without an ONNX form here is refused, naming it.
 */
final class NetworkTranslation {
    /** What the refusal says is covered, so the user knows what would export. */
    static final String COVERED = "dptrain exports dense (DenseLayer, OutputLayer), dropout and activation layers";

    private final SavedModel saved;
    private final OnnxGraph graph;
    private final List<String> steps = new ArrayList<>();
    private String value;

    private NetworkTranslation(SavedModel saved, OnnxGraph graph, String input) {
        this.saved = saved;
        this.graph = graph;
        this.value = input;
    }

    /** Adds {@code saved}'s layers to {@code graph}, applied to the value named {@code input}. */
    static NetworkTranslation translate(SavedModel saved, OnnxGraph graph, String input) {
        NetworkTranslation translation = new NetworkTranslation(saved, graph, input);
        MultiLayerConfiguration conf = saved.network().getLayerWiseConfigurations();
        for (int i = 0; i < conf.getConfs().size(); i++) {
            translation.layer(i, conf.getConf(i).getLayer(), conf.getInputPreProcess(i));
        }
        return translation;
    }

    /** The name of the network's output value. */
    String output() {
        return value;
    }

    List<String> steps() {
        return steps;
    }

    private void layer(int index, Layer layer, InputPreProcessor preProcessor) {
        if (preProcessor != null) {
            throw refused(index, layer, "its input preprocessor " + preProcessor.getClass().getSimpleName()
                    + " has no ONNX form here");
        }
        if (layer instanceof DropoutLayer) {
            // Dropout only acts in training; at inference the layer passes its input on.
            steps.add("layer " + index + ": dropout, left out at inference");
        } else if (layer instanceof ActivationLayer activation) {
            value = activation(index, layer, value, activation.getActivationFn());
            steps.add("layer " + index + ": " + activationName(activation.getActivationFn()));
        } else if (layer instanceof DenseLayer || layer.getClass() == OutputLayer.class) {
            dense(index, layer);
        } else {
            throw refused(index, layer, "it has no ONNX form here");
        }
    }

    /** DL4J's dense layers compute activation(x · W + b), W of shape [inputs, units]. */
    private void dense(int index, Layer layer) {
        MultiLayerNetwork network = saved.network();
        INDArray weights = network.getLayer(index).getParam("W");
        INDArray bias = network.getLayer(index).paramTable().get("b");
        long[] shape = weights.shape();
        String w = graph.constant("W" + index, floats(weights), shape[0], shape[1]);
        List<String> inputs = new ArrayList<>(List.of(value, w));
        if (bias != null) {
            inputs.add(graph.constant("b" + index, floats(bias), shape[1]));
        }
        String z = graph.node(bias != null ? "Gemm" : "MatMul", inputs);
        IActivation activation = ((org.deeplearning4j.nn.conf.layers.BaseLayer) layer).getActivationFn();
        value = activation(index, layer, z, activation);
        steps.add(String.format(Locale.ROOT, "layer %d: dense %d -> %d, %s", index, shape[0], shape[1],
                activationName(activation)));
    }

    /** The nodes of {@code fn} applied to {@code x}; returns the result's name. */
    private String activation(int index, Layer layer, String x, IActivation fn) {
        if (fn instanceof ActivationIdentity) {
            return x;
        } else if (fn instanceof ActivationReLU relu) {
            boolean plain = relu.getMax() == null && zeroOrNull(relu.getThreshold()) && zeroOrNull(relu.getNegativeSlope());
            if (!plain) {
                throw refused(index, layer, "its relu has a maximum, threshold or negative slope");
            }
            return graph.node("Relu", List.of(x));
        } else if (fn instanceof ActivationReLU6) {
            return graph.node("Clip", List.of(x, graph.constant("zero", new float[] {0f}),
                    graph.constant("six", new float[] {6f})));
        } else if (fn instanceof ActivationSigmoid) {
            return graph.node("Sigmoid", List.of(x));
        } else if (fn instanceof ActivationTanH) {
            return graph.node("Tanh", List.of(x));
        } else if (fn instanceof ActivationSoftmax) {
            return graph.node("Softmax", List.of(x), OnnxGraph.intAttribute("axis", -1));
        } else if (fn instanceof ActivationELU elu) {
            return graph.node("Elu", List.of(x), OnnxGraph.floatAttribute("alpha", (float) elu.getAlpha()));
        } else if (fn instanceof ActivationSELU) {
            return graph.node("Selu", List.of(x));
        } else if (fn instanceof ActivationSoftPlus) {
            return graph.node("Softplus", List.of(x));
        } else if (fn instanceof ActivationSoftSign) {
            return graph.node("Softsign", List.of(x));
        } else if (fn instanceof ActivationLReLU leaky) {
            return graph.node("LeakyRelu", List.of(x), OnnxGraph.floatAttribute("alpha", (float) leaky.getAlpha()));
        } else if (fn instanceof ActivationHardSigmoid) {
            // DL4J's hard sigmoid is min(1, max(0, 0.2 x + 0.5)), ONNX's defaults.
            return graph.node("HardSigmoid", List.of(x));
        } else if (fn instanceof ActivationSwish) {
            return graph.node("Mul", List.of(x, graph.node("Sigmoid", List.of(x))));
        } else if (fn instanceof ActivationMish) {
            return graph.node("Mul", List.of(x, graph.node("Tanh", List.of(graph.node("Softplus", List.of(x))))));
        }
        throw refused(index, layer, "its activation " + fn + " has no ONNX form here");
    }

    private static boolean zeroOrNull(Double value) {
        return value == null || value == 0.0;
    }

    private static String activationName(IActivation fn) {
        return fn.toString().toLowerCase(Locale.ROOT);
    }

    InputException refused(int index, Layer layer, String why) {
        String name = layer.getLayerName() == null ? "unnamed" : "'" + layer.getLayerName() + "'";
        return new InputException(saved.uri() + ": layer " + index + " (" + name + ", DL4J "
                + layer.getClass().getSimpleName() + ") cannot be exported to ONNX: " + why + "; " + COVERED
                + "; nothing was written");
    }

    static float[] floats(INDArray values) {
        return values.castTo(DataType.FLOAT).dup('c').data().asFloat();
    }
}
