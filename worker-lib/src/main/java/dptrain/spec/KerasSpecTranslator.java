package dptrain.spec;

import dptrain.spec.KerasVocabulary.Loss;
import dptrain.spec.OptimizerTranslator.Optimizer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.DropoutLayer;
import org.deeplearning4j.nn.conf.layers.FeedForwardLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;

/** Turns a spec written in Keras terms into a DL4J MultiLayerConfiguration; every check happens while reading. */
final class KerasSpecTranslator {

    static final long DEFAULT_SEED = 42;

    static final List<String> TOP_LEVEL_KEYS =
            List.of("input_shape", "layers", "optimizer", "loss", "metrics", "seed", "kernel_initializer", "normalization",
                    "engine");
    private static final List<String> LAYER_TYPES = List.of("dense", "dropout");
    private static final List<String> DENSE_KEYS =
            List.of("units", "activation", "l2", "kernel_initializer", "bias_initializer");
    private static final List<String> DROPOUT_KEYS = List.of("rate");

    private static final String INPUT_SHAPE_EXPECTED = "a list of whole numbers >= 1, e.g. [784] or [28, 28]";
    private static final String LAYERS_EXPECTED =
            "a list of layers, e.g. [{dense: {units: 512, activation: relu}}, {dense: {units: 10, activation: softmax}}]";
    private static final String LAYER_EXPECTED = "a mapping from one layer type (dense or dropout) to its settings, "
            + "e.g. {dense: {units: 512, activation: relu}}";

    /** A layer as read from the spec, with Keras defaults applied. */
    private sealed interface LayerSpec permits Dense, DropoutSpec {
        Map<String, Object> describe();
    }

    private record Dense(SpecNode node, int units, String activation, double l2, String kernelInitializer,
                         String biasInitializer) implements LayerSpec {

        /** DL4J adds l2/2 * sum(w^2) to the loss, Keras adds l2 * sum(w^2); doubling keeps Keras's penalty. */
        double dl4jL2() {
            return 2.0 * l2;
        }

        Layer toHiddenLayer() {
            return configured(new DenseLayer.Builder());
        }

        Layer toOutputLayer(Loss loss) {
            return configured(new OutputLayer.Builder(loss.function().get()));
        }

        /** Units, activation, initializers and L2, the same for hidden and output layers. */
        private <B extends FeedForwardLayer.Builder<B>> Layer configured(B builder) {
            builder.nOut(units)
                    .activation(KerasVocabulary.ACTIVATIONS.get(activation).get())
                    .weightInit(KerasVocabulary.KERNEL_INITIALIZERS.get(kernelInitializer).get())
                    .biasInit(KerasVocabulary.BIAS_INITIALIZERS.get(biasInitializer));
            if (l2 > 0) {
                builder.l2(dl4jL2());
            }
            return builder.build();
        }

        @Override
        public Map<String, Object> describe() {
            Map<String, Object> description = new LinkedHashMap<>();
            description.put("type", "dense");
            description.put("units", units);
            description.put("activation", activation);
            description.put("l2", l2);
            description.put("kernel_initializer", kernelInitializer);
            description.put("bias_initializer", biasInitializer);
            return description;
        }
    }

    private record DropoutSpec(double rate) implements LayerSpec {

        /** Keras's rate is the fraction dropped; DL4J's Dropout takes the probability of keeping an activation. */
        Layer toLayer() {
            return new DropoutLayer.Builder(1.0 - rate).build();
        }

        @Override
        public Map<String, Object> describe() {
            Map<String, Object> description = new LinkedHashMap<>();
            description.put("type", "dropout");
            description.put("rate", rate);
            return description;
        }
    }

    private KerasSpecTranslator() {
    }

