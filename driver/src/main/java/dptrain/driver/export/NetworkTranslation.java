package dptrain.driver.export;

import dptrain.driver.files.InputException;
import dptrain.driver.inference.SavedModel;
import dptrain.spec.ChannelsLastRowsPreProcessor;
import dptrain.spec.RowsAsKerasShapePreProcessor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import onnx.Onnx.TensorProto;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.InputPreProcessor;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.RNNFormat;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.DropoutLayer;
import org.deeplearning4j.nn.conf.layers.EmbeddingSequenceLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.LSTM;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.conf.layers.recurrent.LastTimeStep;
import org.deeplearning4j.nn.conf.layers.recurrent.SimpleRnn;
import org.deeplearning4j.nn.conf.preprocessor.CnnToFeedForwardPreProcessor;
import org.deeplearning4j.nn.conf.preprocessor.FeedForwardToCnnPreProcessor;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A DL4J MultiLayerNetwork's layers as ONNX nodes, in order, with their trained parameters as
 * initializers. dptrain feeds every example as a flat row, and the network's preprocessors reshape
 * it; the translation follows the value's physical layout (flat, an image channels first or last,
 * a sequence steps first or last) and transposes only where an ONNX operator needs another one.
 * A layer, preprocessor or setting without an ONNX form here is refused, naming the layer.
 */
final class NetworkTranslation {
    /** What the refusal says is covered, so the user knows what would export. */
    static final String COVERED = "dptrain exports dense, dropout, activation, conv2d, max and average pooling, "
            + "global pooling, batch normalization, flatten, embedding, lstm and simple_rnn layers";

    /** How the value's axes are laid out after the batch axis. */
    private enum Layout { FLAT, NCHW, NHWC, NCW, NWC }

    private final SavedModel saved;
    private final OnnxGraph graph;
    private final List<InputType> outputTypes;
    private final List<String> steps = new ArrayList<>();
    private String value;
    private Layout layout = Layout.FLAT;
    private int index;
    private Layer layer;

    private NetworkTranslation(SavedModel saved, OnnxGraph graph, String input) {
        this.saved = saved;
        this.graph = graph;
        this.value = input;
        this.outputTypes = saved.network().getLayerWiseConfigurations()
                .getLayerActivationTypes(InputType.feedForward(saved.spec().inputSize()));
    }

    /** Adds {@code saved}'s layers to {@code graph}, applied to the value named {@code input}. */
    static NetworkTranslation translate(SavedModel saved, OnnxGraph graph, String input) {
        NetworkTranslation translation = new NetworkTranslation(saved, graph, input);
        MultiLayerConfiguration conf = saved.network().getLayerWiseConfigurations();
        for (int i = 0; i < conf.getConfs().size(); i++) {
            translation.index = i;
            translation.layer = conf.getConf(i).getLayer();
            translation.preProcessor(conf.getInputPreProcess(i));
            translation.layer();
        }
        if (translation.layout != Layout.FLAT) {
            throw translation.refused("its output is not one row per example");
        }
        return translation;
    }

    /** The name of the network's output value, [N, outputs]. */
    String output() {
        return value;
    }

    List<String> steps() {
        return steps;
    }

    private void preProcessor(InputPreProcessor pre) {
        if (pre == null) {
            return;
        }
        if (pre instanceof FeedForwardToCnnPreProcessor toCnn && layout == Layout.FLAT) {
            // DL4J reads a flat row as (channels, height, width).
            reshape(Layout.NCHW, toCnn.getNumChannels(), toCnn.getInputHeight(), toCnn.getInputWidth());
        } else if ((pre instanceof ChannelsLastRowsPreProcessor || pre instanceof RowsAsKerasShapePreProcessor)
                && layout == Layout.FLAT) {
            // Both read a flat row in Keras's channels-last order; they differ only in what layout DL4J's layers
            // then take, which each layer below reads from its own configuration.
            long[] shape = pre instanceof ChannelsLastRowsPreProcessor c ? c.getShape()
                    : ((RowsAsKerasShapePreProcessor) pre).getShape();
            reshape(shape.length == 3 ? Layout.NHWC : Layout.NWC, shape);
        } else if (pre instanceof CnnToFeedForwardPreProcessor flatten && isImage()) {
            // DL4J flattens in the order of the format it names: channels first or last.
            toLayout(flatten.getFormat() == CNN2DFormat.NHWC ? Layout.NHWC : Layout.NCHW);
            reshape(Layout.FLAT, flatten.getInputHeight() * flatten.getInputWidth() * flatten.getNumChannels());
            step("flatten, channels " + (flatten.getFormat() == CNN2DFormat.NHWC ? "last" : "first"));
        } else {
            throw refused("its input preprocessor " + pre.getClass().getSimpleName() + " has no ONNX form here");
        }
    }

