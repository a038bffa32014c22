package dptrain.spec;

import dptrain.spec.KerasVocabulary.Loss;
import dptrain.spec.LayerShape.Kind;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.DropoutLayer;
import org.deeplearning4j.nn.conf.layers.EmbeddingSequenceLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.LSTM;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.conf.layers.recurrent.LastTimeStep;
import org.deeplearning4j.nn.conf.layers.recurrent.SimpleRnn;

/**
 * The layers of a Keras-terms spec: how each is read (Keras names, arguments and defaults), which input shape it
 * takes and gives, and the DL4J layer it becomes. Shapes are checked here so that a kernel too large for its
 * input or a dense layer on an image fails with the spec's key path, not deep inside DL4J.
 */
final class KerasLayers {

    static final List<String> LAYER_TYPES = List.of("dense", "dropout", "conv2d", "max_pooling2d",
            "average_pooling2d", "global_average_pooling2d", "global_max_pooling2d", "flatten", "batch_normalization",
            "embedding", "lstm", "simple_rnn", "gru");

    private static final List<String> DENSE_KEYS =
            List.of("units", "activation", "l2", "kernel_initializer", "bias_initializer");
    private static final List<String> DROPOUT_KEYS = List.of("rate");
    private static final List<String> CONV_KEYS = List.of("filters", "kernel_size", "strides", "padding", "activation",
            "l2", "kernel_initializer", "bias_initializer");
    private static final List<String> POOLING_KEYS = List.of("pool_size", "strides", "padding");
    private static final List<String> BATCH_NORMALIZATION_KEYS = List.of("momentum", "epsilon");
    private static final List<String> EMBEDDING_KEYS = List.of("input_dim", "output_dim", "embeddings_initializer");
    private static final List<String> LSTM_KEYS = List.of("units", "activation", "recurrent_activation",
            "return_sequences", "kernel_initializer");
    private static final List<String> SIMPLE_RNN_KEYS = List.of("units", "activation", "return_sequences",
            "kernel_initializer");
    private static final List<String> PADDINGS = List.of("valid", "same");
    private static final String PAIR_EXPECTED = "a whole number >= 1 or a list of two, e.g. 3 or [3, 3]";

    /** A layer as read from the spec, with Keras defaults applied. */
    interface LayerSpec {

        /** The layer's settings, e.g. {@code layers[2].conv2d}; errors about the layer name it. */
        SpecNode node();

        /**
         * The shape this layer gives for {@code input}.
         *
         * @throws SpecException naming the layer when it cannot take {@code input}
         */
        LayerShape outputShape(LayerShape input);

        /**
         * The DL4J layer for {@code input} (the shape {@link #outputShape} accepted); null for a layer that only
         * changes how its input is seen ({@code flatten}).
         */
        Layer toLayer(LayerShape input);

        Map<String, Object> describe();
    }

    private KerasLayers() {
    }

