package dptrain.spec;

import dptrain.spec.KerasLayers.Dense;
import dptrain.spec.KerasLayers.DropoutSpec;
import dptrain.spec.KerasLayers.LayerSpec;
import dptrain.spec.KerasVocabulary.Loss;
import dptrain.spec.OptimizerTranslator.Optimizer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.preprocessor.CnnToFeedForwardPreProcessor;

/** Turns a spec written in Keras terms into a DL4J MultiLayerConfiguration; every check happens while reading. */
final class KerasSpecTranslator {

    static final long DEFAULT_SEED = 42;

    static final List<String> TOP_LEVEL_KEYS =
            List.of("input_shape", "layers", "optimizer", "loss", "metrics", "seed", "kernel_initializer",
                    "normalization", "engine");
    private static final String INPUT_SHAPE_EXPECTED = "a list of whole numbers >= 1, e.g. [784], [28, 28, 1] "
            + "(height, width, channels) or [100, 8] (timesteps, features)";
    private static final String LAYERS_EXPECTED =
            "a list of layers, e.g. [{dense: {units: 512, activation: relu}}, "
                    + "{dense: {units: 10, activation: softmax}}]";
    private static final String LAYER_EXPECTED = "a mapping from one layer type (e.g. dense, conv2d or lstm) to its "
            + "settings, e.g. {dense: {units: 512, activation: relu}}";

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

        List<LayerShape> shapes = shapes(root.get("input_shape"), inputShape, layers);
        MultiLayerConfiguration conf = configuration(shapes, layers, optimizer, loss, kernelInitializer, seed, root);
        ConfigurationInspector.Facts facts = ConfigurationInspector.inspect(conf, root.source());

        Map<String, Object> description = new LinkedHashMap<>();
        description.put("source", root.source());
        description.put("format", "keras");
        description.put("input_shape", inputShape);
        description.put("input_size", inputSize);
        List<Object> layerDescriptions = new ArrayList<>();
        for (int i = 0; i < layers.size(); i++) {
            layerDescriptions.add(layers.get(i).describe());
        }
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
            String type = element.knownName(element.singleKeyOrName(LAYER_EXPECTED), KerasLayerReader.LAYER_TYPES,
                    "layer type");
            layers.add(KerasLayerReader.read(type, element.singleKeyValue(), defaultKernelInitializer));
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

    /**
     * What DL4J is told about the flat rows dptrain feeds. A one-channel image row is DL4J's convolutionalFlat; with
     * more channels, and for sequences, the row is in Keras's channels-last order, which
     * {@link ChannelsLastRowsPreProcessor} turns into DL4J's channels-first arrays. Token ids are fed as they are.
     */
    private static InputType inputType(LayerShape input, NeuralNetConfiguration.ListBuilder list) {
        switch (input.kind()) {
            case IMAGE -> {
                if (input.dim(2) == 1) {
                    return InputType.convolutionalFlat(input.dim(0), input.dim(1), 1);
                }
                list.inputPreProcessor(0, new ChannelsLastRowsPreProcessor(new long[] {input.dim(0), input.dim(1),
                        input.dim(2)}));
                return InputType.feedForward(input.size());
            }
            case SEQUENCE -> {
                list.inputPreProcessor(0, new ChannelsLastRowsPreProcessor(new long[] {input.dim(0), input.dim(1)}));
                return InputType.feedForward(input.size());
            }
            case TOKENS -> {
                // The embedding's nIn is the vocabulary size, which the input type (one id per step) must not replace.
                list.overrideNinUponBuild(false);
                return InputType.recurrent(1, input.dim(0));
            }
            default -> {
                return InputType.feedForward(input.size());
            }
        }
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

    /**
     * The shape of the input (first) and of every layer's output. A rank-2 or rank-3 input_shape is a sequence or an
     * image unless the network starts with dense or flatten: then it is flattened, as dptrain always did.
     */
    private static List<LayerShape> shapes(SpecNode node, List<Integer> inputShape, List<LayerSpec> layers) {
        LayerSpec first = layers.stream().filter(layer -> !(layer instanceof DropoutSpec)).findFirst()
                .orElse(layers.get(0));
        boolean flattened = first instanceof Dense || first instanceof KerasLayers.Flatten;
        LayerShape input;
        if (inputShape.size() == 1 && first instanceof KerasLayers.Embedding) {
            input = LayerShape.tokens(inputShape.get(0));
        } else if (inputShape.size() == 2 && !flattened) {
            input = LayerShape.sequence(inputShape.get(0), inputShape.get(1));
        } else if (inputShape.size() == 3 && !flattened) {
            input = LayerShape.image(inputShape.get(0), inputShape.get(1), inputShape.get(2));
        } else {
            input = LayerShape.flat(flattenedSize(node, inputShape));
        }
        List<LayerShape> shapes = new ArrayList<>();
        shapes.add(input);
        for (LayerSpec layer : layers) {
            shapes.add(layer.outputShape(shapes.get(shapes.size() - 1)));
        }
        return shapes;
    }

    private static MultiLayerConfiguration configuration(List<LayerShape> shapes, List<LayerSpec> layers,
            Optimizer optimizer, Loss loss, String kernelInitializer, long seed, SpecNode root) {
        NeuralNetConfiguration.ListBuilder list = new NeuralNetConfiguration.Builder()
                .seed(seed)
                .updater(optimizer.updater())
                .weightInit(KerasVocabulary.KERNEL_INITIALIZERS.get(kernelInitializer).get())
                .biasInit(KerasVocabulary.BIAS_INITIALIZERS.get(KerasVocabulary.DEFAULT_BIAS_INITIALIZER))
                .list();
        int outputIndex = layers.size() - 1;
        int dl4jIndex = 0;
        LayerShape flattenedImage = null;
        for (int i = 0; i < layers.size(); i++) {
            LayerSpec layer = layers.get(i);
            Layer dl4jLayer = i == outputIndex ? ((Dense) layer).toOutputLayer(loss) : layer.toLayer(shapes.get(i));
            if (dl4jLayer == null) { // flatten
                if (shapes.get(i).kind() == LayerShape.Kind.IMAGE) {
                    flattenedImage = shapes.get(i);
                }
                continue;
            }
            if (flattenedImage != null) {
                // Explicit, so that a layer that also takes images (batch_normalization, dropout) sees a vector, as
                // in Keras.
                list.inputPreProcessor(dl4jIndex, new CnnToFeedForwardPreProcessor(flattenedImage.dim(0),
                        flattenedImage.dim(1), flattenedImage.dim(2)));
                flattenedImage = null;
            }
            list.layer(dl4jLayer);
            dl4jIndex++;
        }
        list.setInputType(inputType(shapes.get(0), list));
        try {
            return list.build();
        } catch (RuntimeException e) {
            // Every rule DL4J checks should already be checked above; this keeps a missed one a SpecException.
            throw new SpecException(root.source(), "", "DL4J rejected the network: " + e.getMessage(), e);
        }
    }
}