    private void layer() {
        if (layer instanceof DropoutLayer) {
            // Dropout only acts in training; at inference the layer passes its input on.
            step("dropout, left out at inference");
        } else if (layer instanceof ActivationLayer activation) {
            activate(activation.getActivationFn());
            step(Activations.name(activation.getActivationFn()));
        } else if (layer.getClass() == DenseLayer.class || layer.getClass() == OutputLayer.class) {
            dense();
        } else if (layer.getClass() == ConvolutionLayer.class) {
            convolution((ConvolutionLayer) layer);
        } else if (layer.getClass() == SubsamplingLayer.class) {
            pooling((SubsamplingLayer) layer);
        } else if (layer.getClass() == GlobalPoolingLayer.class) {
            globalPooling((GlobalPoolingLayer) layer);
        } else if (layer.getClass() == BatchNormalization.class) {
            batchNormalization((BatchNormalization) layer);
        } else if (layer.getClass() == EmbeddingSequenceLayer.class) {
            embedding((EmbeddingSequenceLayer) layer);
        } else if (layer.getClass() == LastTimeStep.class || layer.getClass() == LSTM.class
                || layer.getClass() == SimpleRnn.class) {
            recurrent();
        } else {
            throw refused("it has no ONNX form here");
        }
    }

    /** DL4J's dense layers compute activation(x · W + b), W of shape [inputs, units]. */
    private void dense() {
        require(layout == Layout.FLAT, "it takes one row per example, but its input is an image or a sequence");
        INDArray weights = param("W");
        INDArray bias = params().get("b");
        long[] shape = weights.shape();
        List<String> inputs = new ArrayList<>(List.of(value, graph.constant("W" + index, floats(weights), shape[0],
                shape[1])));
        if (bias != null) {
            inputs.add(graph.constant("b" + index, floats(bias), shape[1]));
        }
        value = graph.node(bias != null ? "Gemm" : "MatMul", inputs);
        IActivation activation = ((BaseLayer) layer).getActivationFn();
        activate(activation);
        step(String.format(Locale.ROOT, "dense %d -> %d, %s", shape[0], shape[1], Activations.name(activation)));
    }

    private void convolution(ConvolutionLayer conv) {
        require(isImage(), "it takes images, but its input is not one");
        require(Arrays.stream(conv.getDilation()).allMatch(d -> d >= 1), "its dilation is not positive");
        toLayout(Layout.NCHW);
        INDArray weights = param("W");
        List<String> inputs = new ArrayList<>(List.of(value, graph.constant("W" + index, floats(weights),
                weights.shape())));
        if (conv.hasBias()) {
            inputs.add(graph.constant("b" + index, floats(param("b")), weights.shape()[0]));
        }
        value = graph.node("Conv", inputs, windowAttributes(conv.getKernelSize(), conv.getStride(), conv.getPadding(),
                conv.getConvolutionMode(), OnnxGraph.intsAttribute("dilations", longs(conv.getDilation()))));
        activate(conv.getActivationFn());
        step(String.format(Locale.ROOT, "conv2d %d filters %s, %s", weights.shape()[0],
                Arrays.toString(conv.getKernelSize()), Activations.name(conv.getActivationFn())));
    }