    /** Reads the settings of one layer of type {@code type}, one of {@link #LAYER_TYPES}. */
    static LayerSpec read(String type, SpecNode settings, String defaultKernelInitializer) {
        settings.requireObjectOrAbsent("a mapping of " + type + " settings");
        switch (type) {
            case "dense" -> {
                settings.allowOnly(DENSE_KEYS);
                return new Dense(settings, settings.get("units").wholeNumber(1), activation(settings, "linear"),
                        l2(settings), kernelInitializer(settings.get("kernel_initializer"), defaultKernelInitializer),
                        biasInitializer(settings));
            }
            case "dropout" -> {
                settings.allowOnly(DROPOUT_KEYS);
                return new DropoutSpec(settings, settings.get("rate").number(v -> v >= 0 && v < 1,
                        "the fraction of inputs to drop, a number >= 0 and < 1"));
            }
            case "conv2d" -> {
                settings.allowOnly(CONV_KEYS);
                int[] kernel = pair(settings.get("kernel_size"), null);
                return new Conv2D(settings, settings.get("filters").wholeNumber(1), kernel,
                        pair(settings.get("strides"), new int[] {1, 1}), padding(settings),
                        activation(settings, "linear"), l2(settings),
                        kernelInitializer(settings.get("kernel_initializer"), defaultKernelInitializer),
                        biasInitializer(settings));
            }
            case "max_pooling2d", "average_pooling2d" -> {
                settings.allowOnly(POOLING_KEYS);
                int[] pool = pair(settings.get("pool_size"), new int[] {2, 2});
                return new Pooling2D(settings, type, pool, pair(settings.get("strides"), pool), padding(settings));
            }
            case "global_average_pooling2d", "global_max_pooling2d" -> {
                settings.allowOnly(List.of());
                return new GlobalPooling2D(settings, type);
            }
            case "flatten" -> {
                settings.allowOnly(List.of());
                return new Flatten(settings);
            }
            case "batch_normalization" -> {
                settings.allowOnly(BATCH_NORMALIZATION_KEYS);
                return new BatchNormalizationSpec(settings,
                        settings.get("momentum").number(0.99, v -> v >= 0 && v < 1, "a number >= 0 and < 1"),
                        settings.get("epsilon").number(0.001, v -> v > 0, "a number > 0"));
            }
            case "embedding" -> {
                settings.allowOnly(EMBEDDING_KEYS);
                return new Embedding(settings, settings.get("input_dim").wholeNumber(1),
                        settings.get("output_dim").wholeNumber(1),
                        kernelInitializer(settings.get("embeddings_initializer"), "random_uniform"));
            }
            case "lstm", "simple_rnn" -> {
                boolean lstm = type.equals("lstm");
                settings.allowOnly(lstm ? LSTM_KEYS : SIMPLE_RNN_KEYS);
                return new Recurrent(settings, type, settings.get("units").wholeNumber(1),
                        activation(settings, "tanh"),
                        lstm ? settings.get("recurrent_activation").choice(KerasVocabulary.ACTIVATIONS.keySet(),
                                "sigmoid", "activation") : null,
                        settings.get("return_sequences").bool(false),
                        kernelInitializer(settings.get("kernel_initializer"), defaultKernelInitializer));
            }
            case "gru" -> throw settings.fail("gru is not available: DL4J 1.0.0-M2.1 has no GRU layer for a "
                    + "MultiLayerNetwork; expected lstm or simple_rnn");
            default -> throw new IllegalArgumentException("unknown layer type " + type);
        }
    }

    private static String activation(SpecNode settings, String defaultName) {
        return settings.get("activation").choice(KerasVocabulary.ACTIVATIONS.keySet(), defaultName, "activation");
    }

    private static double l2(SpecNode settings) {
        return settings.get("l2").number(0.0, v -> v >= 0, "a number >= 0");
    }

    private static String kernelInitializer(SpecNode node, String defaultName) {
        return node.choice(KerasVocabulary.KERNEL_INITIALIZERS.keySet(), defaultName, "kernel initializer");
    }

    private static String biasInitializer(SpecNode settings) {
        return settings.get("bias_initializer").choice(KerasVocabulary.BIAS_INITIALIZERS.keySet(),
                KerasVocabulary.DEFAULT_BIAS_INITIALIZER, "bias initializer");
    }

    private static String padding(SpecNode settings) {
        return settings.get("padding").choice(PADDINGS, "valid", "padding");
    }

    /** Keras's int-or-tuple arguments: {@code 3} means {@code [3, 3]}; {@code defaultValue} when absent. */
    private static int[] pair(SpecNode node, int[] defaultValue) {
        if (!node.isPresent() && defaultValue != null) {
            return defaultValue.clone();
        }
        node.requirePresent(PAIR_EXPECTED);
        if (node.isArray()) {
            List<SpecNode> elements = node.elements(PAIR_EXPECTED);
            if (elements.size() != 2) {
                throw node.invalid(PAIR_EXPECTED);
            }
            return new int[] {elements.get(0).wholeNumber(1), elements.get(1).wholeNumber(1)};
        }
        int both = node.wholeNumber(1);
        return new int[] {both, both};
    }

    private static List<Integer> list(int[] pair) {
        return List.of(pair[0], pair[1]);
    }

    /** Keras's output length along one axis: "valid" keeps whole windows only, "same" pads to ceil(n / stride). */
    private static int outputLength(int input, int window, int stride, String padding) {
        if (padding.equals("same")) {
            return (input + stride - 1) / stride;
        }
        return input < window ? 0 : (input - window) / stride + 1;
    }

