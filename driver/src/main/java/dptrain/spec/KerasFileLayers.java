package dptrain.spec;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Set;

/**
 * The layers of a Keras Sequential model file that dptrain trains, checked in Keras's terms before DL4J's import
 * translates them: each layer's type, and the kind of input it gets (a vector, an image, a sequence or token ids), as
 * Keras would fail when building the model. Refusals name the layer by its index in {@code config.layers}, its name
 * and its Keras class.
 */
final class KerasFileLayers {

    static final String SUPPORTED = "a Sequential stack of Dense, Dropout, Activation, Flatten, Conv2D, "
            + "MaxPooling2D, AveragePooling2D, GlobalAveragePooling2D, GlobalMaxPooling2D, BatchNormalization, "
            + "Embedding (first), LSTM and SimpleRNN layers (and an optional InputLayer), the last one Dense";

    private static final Set<String> POOLING = Set.of("MaxPooling2D", "AveragePooling2D");
    private static final Set<String> GLOBAL_POOLING = Set.of("GlobalAveragePooling2D", "GlobalMaxPooling2D");
    private static final Set<String> RECURRENT = Set.of("LSTM", "SimpleRNN");
    private static final Set<String> ANY_INPUT = Set.of("Dropout", "Activation");

    /** What a layer gets: flat rows, (height, width, channels) images, (timesteps, features) sequences, token ids. */
    private enum Kind {
        VECTOR("a vector"), IMAGE("an image (height, width, channels)"), SEQUENCE("a sequence (timesteps, features)"),
        TOKENS("token ids");

        private final String text;

        Kind(String text) {
            this.text = text;
        }
    }

    /**
     * What the check found: the input shape without the batch axis; whether the rows must be reshaped to it before
     * the first layer (an image or a sequence); and whether they reach the layers flat as DL4J's import cannot
     * know (a vector, or a Flatten right after the input), so the preprocessors it made for that input go.
     */
    record Stack(List<Integer> inputShape, boolean reshapeRows, boolean flatRows) {
    }

    private KerasFileLayers() {
    }

