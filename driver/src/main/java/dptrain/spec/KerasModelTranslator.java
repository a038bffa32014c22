package dptrain.spec;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dptrain.spec.KerasVocabulary.Loss;
import dptrain.spec.OptimizerTranslator.Optimizer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.deeplearning4j.nn.conf.InputPreProcessor;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.dropout.Dropout;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.BaseRecurrentLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.wrapper.BaseWrapperLayer;
import org.deeplearning4j.nn.modelimport.keras.KerasModel;
import org.deeplearning4j.nn.modelimport.keras.KerasSequentialModel;
import org.deeplearning4j.nn.modelimport.keras.utils.KerasModelBuilder;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

/**
 * Keras Sequential models (a model JSON, or an HDF5 file with weights) as dptrain specs. DL4J's Keras import
 * ({@code KerasModelImport}'s machinery) translates the layers and reads the weights; dptrain checks beforehand that
 * the model is a stack it can train, and maps the optimizer and loss itself with the rules of its own Keras-terms
 * specs (DL4J's mapping turns SGD with classical momentum into Nesterov momentum and fails on optimizer configs
 * without a {@code decay} field, as TensorFlow 2.11 and later write them).
 */
final class KerasModelTranslator {

    private static final String SUPPORTED = KerasFileLayers.SUPPORTED;
    private static final String TRAINING_CONFIG_EXAMPLE = "{\"loss\": \"categorical_crossentropy\", "
            + "\"optimizer_config\": {\"class_name\": \"RMSprop\", \"config\": {\"learning_rate\": 0.001}}}";
    private static final ObjectMapper JSON = new ObjectMapper();

    private KerasModelTranslator() {
    }

    /** What dptrain reads from the Keras model and its training configuration, checked. */
    private record Checked(KerasFileLayers.Stack stack, Loss loss, Optimizer optimizer, List<String> metrics,
                           String kerasVersion) {
        List<Integer> inputShape() {
            return stack.inputShape();
        }
    }

    /**
     * A Keras model JSON ({@code model.to_json()}), told apart by its top-level {@code class_name}. It has no
     * weights; its optimizer and loss come from a top-level {@code training_config} key.
     */
    static ModelSpec fromJson(JsonNode root, String source) {
        Checked checked = check(root, root.get("training_config"), "training_config", source);
        ObjectNode modelOnly = root.deepCopy();
        modelOnly.remove("training_config");
        KerasModelBuilder builder = new KerasModel().modelBuilder().modelJson(modelOnly.toString())
                .enforceTrainingConfig(true);
        KerasSequentialModel model = buildSequential(builder, source);
        return spec(configuration(model, checked, source), checked, source);
    }

    /** A Keras HDF5 file (model.save("….h5")): the architecture, the training configuration and the weights. */
    static ModelFile fromHdf5(Path file, String source) {
        // The HDF5 library would print its error stack to the process's stderr; the SpecException says it instead.
        org.bytedeco.hdf5.Exception.dontPrint();
        KerasModelBuilder builder = new KerasModel().modelBuilder().enforceTrainingConfig(true);
        try {
            try {
                builder.modelHdf5Filename(file.toString());
            } catch (Exception e) {
                if (reason(e).contains("H5Fopen")) {
                    throw new SpecException(source, "", "the HDF5 library cannot open this file (" + reason(e)
                            + "): it is truncated or corrupt; expected a whole HDF5 file as Keras's "
                            + "model.save(\"….h5\") writes it", e);
                }
                throw new SpecException(source, "", "this HDF5 file is not a Keras model that DL4J's Keras import "
                        + "can read: " + reason(e) + "; expected a file written by Keras's model.save(\"….h5\"), "
                        + "with the attributes model_config and keras_version and the group model_weights", e);
            }
            JsonNode modelConfig = parseJson(builder.getModelJson(), source, "model_config");
            JsonNode trainingConfig = builder.getTrainingJson() == null ? null
                    : parseJson(builder.getTrainingJson(), source, "training_config");
            // dptrain maps the optimizer and loss itself; DL4J's Keras import translates the layers and weights.
            builder.setTrainingJson(null);
            Checked checked = check(modelConfig, trainingConfig, "training_config", source);
            KerasSequentialModel model = buildSequential(builder, source);
            MultiLayerConfiguration conf = configuration(model, checked, source);
            MultiLayerNetwork imported;
            try {
                imported = model.getMultiLayerNetwork(true);
            } catch (Exception e) {
                throw new SpecException(source, "model_weights", "DL4J's Keras import cannot read the weights: "
                        + reason(e) + "; expected one weight group per layer, as Keras's model.save writes it", e);
            }
            ModelSpec spec = spec(conf, checked, source);
            InitialWeights weights = InitialWeights.of(imported, source);
            if (weights.count() != spec.parameterCount()) {
                throw new IllegalStateException("Keras import of " + source + " gave " + weights.count()
                        + " weights for a network of " + spec.parameterCount() + " parameters");
            }
            return new ModelFile(spec, weights);
        } finally {
            builder.close();
        }
    }

