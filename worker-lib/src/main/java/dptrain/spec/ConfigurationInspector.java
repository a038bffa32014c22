package dptrain.spec;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.conf.InputPreProcessor;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.dropout.Dropout;
import org.deeplearning4j.nn.conf.dropout.IDropout;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.EmbeddingLayer;
import org.deeplearning4j.nn.conf.layers.EmbeddingSequenceLayer;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.DropoutLayer;
import org.deeplearning4j.nn.conf.layers.FeedForwardLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.preprocessor.FeedForwardToCnnPreProcessor;
import org.deeplearning4j.nn.conf.preprocessor.RnnToFeedForwardPreProcessor;
import org.nd4j.linalg.lossfunctions.ILossFunction;

/**
 * Reads what dptrain needs from a DL4J configuration: input and output size, loss, seed and parameter count.
 * Both Keras specs and DL4J JSON end here, so these facts are decided in one place.
 */
final class ConfigurationInspector {

    /** What the rest of dptrain needs to know about a network. */
    record Facts(int inputSize, int outputSize, String lossName, TargetEncoding targetEncoding, long seed,
                 long parameterCount) {
    }

    private ConfigurationInspector() {
    }

    /** Checks that dptrain can train the network (flat rows in, an OutputLayer last) and reads its facts. */
    static Facts inspect(MultiLayerConfiguration conf, String source) {
        List<NeuralNetConfiguration> layers = conf.getConfs();
        if (layers == null || layers.isEmpty()) {
            throw new SpecException(source, "confs", "the configuration has no layers; expected at least one layer, "
                    + "the last an OutputLayer");
        }
        int last = layers.size() - 1;
        if (!(layers.get(last).getLayer() instanceof OutputLayer output)) {
            throw new SpecException(source, layerPath(last), layerName(layers.get(last).getLayer())
                    + " is not allowed as the last layer; expected an OutputLayer with a loss function");
        }
        long outputSize = output.getNOut();
        if (outputSize < 1 || outputSize > Integer.MAX_VALUE) {
            throw new SpecException(source, layerPath(last) + ".nout", outputSize
                    + " is not allowed; expected a whole number >= 1");
        }
        ILossFunction loss = output.getLossFn();
        if (loss == null) {
            throw new SpecException(source, layerPath(last) + ".lossFn", "the output layer has no loss function; "
                    + "expected one, e.g. LossMCXENT");
        }
        int outputs = (int) outputSize;
        checkOutputTakesRows(conf, last, source);
        return new Facts(inputSize(conf, source), outputs, KerasVocabulary.lossName(loss),
                TargetEncoding.of(KerasVocabulary.isSparse(loss), KerasVocabulary.isRegression(loss), outputs), layers.get(0).getSeed(),
                parameterCount(conf));
    }

    /**
     * dptrain feeds each example as one flat row, so the network must take one: through an input preprocessor that
     * reshapes it (DL4J's FeedForwardToCnnPreProcessor, dptrain's ChannelsLastRowsPreProcessor or
     * RowsAsKerasShapePreProcessor), or with a first
     * layer that takes rows: a dense layer, or an embedding of token ids.
     */
    private static int inputSize(MultiLayerConfiguration conf, String source) {
        List<NeuralNetConfiguration> layers = conf.getConfs();
        for (int i = 0; i < layers.size(); i++) {
            InputPreProcessor preProcessor = conf.getInputPreProcess(i);
            Layer layer = layers.get(i).getLayer();
            if (preProcessor != null) {
                return preprocessedSize(preProcessor, i, source);
            }
            if (layer instanceof DropoutLayer || layer instanceof ActivationLayer) {
                continue;
            }
            if (layer instanceof EmbeddingSequenceLayer embedding) {
                if (embedding.getInputLength() < 1) {
                    throw new SpecException(source, layerPath(i) + ".inputLength", embedding.getInputLength()
                            + " is not allowed; expected the number of token ids per example, a whole number >= 1");
                }
                return embedding.getInputLength();
            }
            if (!(layer instanceof DenseLayer || layer instanceof OutputLayer || layer instanceof EmbeddingLayer
                    || layer instanceof BatchNormalization)) {
                throw new SpecException(source, layerPath(i), layerName(layer) + " is not allowed as the first layer "
                        + "with parameters without an input preprocessor, because dptrain feeds each example as a "
                        + "flat row; expected DenseLayer, OutputLayer, BatchNormalization or an embedding, or an input "
                        + "preprocessor before it, e.g. the FeedForwardToCnnPreProcessor that "
                        + "setInputType(InputType.convolutionalFlat(height, width, channels)) adds");
            }
            long nIn = layer instanceof EmbeddingLayer ? 1 : ((FeedForwardLayer) layer).getNIn();
            if (nIn < 1 || nIn > Integer.MAX_VALUE) {
                throw new SpecException(source, layerPath(i) + ".nin", nIn
                        + " is not allowed; expected the number of input features, a whole number >= 1");
            }
            return (int) nIn;
        }
        throw new SpecException(source, "confs", "no layer has parameters; expected a DenseLayer or OutputLayer");
    }