    static ModelSpec translate(SpecNode root) {
        if (!root.isObject()) {
            throw root.isPresent()
                    ? root.invalid("a mapping with the keys input_shape, layers, loss and optionally "
                            + "optimizer, metrics, seed, kernel_initializer, normalization, engine")
                    : root.fail("the spec is empty; expected a mapping with the keys input_shape, layers and loss");
        }
        root.allowOnly(TOP_LEVEL_KEYS);

        List<Integer> inputShape = inputShape(root.get("input_shape"));
        int inputSize = flattenedSize(root.get("input_shape"), inputShape);
        String kernelInitializer = root.get("kernel_initializer").choice(KerasVocabulary.KERNEL_INITIALIZERS.keySet(),
                KerasVocabulary.DEFAULT_KERNEL_INITIALIZER, "kernel initializer");
        List<LayerSpec> layers = layers(root.get("layers"), kernelInitializer);
        Optimizer optimizer = OptimizerTranslator.parse(root.get("optimizer"));
        Loss loss = KerasVocabulary.LOSSES.get(
                root.get("loss").choice(KerasVocabulary.LOSSES.keySet(), null, "loss"));
        List<String> metrics = metrics(root.get("metrics"), loss);
        long seed = root.get("seed").longValue(DEFAULT_SEED);
        Normalization normalization = Normalization.valueOf(root.get("normalization").choice(
                List.of("none", "standardize", "minmax"), "none", "normalization").toUpperCase(java.util.Locale.ROOT));
        Engine engine = Engine.valueOf(root.get("engine").choice(List.of("auto", "dl4j", "dense"), "auto", "engine")
                .toUpperCase(java.util.Locale.ROOT));
        checkOutputLayer(layers, loss);

        MultiLayerConfiguration conf = configuration(inputSize, layers, optimizer, loss, kernelInitializer, seed, root);
        ConfigurationInspector.Facts facts = ConfigurationInspector.inspect(conf, root.source());

        Map<String, Object> description = new LinkedHashMap<>();
        description.put("source", root.source());
        description.put("format", "keras");
        description.put("input_shape", inputShape);
        description.put("input_size", inputSize);
        List<Object> layerDescriptions = new ArrayList<>();
        layers.forEach(layer -> layerDescriptions.add(layer.describe()));
        description.put("layers", layerDescriptions);
        description.put("optimizer", optimizer.describe());
        description.put("loss", loss.name());
        description.put("metrics", metrics);
        description.put("seed", seed);
        description.put("kernel_initializer", kernelInitializer);
        description.put("normalization", normalization.specName());
        description.put("bias_initializer", KerasVocabulary.DEFAULT_BIAS_INITIALIZER);
        description.put("output_size", facts.outputSize());
        description.put("target_encoding", facts.targetEncoding().name());
        description.put("parameter_count", facts.parameterCount());
        return ModelSpec.create(conf, root.source(), facts, metrics, normalization, engine, description);
    }

    private static List<Integer> inputShape(SpecNode node) {
        List<SpecNode> elements = node.elements(INPUT_SHAPE_EXPECTED);
        if (elements.isEmpty()) {
            throw node.invalid(INPUT_SHAPE_EXPECTED);
        }
        List<Integer> shape = new ArrayList<>();
        for (SpecNode element : elements) {
            shape.add(element.wholeNumber(1));
        }
        return List.copyOf(shape);
    }

    private static int flattenedSize(SpecNode node, List<Integer> shape) {
        long size = 1;
        for (int dimension : shape) {
            size *= dimension;
            if (size > Integer.MAX_VALUE) {
                throw node.invalid("a shape of at most " + Integer.MAX_VALUE + " features in all");
            }
        }
        return (int) size;
    }

    private static List<LayerSpec> layers(SpecNode node, String defaultKernelInitializer) {
        List<SpecNode> elements = node.elements(LAYERS_EXPECTED);
        if (elements.isEmpty()) {
            throw node.invalid(LAYERS_EXPECTED + ", with at least one dense layer");
        }
        List<LayerSpec> layers = new ArrayList<>();
        for (SpecNode element : elements) {
            if (!element.isObject()) {
                throw element.invalid(LAYER_EXPECTED);
            }
            String type = element.knownName(element.singleKeyOrName(LAYER_EXPECTED), LAYER_TYPES, "layer type");
            SpecNode settings = element.singleKeyValue();
            settings.requireObjectOrAbsent("a mapping of " + type + " settings");
            if (type.equals("dense")) {
                settings.allowOnly(DENSE_KEYS);
                layers.add(new Dense(settings,
                        settings.get("units").wholeNumber(1),
                        settings.get("activation").choice(KerasVocabulary.ACTIVATIONS.keySet(),
                                KerasVocabulary.DEFAULT_ACTIVATION, "activation"),
                        settings.get("l2").number(0.0, v -> v >= 0, "a number >= 0"),
                        settings.get("kernel_initializer").choice(KerasVocabulary.KERNEL_INITIALIZERS.keySet(),
                                defaultKernelInitializer, "kernel initializer"),
                        settings.get("bias_initializer").choice(KerasVocabulary.BIAS_INITIALIZERS.keySet(),
                                KerasVocabulary.DEFAULT_BIAS_INITIALIZER, "bias initializer")));
            } else {
                settings.allowOnly(DROPOUT_KEYS);
                layers.add(new DropoutSpec(settings.get("rate").number(v -> v >= 0 && v < 1,
                        "the fraction of inputs to drop, a number >= 0 and < 1")));
            }
        }
        if (!(layers.get(layers.size() - 1) instanceof Dense)) {
            SpecNode last = elements.get(elements.size() - 1);
            throw last.fail("the last layer is " + last.singleKeyOrName(LAYER_EXPECTED)
                    + "; expected dense, which becomes the output layer");
        }
        return layers;
    }