    private void pooling(SubsamplingLayer pool) {
        require(isImage(), "it takes images, but its input is not one");
        require(Arrays.stream(pool.getDilation()).allMatch(d -> d == 1), "its dilation is not 1");
        require(pool.getPoolingType() == PoolingType.MAX || pool.getPoolingType() == PoolingType.AVG,
                "its pooling type " + pool.getPoolingType() + " has no ONNX form here; max and average do");
        toLayout(Layout.NCHW);
        boolean max = pool.getPoolingType() == PoolingType.MAX;
        var window = windowAttributes(pool.getKernelSize(), pool.getStride(), pool.getPadding(),
                pool.getConvolutionMode(), OnnxGraph.intAttribute("count_include_pad",
                        !max && pool.isAvgPoolIncludePadInDivisor() ? 1 : 0));
        if (max) {
            // count_include_pad is AveragePool's only; MaxPool ignores padding by definition.
            window = Arrays.copyOf(window, window.length - 1);
        }
        value = graph.node(max ? "MaxPool" : "AveragePool", List.of(value), window);
        step((max ? "max" : "average") + " pooling " + Arrays.toString(pool.getKernelSize()));
    }

    private void globalPooling(GlobalPoolingLayer pool) {
        require(isImage(), "its input is not an image; dptrain exports global pooling of images");
        require(pool.isCollapseDimensions(), "it keeps the pooled dimensions");
        require(pool.getPoolingType() == PoolingType.MAX || pool.getPoolingType() == PoolingType.AVG,
                "its pooling type " + pool.getPoolingType() + " has no ONNX form here; max and average do");
        toLayout(Layout.NCHW);
        boolean max = pool.getPoolingType() == PoolingType.MAX;
        value = graph.node(max ? "GlobalMaxPool" : "GlobalAveragePool", List.of(value));
        reshape(Layout.FLAT, ((InputType.InputTypeFeedForward) outputTypes.get(index)).getSize());
        step("global " + (max ? "max" : "average") + " pooling");
    }

    /** Inference batch normalization: (x - mean) / sqrt(var + eps) * gamma + beta, per channel or feature. */
    private void batchNormalization(BatchNormalization bn) {
        Layout channelsAt1 = layout == Layout.FLAT ? Layout.FLAT : Layout.NCHW;
        require(layout == Layout.FLAT || isImage(), "its input is a sequence");
        toLayout(channelsAt1);
        Map<String, INDArray> params = params();
        float[] mean = floats(param("mean"));
        float[] variance;
        if (params.containsKey("var")) {
            variance = floats(param("var"));
        } else {
            float[] log10Std = floats(param("log10stdev"));
            variance = new float[log10Std.length];
            for (int i = 0; i < variance.length; i++) {
                double std = Math.pow(10, log10Std[i]);
                variance[i] = (float) (std * std);
            }
        }
        int channels = mean.length;
        float[] gamma = bn.isLockGammaBeta() ? filled(channels, bn.getGamma()) : floats(param("gamma"));
        float[] beta = bn.isLockGammaBeta() ? filled(channels, bn.getBeta()) : floats(param("beta"));
        value = graph.node("BatchNormalization", List.of(value, graph.constant("gamma" + index, gamma, channels),
                graph.constant("beta" + index, beta, channels), graph.constant("mean" + index, mean, channels),
                graph.constant("var" + index, variance, channels)),
                OnnxGraph.floatAttribute("epsilon", (float) bn.getEps()));
        // DL4J's batch normalization layer applies no activation at inference, whatever its configuration names.
        step("batch normalization of " + channels + (layout == Layout.FLAT ? " features" : " channels"));
    }

    /** Token ids (the row's values, whole numbers) to their vectors: Gather from the [vocabulary, units] table. */
    private void embedding(EmbeddingSequenceLayer embedding) {
        require(layout == Layout.FLAT, "it takes one row of token ids per example");
        INDArray table = param("W");
        long[] shape = table.shape();
        String ids = graph.node("Cast", List.of(value),
                OnnxGraph.intAttribute("to", TensorProto.DataType.INT64.getNumber()));
        value = graph.node("Gather", List.of(graph.constant("W" + index, floats(table), shape), ids),
                OnnxGraph.intAttribute("axis", 0));
        layout = Layout.NWC;
        if (embedding.hasBias()) {
            value = graph.node("Add", List.of(value, graph.constant("b" + index, floats(param("b")), shape[1])));
        }
        activate(embedding.getActivationFn());
        step(String.format(Locale.ROOT, "embedding of %d tokens into %d", shape[0], shape[1]));
    }

