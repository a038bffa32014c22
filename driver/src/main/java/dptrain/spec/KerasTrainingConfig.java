package dptrain.spec;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dptrain.spec.KerasVocabulary.Loss;
import dptrain.spec.OptimizerTranslator.Optimizer;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;

/**
 * The training configuration of a Keras model file ({@code training_config}: loss, optimizer,
 * metrics), read by the same rules and with the same refusals as a dptrain spec's, with each
 * failure naming the attribute path and the value.
 */
final class KerasTrainingConfig {
    private static final Map<String, String> OPTIMIZERS = Map.of("RMSprop", "rmsprop", "Adam", "adam", "SGD", "sgd",
            "Adagrad", "adagrad");
    private static final Map<String, String> LOSS_ALIASES = Map.of("mean_squared_error", "mse");
    /** Keras optimizer settings that DL4J cannot express, each allowed only at the value that means "off". */
    private static final Map<String, Predicate<JsonNode>> OFF_SETTINGS = new LinkedHashMap<>();
    private static final Map<String, String> OFF_EXPECTED = new LinkedHashMap<>();
    static {
        off("decay", v -> v.isNumber() && v.asDouble() == 0, "0.0 (DL4J has no Keras learning-rate decay)");
        off("weight_decay", v -> v.isNumber() && v.asDouble() == 0, "null or 0.0");
        off("clipnorm", v -> false, "null");
        off("clipvalue", v -> false, "null");
        off("global_clipnorm", v -> false, "null");
        off("use_ema", v -> v.isBoolean() && !v.asBoolean(), "false");
        off("centered", v -> v.isBoolean() && !v.asBoolean(), "false");
        off("amsgrad", v -> v.isBoolean() && !v.asBoolean(), "false");
    }
    /** Optimizer config fields that do not change the update. */
    private static final Set<String> IGNORED_SETTINGS = Set.of("name", "is_legacy_optimizer", "jit_compile",
            "ema_momentum", "ema_overwrite_frequency", "loss_scale_factor", "gradient_accumulation_steps");


    private KerasTrainingConfig() {
    }

    private static void off(String key, Predicate<JsonNode> isOff, String expected) {
        OFF_SETTINGS.put(key, isOff);
        OFF_EXPECTED.put(key, expected);
    }

    static Loss loss(JsonNode node, String path, String source) {
        JsonNode value = node;
        String where = path;
        if (value.isObject() && !value.has("class_name") && value.size() == 1) {
            // {"output_name": loss}: one output, one loss
            String outputName = value.fieldNames().next();
            where = path + "." + outputName;
            value = value.get(outputName);
        }
        String name;
        if (value.isTextual()) {
            name = value.asText();
        } else if (value.isObject() && value.has("class_name")) {
            JsonNode lossConfig = value.path("config");
            if (lossConfig.path("from_logits").asBoolean(false)) {
                throw new SpecException(source, where + ".config.from_logits", "true is not supported; expected false "
                        + "(a softmax or sigmoid output layer that gives probabilities)");
            }
            if (lossConfig.path("label_smoothing").asDouble(0) != 0) {
                throw new SpecException(source, where + ".config.label_smoothing", shown(lossConfig.path(
                        "label_smoothing")) + " is not supported; expected 0");
            }
            name = lossConfig.path("name").isTextual() ? lossConfig.path("name").asText()
                    : snakeCase(value.path("class_name").asText());
            if (lossConfig.has("delta") && lossConfig.path("delta").asDouble(1.0) != LossHuber.DEFAULT_DELTA) {
                throw new SpecException(source, where + ".config.delta", shown(lossConfig.path("delta"))
                        + " is not supported; expected 1.0, Keras's default, which dptrain's huber loss uses");
            }
        } else {
            throw new SpecException(source, where, (value.isMissingNode() ? "is missing" : shown(value)
                    + " is not allowed") + "; expected a loss name such as \"categorical_crossentropy\"");
        }
        Loss loss = KerasVocabulary.LOSSES.get(LOSS_ALIASES.getOrDefault(name, name));
        if (loss == null) {
            throw new SpecException(source, where, quote(name) + " is not a loss dptrain supports; expected one of "
                    + String.join(", ", KerasVocabulary.LOSSES.keySet()));
        }
        return loss;
    }

