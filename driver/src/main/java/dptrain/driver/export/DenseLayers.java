package dptrain.driver.export;

import static dptrain.driver.export.GraphValue.filled;
import static dptrain.driver.export.GraphValue.floats;

import dptrain.driver.export.GraphValue.Layout;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.api.ndarray.INDArray;

/** Layers that act on each feature or channel: dense (and output) layers and batch normalization. */
final class DenseLayers {
    private DenseLayers() {
    }

    /** DL4J's dense layers compute activation(x · W + b), W of shape [inputs, units]. */
    static void dense(GraphValue v) {
        v.require(v.layout == Layout.FLAT, "it takes one row per example, but its input is an image or a sequence");
        INDArray weights = v.param("W");
        INDArray bias = v.params().get("b");
        long[] shape = weights.shape();
        List<String> inputs = new ArrayList<>(List.of(v.value, v.graph.constant("W" + v.index, floats(weights),
                shape[0], shape[1])));
        if (bias != null) {
            inputs.add(v.graph.constant("b" + v.index, floats(bias), shape[1]));
        }
        v.value = v.graph.node(bias != null ? "Gemm" : "MatMul", inputs);
        IActivation activation = ((BaseLayer) v.layer).getActivationFn();
        v.activate(activation);
        v.step(String.format(Locale.ROOT, "dense %d -> %d, %s", shape[0], shape[1], Activations.name(activation)));
    }

    /** Inference batch normalization: (x - mean) / sqrt(var + eps) * gamma + beta, per channel or feature. */
    static void batchNormalization(GraphValue v, BatchNormalization bn) {
        Layout channelsAt1 = v.layout == Layout.FLAT ? Layout.FLAT : Layout.NCHW;
        v.require(v.layout == Layout.FLAT || v.isImage(), "its input is a sequence");
        v.toLayout(channelsAt1);
        Map<String, INDArray> params = v.params();
        float[] mean = floats(v.param("mean"));
        float[] variance;
        if (params.containsKey("var")) {
            variance = floats(v.param("var"));
        } else {
            float[] log10Std = floats(v.param("log10stdev"));
            variance = new float[log10Std.length];
            for (int i = 0; i < variance.length; i++) {
                double std = Math.pow(10, log10Std[i]);
                variance[i] = (float) (std * std);
            }
        }
        int channels = mean.length;
        float[] gamma = bn.isLockGammaBeta() ? filled(channels, bn.getGamma()) : floats(v.param("gamma"));
        float[] beta = bn.isLockGammaBeta() ? filled(channels, bn.getBeta()) : floats(v.param("beta"));
        OnnxGraph graph = v.graph;
        v.value = graph.node("BatchNormalization", List.of(v.value, graph.constant("gamma" + v.index, gamma, channels),
                graph.constant("beta" + v.index, beta, channels), graph.constant("mean" + v.index, mean, channels),
                graph.constant("var" + v.index, variance, channels)),
                OnnxGraph.floatAttribute("epsilon", (float) bn.getEps()));
        // DL4J's batch normalization layer applies no activation at inference, whatever its configuration names.
        v.step("batch normalization of " + channels + (v.layout == Layout.FLAT ? " features" : " channels"));
    }
}