    /**
     * DL4J's LSTM and SimpleRnn, alone (every step's output) or inside LastTimeStep (the last step's),
     * as ONNX's LSTM and RNN operators with zero initial state.
     */
    private void recurrent() {
        require(layout == Layout.NCW || layout == Layout.NWC, "it takes sequences, but its input is not one");
        boolean lastStep = layer instanceof LastTimeStep;
        Layer cell = lastStep ? ((LastTimeStep) layer).getUnderlying() : layer;
        if (cell.getClass() != LSTM.class && cell.getClass() != SimpleRnn.class) {
            throw refused("it wraps a " + cell.getClass().getSimpleName() + ", which has no ONNX form here");
        }
        toLayout(Layout.NWC);
        INDArray inputWeights = param("W");
        INDArray recurrentWeights = param("RW");
        INDArray bias = param("b");
        int units = (int) recurrentWeights.size(0);
        IActivation activation = ((BaseLayer) cell).getActivationFn();
        String op;
        String[] activations;
        int[] gates;
        if (cell instanceof LSTM lstm) {
            // DL4J's four blocks are [block input, forget, output, input gate]; ONNX's are [input, output, forget,
            // cell]: i = DL4J block 3, o = 2, f = 1, c = 0.
            op = "LSTM";
            gates = new int[] {3, 2, 1, 0};
            activations = new String[] {recurrentName(lstm.getGateActivationFn()), recurrentName(activation),
                    recurrentName(activation)};
        } else {
            require(!((SimpleRnn) cell).hasLayerNorm(), "its layer normalization has no ONNX form here");
            op = "RNN";
            gates = new int[] {0};
            activations = new String[] {recurrentName(activation)};
        }
        long inputs = inputWeights.size(0);
        float[] w = gateRows(inputWeights, gates, units);
        float[] r = gateRows(recurrentWeights, gates, units);
        float[] b = new float[2 * gates.length * units];
        float[] dl4jBias = floats(bias);
        for (int g = 0; g < gates.length; g++) {
            System.arraycopy(dl4jBias, gates[g] * units, b, g * units, units);
        }
        AttributeList attributes = new AttributeList();
        attributes.add(OnnxGraph.intAttribute("hidden_size", units));
        attributes.add(OnnxGraph.stringsAttribute("activations", activations));
        // ONNX Runtime's CPU recurrent operators take time-major input only: [steps, N, features].
        String timeMajor = graph.node("Transpose", List.of(value), OnnxGraph.intsAttribute("perm", 1, 0, 2));
        String[] outputs = graph.nodeWithOutputs(op, 2, List.of(timeMajor,
                graph.constant("W" + index, w, 1, (long) gates.length * units, inputs),
                graph.constant("R" + index, r, 1, (long) gates.length * units, units),
                graph.constant("B" + index, b, 1, 2L * gates.length * units)), attributes.toArray());
        if (lastStep) {
            // Y_h, [1, N, units]: the last step's output.
            reshape(Layout.FLAT, units, outputs[1]);
        } else {
            // Y, [steps, 1, N, units]: every step's output, back to [N, steps, units].
            String steps = graph.node("Reshape", List.of(outputs[0], graph.longs("shape", 0, -1, units)));
            value = graph.node("Transpose", List.of(steps), OnnxGraph.intsAttribute("perm", 1, 0, 2));
            layout = Layout.NWC;
        }
        step(String.format(Locale.ROOT, "%s %d units%s", op.toLowerCase(Locale.ROOT), units,
                lastStep ? ", last step" : ", every step"));
    }

    private String recurrentName(IActivation fn) {
        return Activations.recurrentName(fn).orElseThrow(() -> refused("its activation " + fn
                + " has no form in ONNX's recurrent operators here (sigmoid, tanh, hard sigmoid and relu do)"));
    }

    /**
     * ONNX's [gates * units, inputs] weights from DL4J's [inputs, blocks * units]: the blocks in
     * {@code gates} order, each transposed.
     */
    private static float[] gateRows(INDArray dl4j, int[] gates, int units) {
        long inputs = dl4j.size(0);
        float[] out = new float[(int) (gates.length * units * inputs)];
        float[] m = floats(dl4j);
        long columns = dl4j.size(1);
        for (int g = 0; g < gates.length; g++) {
            for (int u = 0; u < units; u++) {
                for (int in = 0; in < inputs; in++) {
                    out[(int) ((g * units + u) * inputs + in)] = m[(int) (in * columns + gates[g] * units + u)];
                }
            }
        }
        return out;
    }