    static void checkOutput(JsonNode output, String path, Loss loss, String source) {
        String activation = output.path("activation").asText("linear");
        if (!loss.outputActivations().isEmpty() && !loss.outputActivations().contains(activation)) {
            throw new SpecException(source, path + ".activation", quote(activation) + " is not allowed on the output "
                    + "layer with loss " + loss.name() + "; expected " + String.join(" or ", loss.outputActivations()));
        }
        if (activation.equals("softmax") && output.path("units").asInt(0) < 2) {
            throw new SpecException(source, path + ".units", shown(output.path("units")) + " is not allowed on a "
                    + "softmax output layer; expected a whole number >= 2, since softmax over one unit is always 1.0");
        }
    }

    /** The Keras optimizer config, read by the same rules (and with the same refusals) as a dptrain spec's. */
    static Optimizer optimizer(JsonNode node, String path, String source) {
        String className = node.path("class_name").asText("");
        String name = OPTIMIZERS.get(className.replaceFirst("^Custom>", ""));
        if (name == null) {
            throw new SpecException(source, path + ".class_name", (node.isMissingNode() ? "is missing"
                    : quote(className) + " is not an optimizer dptrain supports") + "; expected one of "
                    + String.join(", ", List.of("RMSprop", "Adam", "SGD", "Adagrad")));
        }
        String configPath = path + ".config";
        ObjectNode settings = JsonNodeFactory.instance.objectNode();
        for (Map.Entry<String, JsonNode> field : node.path("config").properties()) {
            String key = field.getKey();
            JsonNode value = field.getValue();
            if (IGNORED_SETTINGS.contains(key)) {
                continue;
            }
            if (OFF_SETTINGS.containsKey(key) || (key.equals("momentum") && name.equals("rmsprop"))) {
                boolean isOff = value.isNull() || (key.equals("momentum") ? value.asDouble(1) == 0
                        : OFF_SETTINGS.get(key).test(value));
                if (!isOff) {
                    throw new SpecException(source, configPath + "." + key, shown(value) + " is not supported: "
                            + "DL4J 1.0.0-M2.1 has no such setting for " + className + "; expected "
                            + (key.equals("momentum") ? "0.0" : OFF_EXPECTED.get(key)));
                }
                continue;
            }
            settings.set(key.equals("lr") ? "learning_rate" : key, value);
        }
        ObjectNode spec = JsonNodeFactory.instance.objectNode();
        spec.putObject("optimizer").set(name, settings);
        try {
            return OptimizerTranslator.parse(SpecNode.root(spec, source).get("optimizer"));
        } catch (SpecException e) {
            String prefix = "optimizer." + name;
            String rest = e.keyPath().startsWith(prefix) ? e.keyPath().substring(prefix.length()) : "";
            throw new SpecException(source, configPath + rest, e.problem(), e);
        }
    }

    /** Keras's names of the regression metrics dptrain reports, and dptrain's name of each. */
    private static final Map<String, String> REGRESSION_METRICS = Map.of("mae", "mae", "mean_absolute_error", "mae",
            "mse", "mse", "mean_squared_error", "mse", "rmse", "rmse", "root_mean_squared_error", "rmse");

    /**
     * The regression metrics a compiled model lists (mae, mse, rmse under any of Keras's names, as strings or
     * metric objects), in their order; others are not reported.
     */
    static List<String> regressionMetrics(JsonNode metrics) {
        List<String> found = new java.util.ArrayList<>();
        collectRegressionMetrics(metrics, found);
        return List.copyOf(found);
    }

    private static void collectRegressionMetrics(JsonNode node, List<String> found) {
        String name = node.isTextual() ? node.asText()
                : node.isObject() && node.path("config").path("name").isTextual()
                        ? node.path("config").path("name").asText()
                        : node.isObject() && node.has("class_name") ? snakeCase(node.path("class_name").asText())
                        : null;
        if (name != null) {
            String metric = REGRESSION_METRICS.get(name);
            if (metric != null && !found.contains(metric)) {
                found.add(metric);
            }
            return;
        }
        for (JsonNode child : node) {
            collectRegressionMetrics(child, found);
        }
    }

    static boolean hasAccuracy(JsonNode metrics) {
        if (metrics.isTextual()) {
            return Set.of("accuracy", "acc", "categorical_accuracy", "sparse_categorical_accuracy")
                    .contains(metrics.asText());
        }
        for (JsonNode child : metrics) {
            if (hasAccuracy(child)) {
                return true;
            }
        }
        return false;
    }

    private static String snakeCase(String className) {
        return className.replaceAll("([a-z0-9])([A-Z])", "$1_$2").toLowerCase(Locale.ROOT);
    }

    private static String quote(String text) {
        return SpecNode.quote(text);
    }

    static String shown(JsonNode value) {
        String text = value.toString();
        return text.length() > 60 ? text.substring(0, 57) + "..." : text;
    }
}