    private static ConvolutionMode convolutionMode(String padding) {
        return padding.equals("same") ? ConvolutionMode.Same : ConvolutionMode.Truncate;
    }

    /** The failure for a layer given an input of the wrong kind. */
    private static SpecException wrongInput(SpecNode node, String type, String takes, LayerShape input, String advice) {
        return node.fail(type + " takes " + takes + ", but its input is " + input.describe() + "; expected " + advice);
    }

    private static LayerShape requireImage(SpecNode node, String type, LayerShape input) {
        if (input.kind() != Kind.IMAGE) {
            throw wrongInput(node, type, "an image (height, width, channels)", input,
                    "input_shape [height, width, channels] and only image layers (conv2d, pooling, "
                            + "batch_normalization, dropout) before it");
        }
        return input;
    }

    private static Map<String, Object> described(String type) {
        Map<String, Object> description = new LinkedHashMap<>();
        description.put("type", type);
        return description;
    }

    /** {@code dense}: a DenseLayer, or the OutputLayer when last. */
    record Dense(SpecNode node, int units, String activation, double l2, String kernelInitializer,
                 String biasInitializer) implements LayerSpec {

        @Override
        public LayerShape outputShape(LayerShape input) {
            switch (input.kind()) {
                case IMAGE -> throw node.fail("dense takes a flat vector, but its input is " + input.describe()
                        + "; expected flatten or global_average_pooling2d before it (Keras would apply dense to the "
                        + "last axis only)");
                case SEQUENCE -> throw node.fail("dense takes a flat vector, but its input is " + input.describe()
                        + "; expected return_sequences: false on the recurrent layer before it");
                default -> {
                    return LayerShape.flat(units);
                }
            }
        }

        @Override
        public Layer toLayer(LayerShape input) {
            return withWeights(new DenseLayer.Builder().nOut(units), activation, l2, kernelInitializer,
                    biasInitializer);
        }

        Layer toOutputLayer(Loss loss) {
            return withWeights(new OutputLayer.Builder(loss.function().get()).nOut(units), activation, l2,
                    kernelInitializer, biasInitializer);
        }

        @Override
        public Map<String, Object> describe() {
            Map<String, Object> description = described("dense");
            description.put("units", units);
            description.put("activation", activation);
            description.put("l2", l2);
            description.put("kernel_initializer", kernelInitializer);
            description.put("bias_initializer", biasInitializer);
            return description;
        }
    }

    /** Activation, initializers and L2, the same for dense and convolution layers. */
    private static <B extends BaseLayer.Builder<B>> Layer withWeights(B builder, String activation, double l2,
            String kernelInitializer, String biasInitializer) {
        builder.activation(KerasVocabulary.ACTIVATIONS.get(activation).get())
                .weightInit(KerasVocabulary.KERNEL_INITIALIZERS.get(kernelInitializer).get())
                .biasInit(KerasVocabulary.BIAS_INITIALIZERS.get(biasInitializer));
        if (l2 > 0) {
            // DL4J adds l2/2 * sum(w^2) to the loss, Keras adds l2 * sum(w^2); doubling keeps Keras's penalty.
            builder.l2(2.0 * l2);
        }
        return builder.build();
    }

    /** {@code dropout}: a DropoutLayer, on any input. */
    record DropoutSpec(SpecNode node, double rate) implements LayerSpec {

        @Override
        public LayerShape outputShape(LayerShape input) {
            return input;
        }

        /** Keras's rate is the fraction dropped; DL4J's Dropout takes the probability of keeping an activation. */
        @Override
        public Layer toLayer(LayerShape input) {
            return new DropoutLayer.Builder(1.0 - rate).build();
        }

        @Override
        public Map<String, Object> describe() {
            Map<String, Object> description = described("dropout");
            description.put("rate", rate);
            return description;
        }
    }

