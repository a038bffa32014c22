package dptrain.driver.card;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.Layer;

/**
 * A network's layers as a model card lists them: index, name, DL4J class, output shape (channels
 * last, as Keras writes shapes), activation and parameter count, all read from the configuration.
 */
final class Architecture {
    private Architecture() {
    }

    /**
     * The card's {@code architecture} section of {@code conf}, whose input is a flat row of {@code inputs}
     * ({@code inputShape} as the spec gives it, or null when unknown).
     */
    static Map<String, Object> of(MultiLayerConfiguration conf, int inputs, Object inputShape) {
        List<InputType> outputs = conf.getLayerActivationTypes(InputType.feedForward(inputs));
        List<Map<String, Object>> layers = new ArrayList<>();
        long total = 0;
        for (int i = 0; i < conf.getConfs().size(); i++) {
            NeuralNetConfiguration layerConf = conf.getConf(i);
            Layer layer = layerConf.getLayer();
            long parameters = layer.initializer().numParams(layerConf);
            total += parameters;
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("index", i);
            m.put("name", layer.getLayerName());
            m.put("type", layer.getClass().getSimpleName());
            m.put("output_shape", shape(outputs.get(i)));
            // DL4J's batch normalization applies no activation, whatever its configuration names (sigmoid by default).
            if (layer instanceof BaseLayer base && base.getActivationFn() != null
                    && !(layer instanceof BatchNormalization)) {
                m.put("activation", base.getActivationFn().toString().toLowerCase(Locale.ROOT));
            }
            m.put("parameters", parameters);
            layers.add(m);
        }
        Map<String, Object> architecture = new LinkedHashMap<>();
        architecture.put("inputs", inputs);
        if (inputShape != null) {
            architecture.put("input_shape", inputShape);
        }
        architecture.put("parameters", total);
        architecture.put("layers", layers);
        return architecture;
    }

    /** An activation shape without the batch axis: [units], [height, width, channels] or [timesteps, features]. */
    static List<Long> shape(InputType type) {
        if (type instanceof InputType.InputTypeConvolutional cnn) {
            return List.of(cnn.getHeight(), cnn.getWidth(), cnn.getChannels());
        }
        if (type instanceof InputType.InputTypeRecurrent rnn) {
            return List.of(rnn.getTimeSeriesLength(), rnn.getSize());
        }
        if (type instanceof InputType.InputTypeFeedForward ff) {
            return List.of(ff.getSize());
        }
        long[] shape = type.getShape(false);
        List<Long> out = new ArrayList<>();
        for (long d : shape) {
            out.add(d);
        }
        return out;
    }
}
