package dptrain.driver.output;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dptrain.driver.TrainingConfig;
import dptrain.driver.TrainingResult;
import dptrain.driver.files.AtomicFiles;
import dptrain.driver.files.InputException;
import dptrain.driver.inference.SavedModel;
import dptrain.driver.input.ValidationReport;
import dptrain.driver.rounds.EpochRecord;
import dptrain.driver.rounds.RoundRecord;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import java.util.zip.ZipOutputStream;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.nd4j.linalg.dataset.api.preprocessor.Normalizer;
import org.nd4j.linalg.dataset.api.preprocessor.serializer.NormalizerSerializer;

/**
 * Writes a run's results into the output folder: {@code model.zip} (DL4J's ModelSerializer, with
 * optimizer state), {@code history.json} and {@code provenance.json}. Each file is replaced
 * atomically.
 */
public final class RunOutputs {
    public static final String MODEL = "model.zip";
    public static final String HISTORY = "history.json";
    public static final String PROVENANCE = "provenance.json";
    public static final String CROSS_VALIDATION = "cv.json";

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private final Path folder;
    private final AtomicFiles files;

    public RunOutputs(String folder, Configuration conf) {
        this.folder = new Path(folder);
        this.files = new AtomicFiles(conf);
    }

    public Path path(String name) {
        return new Path(folder, name);
    }

    /**
     * Fails before any work when the folder cannot be written, or already holds {@code finishedFile}
     * (a finished run's result, such as model.zip) and {@code overwrite} is false.
     */
    public void checkWritable(boolean overwrite, String finishedFile) {
        // provenance.json is written last by every command: it marks any finished run, train's or cv's.
        for (String finished : List.of(finishedFile, PROVENANCE)) {
            if (!overwrite && files.exists(path(finished))) {
                throw new InputException("--output " + folder + " already holds a finished "
                        + (finished.equals(MODEL) ? "model" : "run") + " (" + finished
                        + "); pass --overwrite to replace it, or choose another folder");
            }
        }
        files.checkWritable(folder, "--output");
    }


    /**
     * Saves the trained state as a DL4J model that {@code ModelSerializer.restoreMultiLayerNetwork}
     * loads, with the normalization fitted on the training data in DL4J's normalizer slot and the
     * feature scaling in {@link SavedModel#PREPROCESSING_ENTRY}.
     */
    public void writeModel(TrainingConfig config, TrainingResult result) {
        writeModel(config, result, Map.of());
    }

    /** As {@link #writeModel(TrainingConfig, TrainingResult)}, with further entries by name, such as the model card. */
    public void writeModel(TrainingConfig config, TrainingResult result, Map<String, byte[]> entries) {
        MultiLayerNetwork net = new MultiLayerNetwork(config.spec().configuration());
        net.init();
        result.finalState().loadInto(net);
        Normalizer<?> normalizer = result.normalizer().map(n -> (Normalizer<?>) n.toDl4j()).orElse(null);
        files.write(path(MODEL), out -> writeModel(net, normalizer, config.train().featureMultiplier(), entries, out));
    }

    /**
     * The model zip plus DL4J's normalizer entry, which ModelSerializer.restoreNormalizerFromFile reads,
     * and dptrain's preprocessing entry. ModelSerializer's own stream variant fails here: its
     * normalizer writer closes the zip stream before the model writer closes it again ("stream is closed").
     */
    private static void writeModel(MultiLayerNetwork net, Normalizer<?> normalizer, float scale,
            Map<String, byte[]> extra, OutputStream out) throws IOException {
        ByteArrayOutputStream model = new ByteArrayOutputStream();
        ModelSerializer.writeModel(net, model, true);
        try (ZipInputStream entries = new ZipInputStream(new ByteArrayInputStream(model.toByteArray()));
                ZipOutputStream zip = new ZipOutputStream(out)) {
            for (ZipEntry entry = entries.getNextEntry(); entry != null; entry = entries.getNextEntry()) {
                zip.putNextEntry(new ZipEntry(entry.getName()));
                entries.transferTo(zip);
                zip.closeEntry();
            }
            if (normalizer != null) {
                zip.putNextEntry(new ZipEntry(ModelSerializer.NORMALIZER_BIN));
                NormalizerSerializer.getDefault().write(normalizer, AtomicFiles.closeShield(zip));
                zip.closeEntry();
            }
            zip.putNextEntry(new ZipEntry(SavedModel.PREPROCESSING_ENTRY));
            JSON.writeValue(AtomicFiles.closeShield(zip), Map.of("feature_scale", scale));
            zip.closeEntry();
            for (Map.Entry<String, byte[]> entry : extra.entrySet()) {
                zip.putNextEntry(new ZipEntry(entry.getKey()));
                zip.write(entry.getValue());
                zip.closeEntry();
            }
        }
    }