    /** {@code conv2d}: a ConvolutionLayer; "valid" padding is DL4J's Truncate mode, "same" its Same mode. */
    record Conv2D(SpecNode node, int filters, int[] kernel, int[] strides, String padding, String activation,
                  double l2, String kernelInitializer, String biasInitializer) implements LayerSpec {

        @Override
        public LayerShape outputShape(LayerShape input) {
            requireImage(node, "conv2d", input);
            int height = outputLength(input.dim(0), kernel[0], strides[0], padding);
            int width = outputLength(input.dim(1), kernel[1], strides[1], padding);
            if (height < 1 || width < 1) {
                throw node.get("kernel_size").fail(list(kernel) + " is larger than its input, "
                        + input.describe() + "; expected a kernel of at most " + input.dim(0) + " x " + input.dim(1)
                        + ", or padding: same");
            }
            return LayerShape.image(height, width, filters);
        }

        @Override
        public Layer toLayer(LayerShape input) {
            return withWeights(new ConvolutionLayer.Builder(kernel[0], kernel[1]).stride(strides[0], strides[1])
                    .convolutionMode(convolutionMode(padding)).nOut(filters), activation, l2, kernelInitializer,
                    biasInitializer);
        }

        @Override
        public Map<String, Object> describe() {
            Map<String, Object> description = described("conv2d");
            description.put("filters", filters);
            description.put("kernel_size", list(kernel));
            description.put("strides", list(strides));
            description.put("padding", padding);
            description.put("activation", activation);
            description.put("l2", l2);
            description.put("kernel_initializer", kernelInitializer);
            description.put("bias_initializer", biasInitializer);
            return description;
        }
    }

    /** {@code max_pooling2d} and {@code average_pooling2d}: a SubsamplingLayer. */
    record Pooling2D(SpecNode node, String type, int[] pool, int[] strides, String padding) implements LayerSpec {

        @Override
        public LayerShape outputShape(LayerShape input) {
            requireImage(node, type, input);
            int height = outputLength(input.dim(0), pool[0], strides[0], padding);
            int width = outputLength(input.dim(1), pool[1], strides[1], padding);
            if (height < 1 || width < 1) {
                throw node.get("pool_size").fail(list(pool) + " is larger than its input, " + input.describe()
                        + "; expected a pool of at most " + input.dim(0) + " x " + input.dim(1)
                        + ", or padding: same");
            }
            return LayerShape.image(height, width, input.dim(2));
        }

        @Override
        public Layer toLayer(LayerShape input) {
            PoolingType pooling = type.equals("max_pooling2d") ? PoolingType.MAX : PoolingType.AVG;
            return new SubsamplingLayer.Builder(pooling).kernelSize(pool[0], pool[1]).stride(strides[0], strides[1])
                    .convolutionMode(convolutionMode(padding))
                    // Keras averages over the window's cells inside the image only.
                    .avgPoolIncludePadInDivisor(false)
                    .build();
        }

        @Override
        public Map<String, Object> describe() {
            Map<String, Object> description = described(type);
            description.put("pool_size", list(pool));
            description.put("strides", list(strides));
            description.put("padding", padding);
            return description;
        }
    }

    /** {@code global_average_pooling2d} and {@code global_max_pooling2d}: a GlobalPoolingLayer, image to channels. */
    record GlobalPooling2D(SpecNode node, String type) implements LayerSpec {

        @Override
        public LayerShape outputShape(LayerShape input) {
            return LayerShape.flat(requireImage(node, type, input).dim(2));
        }

        @Override
        public Layer toLayer(LayerShape input) {
            return new GlobalPoolingLayer.Builder(type.equals("global_max_pooling2d") ? PoolingType.MAX
                    : PoolingType.AVG).build();
        }

        @Override
        public Map<String, Object> describe() {
            return described(type);
        }
    }

    /**
     * {@code flatten}: no DL4J layer; the translator puts DL4J's CnnToFeedForwardPreProcessor before the next
     * layer. It flattens channels first, Keras channels last: a fixed permutation of the next layer's inputs.
     */
    record Flatten(SpecNode node) implements LayerSpec {

        @Override
        public LayerShape outputShape(LayerShape input) {
            if (input.kind() == Kind.SEQUENCE) {
                throw node.fail("flatten of " + input.describe() + " is not available (DL4J would read every time "
                        + "step as an example); expected return_sequences: false on the recurrent layer before it");
            }
            return LayerShape.flat(input.size());
        }

        @Override
        public Layer toLayer(LayerShape input) {
            return null;
        }

        @Override
        public Map<String, Object> describe() {
            return described("flatten");
        }
    }