    private static KerasSequentialModel buildSequential(KerasModelBuilder builder, String source) {
        try {
            return builder.buildSequential();
        } catch (Exception e) {
            throw new SpecException(source, "", "DL4J's Keras import (deeplearning4j-modelimport 1.0.0-M2.1) cannot "
                    + "translate this model: " + reason(e), e);
        }
    }

    // ---------------------------------------------------------------- checks on the Keras model

    private static Checked check(JsonNode root, JsonNode training, String trainingPath, String source) {
        String className = root.path("class_name").asText("");
        JsonNode config = root.path("config");
        if (!className.equals("Sequential")) {
            throw new SpecException(source, "class_name", quote(className) + " is a " + (className.equals("Model")
                    || className.equals("Functional") ? "functional Keras model" : "Keras model class") + " that "
                    + "dptrain cannot train" + branch(config.path("layers")) + "; expected class_name \"Sequential\": "
                    + "dptrain trains DL4J MultiLayerNetworks, " + SUPPORTED);
        }
        JsonNode layers = config.isArray() ? config : config.path("layers");
        String layersPath = config.isArray() ? "config" : "config.layers";
        if (!layers.isArray() || layers.isEmpty()) {
            throw new SpecException(source, layersPath, "the model has no layers; expected " + SUPPORTED);
        }
        int lastIndex = layers.size() - 1;
        KerasFileLayers.Stack stack = KerasFileLayers.check(layers, layersPath,
                inputShape(layers.get(0).path("config"), layersPath + "[0]", source), source);
        JsonNode output = layers.get(lastIndex).path("config");
        if (training == null || training.isNull() || training.isMissingNode()) {
            throw new SpecException(source, trainingPath, "is missing: the model has no optimizer and loss (Keras "
                    + "keeps them only for a compiled model; model.to_json() leaves them out); expected a compiled "
                    + "model saved with model.save(\"….h5\"), or, in a model JSON, a top-level training_config key "
                    + "such as " + TRAINING_CONFIG_EXAMPLE);
        }
        Loss loss = KerasTrainingConfig.loss(training.path("loss"), trainingPath + ".loss", source);
        KerasTrainingConfig.checkOutput(output, layersPath + "[" + lastIndex + "].config", loss, source);
        Optimizer optimizer = KerasTrainingConfig.optimizer(training.path("optimizer_config"),
                trainingPath + ".optimizer_config", source);
        List<String> metrics = loss.regression() ? KerasTrainingConfig.regressionMetrics(training.path("metrics"))
                : KerasTrainingConfig.hasAccuracy(training.path("metrics")) ? List.of("accuracy") : List.of();
        return new Checked(stack, loss, optimizer, metrics, root.path("keras_version").asText(null));
    }

    /** The input shape without the batch axis: Keras 2's batch_input_shape, Keras 3's batch_shape. */
    private static List<Integer> inputShape(JsonNode layerConfig, String path, String source) {
        String key = layerConfig.has("batch_shape") ? "batch_shape" : "batch_input_shape"; // Keras 3 : Keras 2
        JsonNode shape = layerConfig.path(key);
        String where = path + ".config." + key;
        if (!shape.isArray() || shape.size() < 2) {
            throw new SpecException(source, where, (shape.isMissingNode() ? "is missing"
                    : KerasTrainingConfig.shown(shape) + " is not allowed") + "; expected the model's input shape with a batch axis, "
                    + "e.g. [null, 784]: build the model with an input shape, e.g. keras.Input(shape=(784,))");
        }
        List<Integer> dims = new ArrayList<>();
        long product = 1;
        for (int d = 1; d < shape.size(); d++) {
            JsonNode dim = shape.get(d);
            if (!dim.canConvertToInt() || !dim.isIntegralNumber() || dim.asInt() < 1) {
                throw new SpecException(source, where, KerasTrainingConfig.shown(shape) + " is not allowed; expected whole numbers >= 1 "
                        + "after the batch axis, e.g. [null, 28, 28]");
            }
            dims.add(dim.asInt());
            product *= dim.asInt();
        }
        if (product > Integer.MAX_VALUE) {
            throw new SpecException(source, where, KerasTrainingConfig.shown(shape) + " is not allowed; expected at most 2^31-1 "
                    + "features in all");
        }
        return List.copyOf(dims);
    }

