package dptrain.driver.export;

import static dptrain.driver.export.GraphValue.floats;

import dptrain.driver.export.GraphValue.AttributeList;
import dptrain.driver.export.GraphValue.Layout;
import java.util.List;
import java.util.Locale;
import onnx.Onnx.TensorProto;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.EmbeddingSequenceLayer;
import org.deeplearning4j.nn.conf.layers.LSTM;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.recurrent.LastTimeStep;
import org.deeplearning4j.nn.conf.layers.recurrent.SimpleRnn;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Layers over sequences: an embedding of token ids, and LSTM and SimpleRnn (every step's output, or
 * the last step's inside LastTimeStep) as ONNX's recurrent operators, whose gate order and
 * time-major input differ from DL4J's.
 */
final class SequenceLayers {
    private SequenceLayers() {
    }

    /** Token ids (the row's values, whole numbers) to their vectors: Gather from the [vocabulary, units] table. */
    static void embedding(GraphValue v, EmbeddingSequenceLayer embedding) {
        v.require(v.layout == Layout.FLAT, "it takes one row of token ids per example");
        INDArray table = v.param("W");
        long[] shape = table.shape();
        OnnxGraph graph = v.graph;
        String ids = graph.node("Cast", List.of(v.value),
                OnnxGraph.intAttribute("to", TensorProto.DataType.INT64.getNumber()));
        v.value = graph.node("Gather", List.of(graph.constant("W" + v.index, floats(table), shape), ids),
                OnnxGraph.intAttribute("axis", 0));
        v.layout = Layout.NWC;
        if (embedding.hasBias()) {
            v.value = graph.node("Add", List.of(v.value, graph.constant("b" + v.index, floats(v.param("b")),
                    shape[1])));
        }
        v.activate(embedding.getActivationFn());
        v.step(String.format(Locale.ROOT, "embedding of %d tokens into %d", shape[0], shape[1]));
    }

    /**
     * DL4J's LSTM and SimpleRnn, alone (every step's output) or inside LastTimeStep (the last step's),
     * as ONNX's LSTM and RNN operators with zero initial state.
     */
    static void recurrent(GraphValue v) {
        v.require(v.layout == Layout.NCW || v.layout == Layout.NWC, "it takes sequences, but its input is not one");
        boolean lastStep = v.layer instanceof LastTimeStep;
        Layer cell = lastStep ? ((LastTimeStep) v.layer).getUnderlying() : v.layer;
        if (cell.getClass() != LSTM.class && cell.getClass() != SimpleRnn.class) {
            throw v.refused("it wraps a " + cell.getClass().getSimpleName() + ", which has no ONNX form here");
        }
        v.toLayout(Layout.NWC);
        INDArray inputWeights = v.param("W");
        INDArray recurrentWeights = v.param("RW");
        INDArray bias = v.param("b");
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
            activations = new String[] {recurrentName(v, lstm.getGateActivationFn()), recurrentName(v, activation),
                    recurrentName(v, activation)};
        } else {
            v.require(!((SimpleRnn) cell).hasLayerNorm(), "its layer normalization has no ONNX form here");
            op = "RNN";
            gates = new int[] {0};
            activations = new String[] {recurrentName(v, activation)};
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
        OnnxGraph graph = v.graph;
        // ONNX Runtime's CPU recurrent operators take time-major input only: [steps, N, features].
        String timeMajor = graph.node("Transpose", List.of(v.value), OnnxGraph.intsAttribute("perm", 1, 0, 2));
        String[] outputs = graph.nodeWithOutputs(op, 2, List.of(timeMajor,
                graph.constant("W" + v.index, w, 1, (long) gates.length * units, inputs),
                graph.constant("R" + v.index, r, 1, (long) gates.length * units, units),
                graph.constant("B" + v.index, b, 1, 2L * gates.length * units)), attributes.toArray());
        if (lastStep) {
            // Y_h, [1, N, units]: the last step's output.
            v.reshape(Layout.FLAT, units, outputs[1]);
        } else {
            // Y, [steps, 1, N, units]: every step's output, back to [N, steps, units].
            String steps = graph.node("Reshape", List.of(outputs[0], graph.longs("shape", 0, -1, units)));
            v.value = graph.node("Transpose", List.of(steps), OnnxGraph.intsAttribute("perm", 1, 0, 2));
            v.layout = Layout.NWC;
        }
        v.step(String.format(Locale.ROOT, "%s %d units%s", op.toLowerCase(Locale.ROOT), units,
                lastStep ? ", last step" : ", every step"));
    }

    private static String recurrentName(GraphValue v, IActivation fn) {
        return Activations.recurrentName(fn).orElseThrow(() -> v.refused("its activation " + fn
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
}