    /** The flat row size a preprocessor before the first layer with parameters reshapes. */
    private static int preprocessedSize(InputPreProcessor preProcessor, int index, String source) {
        long size;
        if (preProcessor instanceof FeedForwardToCnnPreProcessor cnn) {
            size = cnn.getInputHeight() * cnn.getInputWidth() * cnn.getNumChannels();
        } else if (preProcessor instanceof ChannelsLastRowsPreProcessor rows) {
            size = 1;
            for (long dimension : rows.getShape()) {
                size *= dimension;
            }
        } else if (preProcessor instanceof RowsAsKerasShapePreProcessor rows) {
            size = rows.flatSize();
        } else {
            throw new SpecException(source, "inputPreProcessors." + index, preProcessor.getClass().getSimpleName()
                    + " is not allowed before the first layer, because dptrain feeds each example as a flat row; "
                    + "expected FeedForwardToCnnPreProcessor (from InputType.convolutionalFlat), "
                    + "ChannelsLastRowsPreProcessor or RowsAsKerasShapePreProcessor");
        }
        if (size < 1 || size > Integer.MAX_VALUE) {
            throw new SpecException(source, "inputPreProcessors." + index, size
                    + " input values are not allowed; expected a whole number >= 1 and <= " + Integer.MAX_VALUE);
        }
        return (int) size;
    }

    /**
     * An OutputLayer after a recurrent layer that returns sequences would get DL4J's RnnToFeedForwardPreProcessor,
     * which makes every time step an example: the targets, one row per example, would not fit.
     */
    private static void checkOutputTakesRows(MultiLayerConfiguration conf, int last, String source) {
        if (conf.getInputPreProcess(last) instanceof RnnToFeedForwardPreProcessor) {
            throw new SpecException(source, "inputPreProcessors." + last, "RnnToFeedForwardPreProcessor is not allowed "
                    + "before the OutputLayer: it makes every time step an example, and dptrain has one target per "
                    + "example; expected the last recurrent layer wrapped in LastTimeStep (Keras: return_sequences: "
                    + "false)");
        }
    }

    static long parameterCount(MultiLayerConfiguration conf) {
        long count = 0;
        for (NeuralNetConfiguration layerConf : conf.getConfs()) {
            Layer layer = layerConf.getLayer();
            count += layer.initializer().numParams(layer);
        }
        return count;
    }

    /** A DL4J configuration in the terms of provenance.json; DL4J objects keep their own names. */
    static Map<String, Object> describe(MultiLayerConfiguration conf, Facts facts, String source) {
        Map<String, Object> description = new LinkedHashMap<>();
        description.put("source", source);
        description.put("format", "dl4j");
        description.put("input_shape", List.of(facts.inputSize()));
        List<Object> layers = new ArrayList<>();
        BaseLayer firstWithWeights = null;
        for (NeuralNetConfiguration layerConf : conf.getConfs()) {
            Layer layer = layerConf.getLayer();
            layers.add(describeLayer(layer));
            if (firstWithWeights == null && layer instanceof BaseLayer baseLayer) {
                firstWithWeights = baseLayer;
            }
        }
        description.put("layers", layers);
        if (firstWithWeights != null && firstWithWeights.getIUpdater() != null) {
            description.put("optimizer", OptimizerTranslator.describe(firstWithWeights.getIUpdater()));
        }
        description.put("loss", facts.lossName());
        description.put("metrics", List.of());
        description.put("seed", facts.seed());
        if (firstWithWeights != null) {
            description.put("weight_init", String.valueOf(firstWithWeights.getWeightInitFn()));
        }
        description.put("output_size", facts.outputSize());
        description.put("target_encoding", facts.targetEncoding().name());
        description.put("parameter_count", facts.parameterCount());
        return description;
    }

    private static Map<String, Object> describeLayer(Layer layer) {
        Map<String, Object> description = new LinkedHashMap<>();
        description.put("type", layerName(layer));
        if (layer instanceof DropoutLayer) {
            IDropout dropout = layer.getIDropout();
            if (dropout instanceof Dropout plain && plain.getPSchedule() == null) {
                description.put("rate", 1.0 - plain.getP());
            } else {
                description.put("dropout", String.valueOf(dropout));
            }
            return description;
        }
        if (layer instanceof FeedForwardLayer feedForward) {
            description.put("units", feedForward.getNOut());
        }
        if (layer instanceof BaseLayer baseLayer) {
            description.put("activation", String.valueOf(baseLayer.getActivationFn()));
            description.put("weight_init", String.valueOf(baseLayer.getWeightInitFn()));
            description.put("bias_init", baseLayer.getBiasInit());
            if (baseLayer.getRegularization() != null && !baseLayer.getRegularization().isEmpty()) {
                description.put("regularization", String.valueOf(baseLayer.getRegularization()));
            }
        }
        if (layer instanceof OutputLayer output) {
            description.put("loss", String.valueOf(output.getLossFn()));
        }
        return description;
    }

    private static String layerPath(int index) {
        return "confs[" + index + "].layer";
    }

    private static String layerName(Layer layer) {
        return layer == null ? "no layer" : layer.getClass().getSimpleName();
    }
}
