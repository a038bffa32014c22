package dptrain.driver.card;

import com.fasterxml.jackson.core.type.TypeReference;
import dptrain.driver.files.InputException;
import dptrain.driver.files.InputFiles;
import dptrain.driver.inference.SavedModel;
import java.io.IOException;
import java.io.InputStream;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import org.apache.hadoop.conf.Configuration;

/**
 * What {@code dptrain describe} says about a model.zip: its model card, or for a zip written
 * without one (an older dptrain, another tool) what the network and the preprocessing entries
 * tell, marked as such. As JSON, or as plain text for a person.
 */
public final class ModelDescription {
    private final Map<String, Object> document;

    private ModelDescription(Map<String, Object> document) {
        this.document = document;
    }

    /**
     * Reads {@code uri}: the model (checked as evaluate checks it) and its card.
     *
     * @throws InputException naming the file: missing, not a model zip, or a card that is not JSON
     */
    public static ModelDescription read(String uri, Configuration conf) {
        SavedModel saved = SavedModel.load(uri, conf);
        Map<String, Object> card = card(uri, conf);
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("model_zip", uri);
        if (card != null) {
            doc.put("card", "present");
            doc.putAll(card);
            return new ModelDescription(doc);
        }
        doc.put("card", "missing");
        doc.put("model", ModelCard.model(saved.spec()));
        doc.put("architecture", Architecture.of(saved.network().getLayerWiseConfigurations(), saved.spec().inputSize(),
                null));
        Map<String, Object> preprocessing = new LinkedHashMap<>();
        preprocessing.put("feature_scale", saved.featureScale());
        preprocessing.put("normalization", saved.normalizer() == null ? "none" : saved.normalizer().kind().specName());
        doc.put("preprocessing", preprocessing);
        return new ModelDescription(doc);
    }

    /** The description as a JSON-ready map (the card's sections, with {@code model_zip} and {@code card} first). */
    public Map<String, Object> document() {
        return document;
    }