    /**
     * Writes history.json: per epoch the loss and the model's metrics (Keras's history keys: {@code accuracy}, or
     * {@code mae} ...), and their {@code val_} twins. With test data also the test metrics; for a classifier the
     * confusion matrix ({@code test_confusion_matrix}: rows true classes, columns predicted) with its
     * {@code test_confusion_labels}, and for a binary classifier {@code test_binary}
     * ({@link dptrain.driver.inference.BinaryMetrics#describe}); for a regression {@code test_r2},
     * {@code test_residuals} and {@code test_predictions_sample} (the report's predicted-against-actual chart).
     */
    public void writeHistory(TrainingResult result) {
        Map<String, Object> doc = new LinkedHashMap<>();
        List<String> metrics = result.epochs().isEmpty() ? List.of()
                : List.copyOf(result.epochs().get(0).metrics().keySet());
        Map<String, List<Object>> keras = new LinkedHashMap<>();
        keras.put("loss", new ArrayList<>());
        metrics.forEach(name -> keras.put(name, new ArrayList<>()));
        keras.put("val_loss", new ArrayList<>());
        metrics.forEach(name -> keras.put("val_" + name, new ArrayList<>()));
        List<Map<String, Object>> epochs = new ArrayList<>();
        for (EpochRecord e : result.epochs()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("epoch", e.epoch());
            m.put("loss", finite(e.loss()));
            metrics.forEach(name -> m.put(name, finite(e.metric(name))));
            m.put("val_loss", finite(e.valLoss()));
            metrics.forEach(name -> m.put("val_" + name, finite(e.valMetric(name))));
            m.put("seconds", e.seconds());
            m.put("examples", e.examples());
            m.put("averaging_rounds", e.averagingRounds());
            m.put("steps_per_replica", e.stepsPerReplica());
            m.put("steps_total", e.stepsTotal());
            m.put("replica_compute_seconds", e.replicaComputeSeconds());
            epochs.add(m);
            keras.get("loss").add(finite(e.loss()));
            metrics.forEach(name -> keras.get(name).add(finite(e.metric(name))));
            keras.get("val_loss").add(finite(e.valLoss()));
            metrics.forEach(name -> keras.get("val_" + name).add(finite(e.valMetric(name))));
        }
        doc.put("epochs", epochs);
        doc.put("history", keras);
        doc.put("rounds", result.rounds().stream().map(RunOutputs::round).toList());
        doc.put("training_examples", result.trainingExamples());
        doc.put("validation_examples", result.validationExamples());
        doc.put("skipped_records", skipped(result.trainingData()));
        result.test().ifPresent(test -> {
            doc.put("test_skipped_records", skipped(test.data()));
            doc.put("test_examples", test.stats().examples());
            doc.put("test_loss", finite(test.stats().meanLoss()));
            test.metrics().forEach((name, value) -> doc.put("test_" + name, finite(value)));
            test.regression().ifPresent(regression -> {
                doc.put("test_r2", regression.describe().get("r2"));
                doc.put("test_residuals", regression.describe().get("residuals"));
                doc.put("test_predictions_sample", regression.describeSample());
            });
            test.confusion().ifPresent(confusion -> {
                doc.put("test_confusion_matrix", confusion.counts());
                doc.put("test_confusion_labels", confusion.labels());
            });
            test.binary().ifPresent(binary -> doc.put("test_binary", binary.describe()));
        });
        writeJson(HISTORY, doc);
    }

    public void writeProvenance(TrainingConfig config, String sparkVersion, String master, Instant start, Instant end) {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("dptrain_version", Versions.DPTRAIN);
        doc.put("spark_version", sparkVersion);
        doc.put("dl4j_version", Versions.DL4J);
        doc.put("java_version", System.getProperty("java.version"));
        doc.put("java_vendor", System.getProperty("java.vendor"));
        doc.put("master", master);
        doc.put("start_time", start.toString());
        doc.put("end_time", end.toString());
        doc.put("parameters", config.describe());
        doc.put("model", config.spec().describe());
        writeJson(PROVENANCE, doc);
    }

    private void writeJson(String name, Object doc) {
        files.write(path(name), out -> JSON.writeValue(out, doc));
    }

    /**
     * The held-out figures of a cross-validation: per key ({@code val_loss}, then {@code val_} and the model's
     * metrics) the mean and standard deviation over the folds.
     */
    public record CrossValidation(Map<String, Spread> figures, int folds) {
        public CrossValidation {
            figures = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(figures));
        }

        /** E.g. {@code 5-fold cross-validation - val_loss: 0.3512 ± 0.0101 - val_accuracy: 0.8734 ± 0.0040}. */
        public String line() {
            StringBuilder line = new StringBuilder(folds + "-fold cross-validation");
            figures.forEach((key, spread) -> line.append(String.format(java.util.Locale.ROOT, " - %s: %.4f ± %.4f",
                    key, spread.mean(), spread.std())));
            return line.toString();
        }

