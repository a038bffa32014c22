package dptrain.spec;

import dptrain.spec.KerasLayers.BatchNormalizationSpec;
import dptrain.spec.KerasLayers.Conv2D;
import dptrain.spec.KerasLayers.Dense;
import dptrain.spec.KerasLayers.DropoutSpec;
import dptrain.spec.KerasLayers.Embedding;
import dptrain.spec.KerasLayers.Flatten;
import dptrain.spec.KerasLayers.GlobalPooling2D;
import dptrain.spec.KerasLayers.LayerSpec;
import dptrain.spec.KerasLayers.Pooling2D;
import dptrain.spec.KerasLayers.Recurrent;
import java.util.List;

/**
 * Reads the layers of a Keras-terms spec into the layer specs of {@link KerasLayers}: each layer type's Keras name,
 * the arguments it allows, their defaults and their checks.
 */
final class KerasLayerReader {

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

    private KerasLayerReader() {
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
}