    /**
     * {@code batch_normalization}: DL4J's BatchNormalization, per channel of an image or per feature of a vector.
     * Keras's momentum is DL4J's decay; the running mean and variance are parameters in DL4J, so they are averaged
     * with the weights.
     */
    record BatchNormalizationSpec(SpecNode node, double momentum, double epsilon) implements LayerSpec {

        @Override
        public LayerShape outputShape(LayerShape input) {
            if (input.kind() != Kind.IMAGE && input.kind() != Kind.FLAT) {
                throw wrongInput(node, "batch_normalization", "an image or a flat vector", input,
                        "it after flatten, or on images (DL4J 1.0.0-M2.1 does not normalize sequences)");
            }
            return input;
        }

        @Override
        public Layer toLayer(LayerShape input) {
            return new BatchNormalization.Builder().decay(momentum).eps(epsilon).build();
        }

        @Override
        public Map<String, Object> describe() {
            Map<String, Object> description = described("batch_normalization");
            description.put("momentum", momentum);
            description.put("epsilon", epsilon);
            return description;
        }
    }

    /** {@code embedding}: an EmbeddingSequenceLayer (no bias) that turns token ids into a sequence of vectors. */
    record Embedding(SpecNode node, int inputDim, int outputDim, String initializer) implements LayerSpec {

        @Override
        public LayerShape outputShape(LayerShape input) {
            if (input.kind() != Kind.TOKENS) {
                throw wrongInput(node, "embedding", "token ids", input,
                        "embedding as the first layer, with input_shape [timesteps]");
            }
            return LayerShape.sequence(input.dim(0), outputDim);
        }

        @Override
        public Layer toLayer(LayerShape input) {
            return new EmbeddingSequenceLayer.Builder().nIn(inputDim).nOut(outputDim).hasBias(false)
                    .inputLength(input.dim(0))
                    .weightInit(KerasVocabulary.KERNEL_INITIALIZERS.get(initializer).get()).build();
        }

        @Override
        public Map<String, Object> describe() {
            Map<String, Object> description = described("embedding");
            description.put("input_dim", inputDim);
            description.put("output_dim", outputDim);
            description.put("embeddings_initializer", initializer);
            return description;
        }
    }

    /**
     * {@code lstm} and {@code simple_rnn}: DL4J's LSTM and SimpleRnn; without {@code return_sequences} wrapped in
     * LastTimeStep, which passes on the last step's output as Keras does.
     */
    record Recurrent(SpecNode node, String type, int units, String activation, String recurrentActivation,
                     boolean returnSequences, String kernelInitializer) implements LayerSpec {

        @Override
        public LayerShape outputShape(LayerShape input) {
            if (input.kind() != Kind.SEQUENCE) {
                throw wrongInput(node, type, "a sequence (timesteps, features)", input,
                        "input_shape [timesteps, features], an embedding, or return_sequences: true on the "
                                + "recurrent layer before it");
            }
            return returnSequences ? LayerShape.sequence(input.dim(0), units) : LayerShape.flat(units);
        }

        @Override
        public Layer toLayer(LayerShape input) {
            Layer layer;
            if (type.equals("lstm")) {
                layer = new LSTM.Builder().nOut(units).activation(KerasVocabulary.ACTIVATIONS.get(activation).get())
                        .gateActivationFunction(KerasVocabulary.ACTIVATIONS.get(recurrentActivation).get())
                        .weightInit(KerasVocabulary.KERNEL_INITIALIZERS.get(kernelInitializer).get()).build();
            } else {
                layer = new SimpleRnn.Builder().nOut(units)
                        .activation(KerasVocabulary.ACTIVATIONS.get(activation).get())
                        .weightInit(KerasVocabulary.KERNEL_INITIALIZERS.get(kernelInitializer).get()).build();
            }
            return returnSequences ? layer : new LastTimeStep(layer);
        }

        @Override
        public Map<String, Object> describe() {
            Map<String, Object> description = described(type);
            description.put("units", units);
            description.put("activation", activation);
            if (recurrentActivation != null) {
                description.put("recurrent_activation", recurrentActivation);
            }
            description.put("return_sequences", returnSequences);
            description.put("kernel_initializer", kernelInitializer);
            return description;
        }
    }
}
