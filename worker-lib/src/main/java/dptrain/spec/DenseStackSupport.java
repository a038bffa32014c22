package dptrain.spec;

import java.io.Serializable;
import java.util.List;
import org.deeplearning4j.nn.api.OptimizationAlgorithm;
import org.deeplearning4j.nn.conf.BackpropType;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.stepfunctions.NegativeDefaultStepFunction;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * Whether the dense-stack engine can train a network, and if not, why. It can when the network is a plain stack of
 * DenseLayers ending in an OutputLayer, in float, trained by plain SGD-style steps, with nothing random or
 * constraining in training (no dropout, weight noise or constraints) and no layer normalization.
 * Activations, losses, optimizers, regularization and gradient normalization are DL4J's own objects, so any of
 * them is supported.
 *
 * @param supported true when the engine can train the network
 * @param reason    why it cannot, naming the layer and the feature; empty when supported
 */
public record DenseStackSupport(boolean supported, String reason) implements Serializable {

    /** Decides for {@code conf}; the first unsupported feature found is the reason. */
    public static DenseStackSupport of(MultiLayerConfiguration conf) {
        if (conf.getDataType() != DataType.FLOAT) {
            return no("the network's data type is " + conf.getDataType() + ", not FLOAT");
        }
        if (conf.getBackpropType() != BackpropType.Standard) {
            return no("backprop type " + conf.getBackpropType() + " is not Standard");
        }
        List<NeuralNetConfiguration> confs = conf.getConfs();
        for (int i = 0; i < confs.size(); i++) {
            NeuralNetConfiguration layerConf = confs.get(i);
            Layer layer = layerConf.getLayer();
            String name = "layer " + i + " (" + (layer == null ? "none" : layer.getClass().getSimpleName()) + ")";
            if (conf.getInputPreProcess(i) != null) {
                return no(name + " has an input preprocessor");
            }
            boolean last = i == confs.size() - 1;
            if (layer == null || layer.getClass() != (last ? OutputLayer.class : DenseLayer.class)) {
                return no(name + " is not a " + (last ? "OutputLayer" : "DenseLayer")
                        + "; the engine trains stacks of DenseLayers ending in an OutputLayer");
            }
            if (layerConf.getOptimizationAlgo() != OptimizationAlgorithm.STOCHASTIC_GRADIENT_DESCENT) {
                return no(name + " uses optimization algorithm " + layerConf.getOptimizationAlgo());
            }
            if (layerConf.getStepFunction() != null
                    && layerConf.getStepFunction().getClass() != NegativeDefaultStepFunction.class) {
                return no(name + " uses step function " + layerConf.getStepFunction().getClass().getSimpleName());
            }
            BaseLayer base = (BaseLayer) layer;
            if (base.getIDropout() != null) {
                return no(name + " has dropout");
            }
            if (base.getWeightNoise() != null) {
                return no(name + " has weight noise");
            }
            if (base.getConstraints() != null && !base.getConstraints().isEmpty()) {
                return no(name + " has parameter constraints");
            }
            boolean hasBias = last ? ((OutputLayer) layer).hasBias() : ((DenseLayer) layer).hasBias();
            if (!hasBias) {
                return no(name + " has no bias");
            }
            if (!last && ((DenseLayer) layer).hasLayerNorm()) {
                return no(name + " has layer normalization");
            }
        }
        return new DenseStackSupport(true, "");
    }

    private static DenseStackSupport no(String reason) {
        return new DenseStackSupport(false, reason);
    }
}