    /** The listed metrics, each known and fitting the loss's task: accuracy for classifiers, errors for regression. */
    private static List<String> metrics(SpecNode node, Loss loss) {
        if (!node.isPresent()) {
            return List.of();
        }
        List<String> fitting = loss.regression() ? KerasVocabulary.REGRESSION_METRICS
                : KerasVocabulary.CLASSIFICATION_METRICS;
        List<String> metrics = new ArrayList<>();
        for (SpecNode element : node.elements("a list of metric names, e.g. [accuracy] or [mae]")) {
            String metric = element.choice(KerasVocabulary.METRICS, null, "metric");
            if (!fitting.contains(metric)) {
                throw element.fail(SpecNode.quote(metric) + " is not allowed with the "
                        + (loss.regression() ? "regression" : "classification") + " loss " + loss.name()
                        + "; expected " + (fitting.size() == 1 ? fitting.get(0)
                                : String.join(", ", fitting.subList(0, fitting.size() - 1)) + " or "
                                        + fitting.get(fitting.size() - 1)));
            }
            if (!metrics.contains(metric)) {
                metrics.add(metric);
            }
        }
        return List.copyOf(metrics);
    }

    /** The combinations DL4J's output-layer validation rejects, caught here with the spec's key path. */
    private static void checkOutputLayer(List<LayerSpec> layers, Loss loss) {
        Dense output = (Dense) layers.get(layers.size() - 1);
        if (!loss.outputActivations().isEmpty() && !loss.outputActivations().contains(output.activation())) {
            throw output.node().get("activation").fail(SpecNode.quote(output.activation())
                    + " is not allowed on the output layer with loss " + loss.name() + "; expected "
                    + String.join(" or ", loss.outputActivations()));
        }
        if (output.activation().equals("softmax") && output.units() < 2) {
            throw output.node().get("units").fail(output.units() + " is not allowed on a softmax output layer; "
                    + "expected a whole number >= 2, since softmax over one unit is always 1.0");
        }
    }

    private static MultiLayerConfiguration configuration(int inputSize, List<LayerSpec> layers, Optimizer optimizer,
            Loss loss, String kernelInitializer, long seed, SpecNode root) {
        NeuralNetConfiguration.ListBuilder list = new NeuralNetConfiguration.Builder()
                .seed(seed)
                .updater(optimizer.updater())
                .weightInit(KerasVocabulary.KERNEL_INITIALIZERS.get(kernelInitializer).get())
                .biasInit(KerasVocabulary.BIAS_INITIALIZERS.get(KerasVocabulary.DEFAULT_BIAS_INITIALIZER))
                .list();
        int outputIndex = layers.size() - 1;
        for (int i = 0; i < layers.size(); i++) {
            LayerSpec layer = layers.get(i);
            if (layer instanceof Dense dense) {
                list.layer(i == outputIndex ? dense.toOutputLayer(loss) : dense.toHiddenLayer());
            } else {
                list.layer(((DropoutSpec) layer).toLayer());
            }
        }
        list.setInputType(InputType.feedForward(inputSize));
        try {
            return list.build();
        } catch (RuntimeException e) {
            // Every rule DL4J checks should already be checked above; this keeps a missed one a SpecException.
            throw new SpecException(root.source(), "", "DL4J rejected the network: " + e.getMessage(), e);
        }
    }
}