    /** The description as JSON text. */
    public String json() {
        try {
            return ModelCard.JSON.writeValueAsString(document);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** The description as plain text, one section a paragraph. */
    public String text() {
        StringBuilder out = new StringBuilder();
        Map<String, Object> model = section("model");
        Map<String, Object> architecture = section("architecture");
        out.append(document.get("model_zip")).append(": ").append(model.get("kind"));
        if ("classifier".equals(model.get("kind"))) {
            out.append(" of ").append(model.get("outputs")).append(" classes");
        } else if ("regression".equals(model.get("kind"))) {
            out.append(" with ").append(model.get("outputs")).append(" output").append(plural(model.get("outputs")));
        }
        out.append(" (loss ").append(model.get("loss")).append(")\n");
        if ("missing".equals(document.get("card"))) {
            out.append("Model card: missing (written by an older dptrain or another tool); the architecture and "
                    + "preprocessing below are read from the network\n");
        }
        out.append(String.format(Locale.ROOT, "%nArchitecture: %s inputs%s, %,d parameters%n", architecture.get("inputs"),
                architecture.containsKey("input_shape") ? " (input_shape " + architecture.get("input_shape") + ")" : "",
                ((Number) architecture.get("parameters")).longValue()));
        out.append(String.format(Locale.ROOT, "  %-3s %-14s %-24s %-16s %-10s %12s%n", "#", "name", "type",
                "output shape", "activation", "parameters"));
        for (Object entry : (List<?>) architecture.get("layers")) {
            Map<?, ?> layer = (Map<?, ?>) entry;
            out.append(String.format(Locale.ROOT, "  %-3s %-14s %-24s %-16s %-10s %,12d%n", layer.get("index"),
                    layer.get("name") == null ? "-" : layer.get("name"), layer.get("type"), layer.get("output_shape"),
                    layer.get("activation") == null ? "-" : layer.get("activation"),
                    ((Number) layer.get("parameters")).longValue()));
        }
        Map<String, Object> preprocessing = section("preprocessing");
        Object scale = preprocessing.get("feature_scale");
        out.append("\nPreprocessing: ").append(scale == null ? "feature scaling not recorded"
                : "features multiplied by " + scale + scaleDivisor(scale)).append(", normalization ")
                .append(preprocessing.get("normalization"));
        if (preprocessing.get("normalizer_fitted_on_examples") instanceof Number fitted) {
            out.append(String.format(Locale.ROOT, " (fitted on the %,d training examples)", fitted.longValue()));
        }
        out.append('\n');
        Map<String, Object> data = section("training_data");
        if (!data.isEmpty()) {
            Map<?, ?> train = (Map<?, ?>) data.get("train");
            out.append(String.format(Locale.ROOT, "Training data: %s (%s), %,d training and %,d validation examples",
                    train.get("uri"), train.get("format"), ((Number) data.get("training_examples")).longValue(),
                    ((Number) data.get("validation_examples")).longValue()));
            if (((Number) data.getOrDefault("skipped_records", 0)).longValue() > 0) {
                out.append(", ").append(data.get("skipped_records")).append(" bad records skipped");
            }
            out.append('\n');
            if (data.get("test") instanceof Map<?, ?> test) {
                out.append("Test data: ").append(test.get("uri")).append(" (").append(test.get("format")).append(")\n");
            }
        }
        Map<String, Object> training = section("training");
        if (!training.isEmpty()) {
            Object averaging = training.get("averaging");
            out.append(String.format(Locale.ROOT, "Training: %s of %s epochs, %s workers, batch size %s, averaging %s, "
                    + "seed %s, optimizer %s%n", training.get("epochs_run"), training.get("epochs"),
                    training.get("workers"), training.get("batch_size"), averaging instanceof Number
                            ? "every " + averaging + " minibatches" : "once per " + averaging,
                    training.get("seed"), optimizer(training.get("optimizer"))));
        }
        Map<String, Object> metrics = section("final_metrics");
        if (!metrics.isEmpty()) {
            out.append("Final metrics:");
            metrics.forEach((name, value) -> {
                if (value != null) {
                    out.append(' ').append(name).append(' ').append(value instanceof Double d
                            ? String.format(Locale.ROOT, "%.4f", d) : value).append(',');
                }
            });
            out.setLength(out.length() - 1);
            out.append('\n');
        }
        Map<String, Object> versions = section("versions");
        if (!versions.isEmpty()) {
            out.append(String.format(Locale.ROOT, "Versions: dptrain %s, DL4J %s, Spark %s, Java %s; written %s%n",
                    versions.get("dptrain"), versions.get("dl4j"), versions.get("spark"), versions.get("java"),
                    document.get("written_at")));
        }
        return out.toString();
    }

    /** {@code rmsprop (learning_rate 0.001, rho 0.9, epsilon 1.0E-7)} from the spec's description of its optimizer. */
    private static String optimizer(Object description) {
        if (!(description instanceof Map<?, ?> settings)) {
            return String.valueOf(description);
        }
        List<String> rest = new java.util.ArrayList<>();
        settings.forEach((key, value) -> {
            if (!"name".equals(key)) {
                rest.add(key + " " + value);
            }
        });
        return settings.get("name") + (rest.isEmpty() ? "" : " (" + String.join(", ", rest) + ")");
    }

    private static String scaleDivisor(Object scale) {
        double multiplier = ((Number) scale).doubleValue();
        return multiplier == 1 ? " (none)" : String.format(Locale.ROOT, " (--scale %s)", trim(1 / multiplier));
    }

    private static String trim(double value) {
        long rounded = Math.round(value);
        return Math.abs(value - rounded) < 1e-3 ? Long.toString(rounded) : String.format(Locale.ROOT, "%.4g", value);
    }

    private static String plural(Object count) {
        return count instanceof Number n && n.intValue() == 1 ? "" : "s";
    }

    @SuppressWarnings("unchecked")
    private Map<String, Object> section(String key) {
        Object value = document.get(key);
        return value instanceof Map<?, ?> map ? (Map<String, Object>) map : Map.of();
    }

    /** The card in {@code uri}'s zip, or null when it has none. */
    private static Map<String, Object> card(String uri, Configuration conf) {
        try (InputStream in = InputFiles.open(uri, conf); ZipInputStream zip = new ZipInputStream(in)) {
            for (ZipEntry entry = zip.getNextEntry(); entry != null; entry = zip.getNextEntry()) {
                if (entry.getName().equals(ModelCard.ENTRY)) {
                    try {
                        return ModelCard.JSON.readValue(zip.readAllBytes(), new TypeReference<LinkedHashMap<String, Object>>() {
                        });
                    } catch (IOException e) {
                        throw new InputException(uri + ": its model card (" + ModelCard.ENTRY + ") is not the JSON "
                                + "object 'dptrain train' writes: " + e.getMessage().lines().findFirst().orElse(""), e);
                    }
                }
            }
            return null;
        } catch (IOException e) {
            throw new InputException(uri + ": cannot be read: " + e.getMessage(), e);
        }
    }
}