    /** Why a functional model is not a stack: the first layer that feeds several layers or joins several inputs. */
    private static String branch(JsonNode layers) {
        if (!layers.isArray()) {
            return "";
        }
        List<String> names = new ArrayList<>();
        layers.forEach(layer -> names.add(layer.path("config").path("name").asText(layer.path("name").asText())));
        Map<String, List<String>> consumers = new LinkedHashMap<>();
        Map<String, Set<String>> inputs = new HashMap<>();
        for (int i = 0; i < layers.size(); i++) {
            Set<String> found = new LinkedHashSet<>();
            collectNames(layers.get(i).path("inbound_nodes"), Set.copyOf(names), found);
            inputs.put(names.get(i), found);
            for (String input : found) {
                consumers.computeIfAbsent(input, k -> new ArrayList<>()).add(names.get(i));
            }
        }
        for (int i = 0; i < layers.size(); i++) {
            String described = "layer " + i + " " + quote(names.get(i)) + " (" + layers.get(i).path("class_name")
                    .asText() + ")";
            List<String> fed = consumers.getOrDefault(names.get(i), List.of());
            if (fed.size() > 1) {
                return ": " + described + " feeds " + fed.size() + " layers (" + String.join(", ", fed)
                        + "), a branch";
            }
            Set<String> joined = inputs.get(names.get(i));
            if (joined.size() > 1) {
                return ": " + described + " joins " + joined.size() + " branches (" + String.join(", ", joined) + ")";
            }
        }
        return "";
    }

    private static void collectNames(JsonNode node, Set<String> names, Set<String> found) {
        if (node.isTextual() && names.contains(node.asText())) {
            found.add(node.asText());
        }
        node.forEach(child -> collectNames(child, names, found));
    }

    // ---------------------------------------------------------------- the DL4J configuration

    /**
     * DL4J's translation, made trainable by dptrain: the last Dense layer becomes the OutputLayer with the loss (it
     * has the same parameters), and every layer gets the optimizer. The input preprocessors are those executors can
     * load (worker-lib has no Keras import): dptrain feeds each example as a flat row in Keras's order, so a network
     * whose rows arrive flat (a vector, or a Flatten right after the input) drops the preprocessors of that Flatten,
     * token ids go to the embedding as they are, and a network on images or sequences gets {@link RowsAsKerasShapePreProcessor} before its first layer,
     * which gives the NHWC images and NWC sequences DL4J's import builds the layers for. Between layers, DL4J's import
     * of the layers dptrain accepts uses DL4J's own preprocessors (CnnToFeedForwardPreProcessor in NHWC for a Flatten
     * after convolutions), which are kept.
     */
    private static MultiLayerConfiguration configuration(KerasSequentialModel model, Checked checked, String source) {
        MultiLayerConfiguration imported;
        try {
            imported = model.getMultiLayerConfiguration();
        } catch (Exception e) {
            throw new SpecException(source, "", "DL4J's Keras import (deeplearning4j-modelimport 1.0.0-M2.1) cannot "
                    + "translate this model: " + reason(e), e);
        }
        NeuralNetConfiguration.ListBuilder list = new NeuralNetConfiguration.Builder()
                .seed(KerasSpecTranslator.DEFAULT_SEED)
                .updater(checked.optimizer().updater())
                .list();
        List<NeuralNetConfiguration> confs = imported.getConfs();
        for (int i = 0; i < confs.size(); i++) {
            Layer layer = confs.get(i).getLayer().clone();
            if (i == confs.size() - 1) {
                if (!(layer instanceof DenseLayer dense)) {
                    throw new IllegalStateException("DL4J translated the last Dense layer of " + source + " to "
                            + layer.getClass().getSimpleName());
                }
                layer = outputLayer(dense, checked.loss());
            }
            Layer inner = layer instanceof BaseWrapperLayer wrapper ? wrapper.getUnderlying() : layer;
            if (inner instanceof BaseLayer withWeights) {
                // DL4J's import left its default updater on every layer; the network-wide optimizer applies instead.
                withWeights.setIUpdater(null);
                withWeights.setBiasUpdater(null);
            }
            dropNoOpDropout(layer);
            dropNoOpDropout(inner);
            if (inner instanceof BaseRecurrentLayer recurrent) {
                // Keras's default recurrent initializer is orthogonal, and DL4J 1.0.0-M2.1's OrthogonalDistribution
                // did not finish sampling a 16 x 64 matrix in 15 minutes. The recurrent weights start from the
                // kernel's initializer, as in dptrain specs; an .h5 file's weights replace both anyway.
                recurrent.setWeightInitFnRecurrent(recurrent.getWeightInitFn());
            }
            list.layer(layer);
            InputPreProcessor preProcessor = checked.stack().flatRows() ? null : imported.getInputPreProcess(i);
            if (i == 0 && checked.stack().reshapeRows()) {
                preProcessor = new RowsAsKerasShapePreProcessor(checked.inputShape().stream()
                        .mapToLong(Integer::longValue).toArray());
            }
            if (preProcessor != null) {
                list.inputPreProcessor(i, executorSide(preProcessor, i, layer, source));
            }
        }
        MultiLayerConfiguration conf = list.build();
        // DL4J's JSON reader decides a BatchNormalization's useLogStd (false in DL4J's import, which stores Keras's
        // moving variance) from the parameter names listed beside the layer; list them, as a network's init() does.
        for (NeuralNetConfiguration layerConf : conf.getConfs()) {
            layerConf.getLayer().initializer().paramKeys(layerConf.getLayer()).forEach(layerConf::addVariable);
        }
        return conf;
    }

