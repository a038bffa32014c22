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
 * The layers of a Keras-terms spec, as {@link KerasLayerReader} reads them: which input shape each takes and gives,
 * and the DL4J layer it becomes. Shapes are checked here so that a kernel too large for its input or a dense layer
 * on an image fails with the spec's key path, not deep inside DL4J.
 */
final class KerasLayers {

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