    static Stack check(JsonNode layers, String layersPath, List<Integer> inputShape, String source) {
        Kind kind = inputShape.size() == 1 ? Kind.VECTOR : inputShape.size() == 2 ? Kind.SEQUENCE : Kind.IMAGE;
        boolean reshapeRows = kind != Kind.VECTOR;
        boolean flatRows = kind == Kind.VECTOR;
        boolean atInput = true;
        int lastIndex = layers.size() - 1;
        for (int i = 0; i < layers.size(); i++) {
            JsonNode layer = layers.get(i);
            String path = layersPath + "[" + i + "]";
            String type = layer.path("class_name").asText("");
            JsonNode config = layer.path("config");
            String named = "layer " + i + " " + SpecNode.quote(config.path("name").asText("")) + " (" + type + ")";
            String shapeText = atInput ? "inputs of shape " + inputShape : kind.text;
            switch (type) {
                case "InputLayer" -> {
                    if (i != 0) {
                        throw new SpecException(source, path, named + " is not allowed after the first layer; "
                                + "expected an InputLayer only at the start of the stack");
                    }
                    continue;
                }
                case "Dropout", "Activation" -> {
                    continue;
                }
                case "Flatten" -> {
                    if (kind == Kind.SEQUENCE && !atInput) {
                        throw new SpecException(source, path, named + " gets " + shapeText + ", which dptrain cannot "
                                + "import flattened; expected return_sequences: false on the recurrent layer before "
                                + "it, and no Flatten");
                    }
                    if (atInput) {
                        reshapeRows = false; // the rows arrive flat, in the order Keras's Flatten gives
                        flatRows = true;
                    }
                    kind = Kind.VECTOR;
                }
                case "Dense" -> {
                    if (kind != Kind.VECTOR) {
                        throw new SpecException(source, path, named + " gets " + shapeText + ", and Keras applies "
                                + "Dense to their last axis only; expected a Flatten layer before it, because dptrain "
                                + "feeds flat feature vectors" + (kind == Kind.SEQUENCE
                                ? " (or return_sequences: false on the recurrent layer before it)" : ""));
                    }
                    checkNoRegularizers(config, path, source);
                }
                case "Conv2D", "MaxPooling2D", "AveragePooling2D", "GlobalAveragePooling2D", "GlobalMaxPooling2D" -> {
                    requireKind(kind, Kind.IMAGE, named, shapeText, path, source);
                    checkChannelsLast(config, named, path, source);
                    if (type.equals("Conv2D")) {
                        checkNoRegularizers(config, path, source);
                    }
                    kind = GLOBAL_POOLING.contains(type) ? Kind.VECTOR : Kind.IMAGE;
                }
                case "BatchNormalization" -> {
                    if (kind != Kind.IMAGE && kind != Kind.VECTOR) {
                        throw new SpecException(source, path, named + " gets " + shapeText + "; expected an image or a "
                                + "vector, because DL4J's import normalizes those only");
                    }
                    checkLastAxis(config, kind == Kind.IMAGE ? 3 : 1, named, path, source);
                }
                case "Embedding" -> {
                    if (!atInput || inputShape.size() != 1) {
                        throw new SpecException(source, path, named + " gets " + shapeText + "; expected Embedding "
                                + "as the first layer, on token ids of shape [timesteps]");
                    }
                    kind = Kind.SEQUENCE;
                    flatRows = false; // token ids go to the embedding as they are; later preprocessors stay
                }
                case "LSTM", "SimpleRNN" -> {
                    requireKind(kind, Kind.SEQUENCE, named, shapeText, path, source);
                    for (String flag : List.of("go_backwards", "return_state", "stateful")) {
                        if (config.path(flag).asBoolean(false)) {
                            throw new SpecException(source, path + ".config." + flag, "true is not supported for "
                                    + named + "; expected false");
                        }
                    }
                    kind = config.path("return_sequences").asBoolean(false) ? Kind.SEQUENCE : Kind.VECTOR;
                }
                default -> throw new SpecException(source, path, named + " is not supported; expected " + SUPPORTED);
            }
            atInput = false;
        }
        JsonNode last = layers.get(lastIndex);
        if (!last.path("class_name").asText("").equals("Dense")) {
            throw new SpecException(source, layersPath + "[" + lastIndex + "]", "the last layer is layer " + lastIndex
                    + " " + SpecNode.quote(last.path("config").path("name").asText("")) + " ("
                    + last.path("class_name").asText("") + "); expected Dense, which becomes the output layer with "
                    + "the loss");
        }
        return new Stack(inputShape, reshapeRows, flatRows);
    }

    private static void requireKind(Kind kind, Kind expected, String named, String shapeText, String path,
                                    String source) {
        if (kind != expected) {
            throw new SpecException(source, path, named + " gets " + shapeText + "; expected " + expected.text);
        }
    }

    /** DL4J's import keeps Keras's channels-last layout (NHWC); channels_first rows would need other preprocessors. */
    private static void checkChannelsLast(JsonNode config, String named, String path, String source) {
        String format = config.path("data_format").asText("channels_last");
        if (!format.equals("channels_last")) {
            throw new SpecException(source, path + ".config.data_format", SpecNode.quote(format) + " is not supported "
                    + "for " + named + "; expected \"channels_last\", the order in which dptrain feeds image rows");
        }
    }

    private static void checkLastAxis(JsonNode config, int lastAxis, String named, String path, String source) {
        JsonNode axis = config.path("axis");
        JsonNode single = axis.isArray() && axis.size() == 1 ? axis.get(0) : axis;
        if (!axis.isMissingNode() && !(single.isIntegralNumber() && (single.asInt() == -1
                || single.asInt() == lastAxis))) {
            throw new SpecException(source, path + ".config.axis", KerasTrainingConfig.shown(axis) + " is not "
                    + "supported for " + named + "; expected the last axis, -1 or " + lastAxis + " (Keras's default)");
        }
    }

    private static void checkNoRegularizers(JsonNode config, String path, String source) {
        for (String key : List.of("kernel_regularizer", "bias_regularizer", "activity_regularizer")) {
            JsonNode regularizer = config.path(key);
            if (!regularizer.isMissingNode() && !regularizer.isNull()) {
                throw new SpecException(source, path + ".config." + key, KerasTrainingConfig.shown(regularizer)
                        + " is not supported in a Keras model file (DL4J's import halves Keras's L2 penalty); "
                        + "expected null, or a dptrain spec with the layer's l2 setting");
            }
        }
    }
}