    /**
     * DL4J's import gives every layer Dropout(1.0), which keeps every input and changes nothing, except that DL4J
     * 1.0.0-M2.1 then fails in the backward pass of an NHWC convolution (its input-dropout mask is NHWC, the
     * gradient NCHW). Dropout layers are separate layers and stay.
     */
    private static void dropNoOpDropout(Layer layer) {
        if (layer.getIDropout() instanceof Dropout dropout && dropout.getP() == 1.0 && dropout.getPSchedule() == null) {
            layer.setIDropout(null);
        }
    }

    /**
     * A preprocessor executors can load. In DL4J 1.0.0-M2.1 every preprocessor the Keras translators make is in
     * deeplearning4j-nn (Flatten's CnnToFeedForwardPreProcessor, KerasFlattenRnnPreprocessor, ReshapePreprocessor);
     * the one in the modelimport jar, TensorFlowCnnToFeedForwardPreProcessor, is made by none. This guard keeps a
     * later DL4J from putting a driver-only class into a configuration that executors deserialize.
     */
    private static InputPreProcessor executorSide(InputPreProcessor preProcessor, int index, Layer layer,
                                                  String source) {
        if (preProcessor.getClass().getName().startsWith("org.deeplearning4j.nn.modelimport.")) {
            throw new IllegalStateException("DL4J's Keras import of " + source + " put "
                    + preProcessor.getClass().getName() + " before layer " + index + " " + SpecNode.quote(
                    layer.getLayerName()) + ", which executors cannot load; dptrain's check should have refused it");
        }
        return preProcessor;
    }

    private static OutputLayer outputLayer(DenseLayer dense, Loss loss) {
        OutputLayer output = new OutputLayer.Builder(loss.function().get())
                .nIn(dense.getNIn())
                .nOut(dense.getNOut())
                .activation(dense.getActivationFn())
                .weightInit(dense.getWeightInitFn())
                .biasInit(dense.getBiasInit())
                .hasBias(dense.hasBias())
                .name(dense.getLayerName())
                .build();
        output.setRegularization(dense.getRegularization());
        output.setRegularizationBias(dense.getRegularizationBias());
        output.setConstraints(dense.getConstraints());
        output.setIDropout(dense.getIDropout());
        return output;
    }

    private static ModelSpec spec(MultiLayerConfiguration conf, Checked checked, String source) {
        ConfigurationInspector.Facts facts;
        try {
            facts = ConfigurationInspector.inspect(conf, source);
        } catch (SpecException e) {
            throw new IllegalStateException("The Keras import of " + source + " is not trainable: " + e.getMessage(),
                    e);
        }
        Map<String, Object> description = ConfigurationInspector.describe(conf, facts, source);
        description.put("format", "keras_model");
        description.put("keras_version", checked.kerasVersion());
        description.put("input_shape", checked.inputShape());
        description.put("input_size", facts.inputSize());
        description.put("optimizer", checked.optimizer().describe());
        description.put("loss", checked.loss().name());
        description.put("metrics", checked.metrics());
        return ModelSpec.create(conf, source, facts, checked.metrics(), Normalization.NONE, Engine.AUTO, description);
    }

    // ---------------------------------------------------------------- helpers

    private static JsonNode parseJson(String text, String source, String attribute) {
        try {
            return JSON.readTree(text);
        } catch (JsonProcessingException e) {
            throw new SpecException(source, attribute, "this attribute is not valid JSON: " + reason(e)
                    + "; expected the JSON Keras writes", e);
        }
    }

    private static String quote(String text) {
        return SpecNode.quote(text);
    }

    /** One line of the cause, without class names. */
    private static String reason(Throwable e) {
        String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        return message.strip().replaceAll("\\s*\\R\\s*", " ");
    }
}
