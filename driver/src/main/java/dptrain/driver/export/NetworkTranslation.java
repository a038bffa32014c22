package dptrain.driver.export;

import dptrain.driver.export.GraphValue.Layout;
import dptrain.driver.inference.SavedModel;
import dptrain.spec.ChannelsLastRowsPreProcessor;
import dptrain.spec.RowsAsKerasShapePreProcessor;
import java.util.List;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.InputPreProcessor;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.DropoutLayer;
import org.deeplearning4j.nn.conf.layers.EmbeddingSequenceLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.LSTM;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.conf.layers.recurrent.LastTimeStep;
import org.deeplearning4j.nn.conf.layers.recurrent.SimpleRnn;
import org.deeplearning4j.nn.conf.preprocessor.CnnToFeedForwardPreProcessor;
import org.deeplearning4j.nn.conf.preprocessor.FeedForwardToCnnPreProcessor;

/**
 * A DL4J MultiLayerNetwork's layers as ONNX nodes, in order, with their trained parameters as
 * initializers. dptrain feeds every example as a flat row, and the network's preprocessors reshape
 * it; the translation follows the value's physical layout (flat, an image channels first or last,
 * a sequence steps first or last, see {@link GraphValue}) and transposes only where an ONNX operator
 * needs another one. Each kind of layer is translated in {@link DenseLayers}, {@link ImageLayers}
 * or {@link SequenceLayers}; a layer, preprocessor or setting without an ONNX form here is refused,
 * naming the layer.
 */
final class NetworkTranslation {
    /** What the refusal says is covered, so the user knows what would export. */
    static final String COVERED = "dptrain exports dense, dropout, activation, conv2d, max and average pooling, "
            + "global pooling, batch normalization, flatten, embedding, lstm and simple_rnn layers";

    private final GraphValue value;

    private NetworkTranslation(GraphValue value) {
        this.value = value;
    }

    /** Adds {@code saved}'s layers to {@code graph}, applied to the value named {@code input}. */
    static NetworkTranslation translate(SavedModel saved, OnnxGraph graph, String input) {
        GraphValue v = new GraphValue(saved, graph, input);
        MultiLayerConfiguration conf = saved.network().getLayerWiseConfigurations();
        for (int i = 0; i < conf.getConfs().size(); i++) {
            v.index = i;
            v.layer = conf.getConf(i).getLayer();
            preProcessor(v, conf.getInputPreProcess(i));
            layer(v);
        }
        if (v.layout != Layout.FLAT) {
            throw v.refused("its output is not one row per example");
        }
        return new NetworkTranslation(v);
    }

    /** The name of the network's output value, [N, outputs]. */
    String output() {
        return value.value;
    }

    List<String> steps() {
        return value.steps();
    }

    private static void preProcessor(GraphValue v, InputPreProcessor pre) {
        if (pre == null) {
            return;
        }
        if (pre instanceof FeedForwardToCnnPreProcessor toCnn && v.layout == Layout.FLAT) {
            // DL4J reads a flat row as (channels, height, width).
            v.reshape(Layout.NCHW, toCnn.getNumChannels(), toCnn.getInputHeight(), toCnn.getInputWidth());
        } else if ((pre instanceof ChannelsLastRowsPreProcessor || pre instanceof RowsAsKerasShapePreProcessor)
                && v.layout == Layout.FLAT) {
            // Both read a flat row in Keras's channels-last order; they differ only in what layout DL4J's layers
            // then take, which each layer below reads from its own configuration.
            long[] shape = pre instanceof ChannelsLastRowsPreProcessor c ? c.getShape()
                    : ((RowsAsKerasShapePreProcessor) pre).getShape();
            v.reshape(shape.length == 3 ? Layout.NHWC : Layout.NWC, shape);
        } else if (pre instanceof CnnToFeedForwardPreProcessor flatten && v.isImage()) {
            // DL4J flattens in the order of the format it names: channels first or last.
            v.toLayout(flatten.getFormat() == CNN2DFormat.NHWC ? Layout.NHWC : Layout.NCHW);
            v.reshape(Layout.FLAT, flatten.getInputHeight() * flatten.getInputWidth() * flatten.getNumChannels());
            v.step("flatten, channels " + (flatten.getFormat() == CNN2DFormat.NHWC ? "last" : "first"));
        } else {
            throw v.refused("its input preprocessor " + pre.getClass().getSimpleName() + " has no ONNX form here");
        }
    }

    private static void layer(GraphValue v) {
        Layer layer = v.layer;
        if (layer instanceof DropoutLayer) {
            // Dropout only acts in training; at inference the layer passes its input on.
            v.step("dropout, left out at inference");
        } else if (layer instanceof ActivationLayer activation) {
            v.activate(activation.getActivationFn());
            v.step(Activations.name(activation.getActivationFn()));
        } else if (layer.getClass() == DenseLayer.class || layer.getClass() == OutputLayer.class) {
            DenseLayers.dense(v);
        } else if (layer.getClass() == ConvolutionLayer.class) {
            ImageLayers.convolution(v, (ConvolutionLayer) layer);
        } else if (layer.getClass() == SubsamplingLayer.class) {
            ImageLayers.pooling(v, (SubsamplingLayer) layer);
        } else if (layer.getClass() == GlobalPoolingLayer.class) {
            ImageLayers.globalPooling(v, (GlobalPoolingLayer) layer);
        } else if (layer.getClass() == BatchNormalization.class) {
            DenseLayers.batchNormalization(v, (BatchNormalization) layer);
        } else if (layer.getClass() == EmbeddingSequenceLayer.class) {
            SequenceLayers.embedding(v, (EmbeddingSequenceLayer) layer);
        } else if (layer.getClass() == LastTimeStep.class || layer.getClass() == LSTM.class
                || layer.getClass() == SimpleRnn.class) {
            SequenceLayers.recurrent(v);
        } else {
            throw v.refused("it has no ONNX form here");
        }
    }
}