    /** kernel_shape, strides and padding (explicit, or SAME_UPPER for DL4J's Same mode), then {@code extra}. */
    private onnx.Onnx.AttributeProto[] windowAttributes(int[] kernel, int[] stride, int[] padding, ConvolutionMode mode,
            onnx.Onnx.AttributeProto extra) {
        AttributeList attributes = new AttributeList();
        attributes.add(OnnxGraph.intsAttribute("kernel_shape", longs(kernel)));
        attributes.add(OnnxGraph.intsAttribute("strides", longs(stride)));
        if (mode == ConvolutionMode.Same) {
            // DL4J's Same mode pads the bottom and right more when the padding is odd, as SAME_UPPER does.
            attributes.add(OnnxGraph.stringAttribute("auto_pad", "SAME_UPPER"));
        } else if (mode == ConvolutionMode.Truncate || mode == ConvolutionMode.Strict) {
            attributes.add(OnnxGraph.intsAttribute("pads", padding[0], padding[1], padding[0], padding[1]));
        } else {
            throw refused("its convolution mode " + mode + " has no ONNX form here; Truncate, Strict and Same do");
        }
        attributes.add(extra);
        return attributes.toArray();
    }

    private void activate(IActivation fn) {
        value = Activations.apply(graph, value, fn, layout == Layout.FLAT)
                .orElseThrow(() -> refused("its activation " + fn + " has no ONNX form here"
                        + (layout == Layout.FLAT ? "" : " on images or sequences")));
    }

    private boolean isImage() {
        return layout == Layout.NCHW || layout == Layout.NHWC;
    }

    /** Transposes the value to {@code target}, which holds the same kind of value (image or sequence). */
    private void toLayout(Layout target) {
        if (layout == target || target == Layout.FLAT) {
            return;
        }
        long[] perm = switch (target) {
            case NCHW -> new long[] {0, 3, 1, 2};
            case NHWC -> new long[] {0, 2, 3, 1};
            default -> new long[] {0, 2, 1};
        };
        value = graph.node("Transpose", List.of(value), OnnxGraph.intsAttribute("perm", perm));
        layout = target;
    }

    private void reshape(Layout target, long... dims) {
        reshape(target, dims, value);
    }

    private void reshape(Layout target, long units, String source) {
        reshape(target, new long[] {units}, source);
    }

    private void reshape(Layout target, long[] dims, String source) {
        long[] shape = new long[dims.length + 1];
        shape[0] = -1;
        System.arraycopy(dims, 0, shape, 1, dims.length);
        value = graph.node("Reshape", List.of(source, graph.longs("shape", shape)));
        layout = target;
    }

    private void require(boolean condition, String why) {
        if (!condition) {
            throw refused(why);
        }
    }

    private void step(String what) {
        steps.add("layer " + index + ": " + what);
    }

    private Map<String, INDArray> params() {
        return saved.network().getLayer(index).paramTable();
    }

    private INDArray param(String key) {
        INDArray p = params().get(key);
        if (p == null) {
            throw refused("it has no parameter '" + key + "' where DL4J keeps it");
        }
        return p;
    }

    InputException refused(String why) {
        String name = layer.getLayerName() == null ? "unnamed" : "'" + layer.getLayerName() + "'";
        return new InputException(saved.uri() + ": layer " + index + " (" + name + ", DL4J "
                + layer.getClass().getSimpleName() + ") cannot be exported to ONNX: " + why + "; " + COVERED
                + "; nothing was written");
    }

    static float[] floats(INDArray values) {
        return values.castTo(DataType.FLOAT).dup('c').data().asFloat();
    }

    private static float[] filled(int count, double value) {
        float[] out = new float[count];
        Arrays.fill(out, (float) value);
        return out;
    }

    private static long[] longs(int[] values) {
        return Arrays.stream(values).asLongStream().toArray();
    }

    /** Attributes gathered in order. */
    private static final class AttributeList {
        private final List<onnx.Onnx.AttributeProto> list = new ArrayList<>();

        void add(onnx.Onnx.AttributeProto attribute) {
            list.add(attribute);
        }

        onnx.Onnx.AttributeProto[] toArray() {
            return list.toArray(onnx.Onnx.AttributeProto[]::new);
        }
    }
}
