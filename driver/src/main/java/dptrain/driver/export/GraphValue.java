package dptrain.driver.export;

import dptrain.driver.files.InputException;
import dptrain.driver.inference.SavedModel;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The network's value as the translation has built it so far: its name in the graph, its physical
 * layout, and the layer at hand, with what every layer's translation does to it (transpose,
 * reshape, activate), reads from it (the layer's parameters) or says about it (a step, a refusal).
 */
final class GraphValue {
    /** How the value's axes are laid out after the batch axis. */
    enum Layout { FLAT, NCHW, NHWC, NCW, NWC }

    final SavedModel saved;
    final OnnxGraph graph;
    private final List<InputType> outputTypes;
    private final List<String> steps = new ArrayList<>();
    /** The value's name in the graph. */
    String value;
    Layout layout = Layout.FLAT;
    int index;
    Layer layer;

    GraphValue(SavedModel saved, OnnxGraph graph, String input) {
        this.saved = saved;
        this.graph = graph;
        this.value = input;
        this.outputTypes = saved.network().getLayerWiseConfigurations()
                .getLayerActivationTypes(InputType.feedForward(saved.spec().inputSize()));
    }

    /** The layer at hand's output type, as DL4J computes it from the network's input. */
    InputType outputType() {
        return outputTypes.get(index);
    }

    List<String> steps() {
        return steps;
    }

    void activate(IActivation fn) {
        value = Activations.apply(graph, value, fn, layout == Layout.FLAT)
                .orElseThrow(() -> refused("its activation " + fn + " has no ONNX form here"
                        + (layout == Layout.FLAT ? "" : " on images or sequences")));
    }

    boolean isImage() {
        return layout == Layout.NCHW || layout == Layout.NHWC;
    }

    /** Transposes the value to {@code target}, which holds the same kind of value (image or sequence). */
    void toLayout(Layout target) {
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

    void reshape(Layout target, long... dims) {
        reshape(target, dims, value);
    }

    void reshape(Layout target, long units, String source) {
        reshape(target, new long[] {units}, source);
    }

    private void reshape(Layout target, long[] dims, String source) {
        long[] shape = new long[dims.length + 1];
        shape[0] = -1;
        System.arraycopy(dims, 0, shape, 1, dims.length);
        value = graph.node("Reshape", List.of(source, graph.longs("shape", shape)));
        layout = target;
    }

    void require(boolean condition, String why) {
        if (!condition) {
            throw refused(why);
        }
    }

    void step(String what) {
        steps.add("layer " + index + ": " + what);
    }

    Map<String, INDArray> params() {
        return saved.network().getLayer(index).paramTable();
    }

    INDArray param(String key) {
        INDArray p = params().get(key);
        if (p == null) {
            throw refused("it has no parameter '" + key + "' where DL4J keeps it");
        }
        return p;
    }

    InputException refused(String why) {
        String name = layer.getLayerName() == null ? "unnamed" : "'" + layer.getLayerName() + "'";
        return new InputException(saved.uri() + ": layer " + index + " (" + name + ", DL4J "
                + layer.getClass().getSimpleName() + ") cannot be exported to ONNX: " + why + "; "
                + NetworkTranslation.COVERED + "; nothing was written");
    }

    static float[] floats(INDArray values) {
        return values.castTo(DataType.FLOAT).dup('c').data().asFloat();
    }

    static float[] filled(int count, double value) {
        float[] out = new float[count];
        Arrays.fill(out, (float) value);
        return out;
    }

    static long[] longs(int[] values) {
        return Arrays.stream(values).asLongStream().toArray();
    }

    /** Attributes gathered in order. */
    static final class AttributeList {
        private final List<onnx.Onnx.AttributeProto> list = new ArrayList<>();

        void add(onnx.Onnx.AttributeProto attribute) {
            list.add(attribute);
        }

        onnx.Onnx.AttributeProto[] toArray() {
            return list.toArray(onnx.Onnx.AttributeProto[]::new);
        }
    }
}
