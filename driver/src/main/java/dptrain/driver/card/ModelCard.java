package dptrain.driver.card;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dptrain.driver.TrainingConfig;
import dptrain.driver.TrainingResult;
import dptrain.driver.output.Versions;
import dptrain.driver.rounds.EpochRecord;
import dptrain.spec.ModelSpec;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The model card a run writes into model.zip ({@value #ENTRY}): a small JSON summary a person can
 * read in the zip and {@code dptrain describe} prints. It says what the network is (layers and
 * shapes, parameter count), what it was trained on, how the features are prepared, how it scored
 * at the end, and with which dptrain, DL4J, Spark and Java.
 */
public final class ModelCard {
    /** The model.zip entry holding the card. */
    public static final String ENTRY = "dptrain-model-card.json";
    /** The card's layout; a reader meets this number or an older one. */
    public static final int VERSION = 1;

    static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private ModelCard() {
    }

    /** The card of a finished run, as UTF-8 JSON for model.zip. */
    public static byte[] of(TrainingConfig config, TrainingResult result, String sparkVersion, Instant written) {
        ModelSpec spec = config.spec();
        Map<String, Object> card = new LinkedHashMap<>();
        card.put("card_version", VERSION);
        card.put("written_at", written.toString());
        card.put("model", model(spec));
        card.put("architecture", Architecture.of(spec.configuration(), spec.inputSize(),
                spec.describe().get("input_shape")));
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("train", config.train().describe());
        data.put("training_examples", result.trainingExamples());
        data.put("validation_examples", result.validationExamples());
        data.put("skipped_records", result.trainingData().badRecords());
        data.put("validation", config.describe().get("validation_data") != null ? config.describe().get("validation_data")
                : config.describe().get("validation_split"));
        if (config.describe().get("test") != null) {
            data.put("test", config.describe().get("test"));
        }
        card.put("training_data", data);
        Map<String, Object> preprocessing = new LinkedHashMap<>();
        preprocessing.put("feature_scale", config.train().featureMultiplier());
        preprocessing.put("normalization", result.normalizer().map(n -> n.kind().specName()).orElse("none"));
        if (result.normalizer().isPresent()) {
            preprocessing.put("normalizer_fitted_on_examples", result.trainingExamples());
        }
        card.put("preprocessing", preprocessing);
        Map<String, Object> training = new LinkedHashMap<>();
        training.put("epochs_run", result.epochs().size());
        training.put("epochs", config.epochs());
        training.put("batch_size", config.batchSize());
        training.put("workers", config.describe().get("workers"));
        training.put("averaging", config.describe().get("averaging_frequency"));
        training.put("seed", config.describe().get("seed"));
        training.put("optimizer", spec.describe().get("optimizer"));
        card.put("training", training);
        card.put("final_metrics", finalMetrics(result));
        Map<String, Object> versions = new LinkedHashMap<>();
        versions.put("dptrain", Versions.DPTRAIN);
        versions.put("dl4j", Versions.DL4J);
        versions.put("spark", sparkVersion);
        versions.put("java", System.getProperty("java.version"));
        card.put("versions", versions);
        try {
            return JSON.writeValueAsString(card).getBytes(StandardCharsets.UTF_8);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** What kind of model {@code spec} is: a classifier, a binary classifier or a regression, with its loss. */
    static Map<String, Object> model(ModelSpec spec) {
        Map<String, Object> model = new LinkedHashMap<>();
        model.put("kind", spec.isRegression() ? "regression" : spec.outputSize() <= 2 ? "binary classifier"
                : "classifier");
        model.put("outputs", spec.outputSize());
        model.put("loss", spec.lossName());
        return model;
    }

    private static Map<String, Object> finalMetrics(TrainingResult result) {
        Map<String, Object> metrics = new LinkedHashMap<>();
        if (!result.epochs().isEmpty()) {
            EpochRecord last = result.epochs().get(result.epochs().size() - 1);
            metrics.put("epoch", last.epoch());
            metrics.put("loss", finite(last.loss()));
            last.metrics().forEach((name, value) -> metrics.put(name, finite(value)));
            metrics.put("val_loss", finite(last.valLoss()));
            last.metrics().keySet().forEach(name -> metrics.put("val_" + name, finite(last.valMetric(name))));
        }
        result.test().ifPresent(test -> {
            metrics.put("test_examples", test.stats().examples());
            metrics.put("test_loss", finite(test.stats().meanLoss()));
            test.metrics().forEach((name, value) -> metrics.put("test_" + name, finite(value)));
        });
        return metrics;
    }

    /** JSON has no NaN: a figure that was not measured (no validation) is null. */
    private static Double finite(double value) {
        return Double.isFinite(value) ? value : null;
    }
}