        /** The figure {@code key}'s mean and standard deviation; NaNs when the folds did not report it. */
        public Spread figure(String key) {
            return figures.getOrDefault(key, new Spread(Double.NaN, Double.NaN));
        }
    }

    /** A mean and a population standard deviation over folds. */
    public record Spread(double mean, double std) {
        static Spread of(double[] values) {
            return new Spread(RunOutputs.mean(values), RunOutputs.std(values));
        }
    }

    /**
     * Writes cv.json: per fold the held-out val_loss and metrics (val_accuracy, or val_mae, ...) after the last
     * epoch, epochs, seconds and example counts; then means and (population) standard deviations; then
     * {@code mean_history}, each figure per epoch averaged over the folds, to choose the number of epochs by.
     */
    public CrossValidation writeCrossValidation(List<TrainingResult> folds) {
        List<Map<String, Object>> perFold = new ArrayList<>();
        List<String> keys = new ArrayList<>(List.of("val_loss"));
        if (!folds.isEmpty() && !folds.get(0).epochs().isEmpty()) {
            folds.get(0).epochs().get(0).metrics().keySet().forEach(name -> keys.add("val_" + name));
        }
        Map<String, double[]> values = new LinkedHashMap<>();
        keys.forEach(key -> values.put(key, new double[folds.size()]));
        for (int k = 0; k < folds.size(); k++) {
            TrainingResult result = folds.get(k);
            EpochRecord last = result.epochs().get(result.epochs().size() - 1);
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("fold", k + 1);
            for (String key : keys) {
                double value = key.equals("val_loss") ? last.valLoss() : last.valMetric(key.substring(4));
                values.get(key)[k] = value;
                m.put(key, finite(value));
            }
            m.put("epochs", result.epochs().size());
            m.put("seconds", result.epochs().stream().mapToDouble(EpochRecord::seconds).sum());
            m.put("training_examples", result.trainingExamples());
            m.put("validation_examples", result.validationExamples());
            perFold.add(m);
        }
        Map<String, Spread> figures = new LinkedHashMap<>();
        values.forEach((key, perFoldValues) -> figures.put(key, Spread.of(perFoldValues)));
        CrossValidation summary = new CrossValidation(figures, folds.size());
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("folds", perFold);
        figures.forEach((key, spread) -> {
            doc.put("mean_" + key, finite(spread.mean()));
            doc.put("std_" + key, finite(spread.std()));
        });
        doc.put("mean_history", meanHistory(folds, keys));
        writeJson(CROSS_VALIDATION, doc);
        return summary;
    }

    /**
     * Per epoch, each held-out figure averaged over the folds that trained that epoch (all of them unless early
     * stopping ended some sooner): the curve the book plots to choose the number of epochs.
     */
    private static Map<String, List<Double>> meanHistory(List<TrainingResult> folds, List<String> keys) {
        int epochs = folds.stream().mapToInt(f -> f.epochs().size()).max().orElse(0);
        Map<String, List<Double>> history = new LinkedHashMap<>();
        for (String key : keys) {
            List<Double> means = new ArrayList<>();
            for (int e = 0; e < epochs; e++) {
                double sum = 0;
                int count = 0;
                for (TrainingResult fold : folds) {
                    if (e < fold.epochs().size()) {
                        EpochRecord record = fold.epochs().get(e);
                        sum += key.equals("val_loss") ? record.valLoss() : record.valMetric(key.substring(4));
                        count++;
                    }
                }
                means.add(finite(sum / count));
            }
            history.put(key, means);
        }
        return history;
    }

    private static double mean(double[] values) {
        return java.util.Arrays.stream(values).average().orElse(Double.NaN);
    }

    private static double std(double[] values) {
        double m = mean(values);
        return Math.sqrt(java.util.Arrays.stream(values).map(v -> (v - m) * (v - m)).average().orElse(Double.NaN));
    }

    /** Bad records left out under --on-bad-record skip: the total, per file and per reason. */
    private static Map<String, Object> skipped(ValidationReport report) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("total", report.badRecords());
        m.put("by_file", report.countsByFile());
        m.put("by_reason", report.countsByReason());
        return m;
    }

    /** One averaging round's timing, in history.json's "rounds" list. */
    private static Map<String, Object> round(RoundRecord r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("epoch", r.epoch());
        m.put("round", r.round());
        m.put("examples", r.examples());
        m.put("loss", finite(r.loss()));
        m.put("seconds", r.seconds());
        m.put("broadcast_seconds", r.broadcastSeconds());
        m.put("compute_seconds", r.computeSeconds());
        m.put("combine_seconds", r.combineSeconds());
        m.put("scheduling_seconds", r.schedulingSeconds());
        m.put("update_seconds", r.updateSeconds());
        m.put("examples_per_second", r.examplesPerSecond());
        m.put("rejected_replicas", r.rejectedReplicas());
        return m;
    }

    /** JSON has no NaN: a missing value is null. */
    private static Double finite(double value) {
        return Double.isFinite(value) ? value : null;
    }
}
