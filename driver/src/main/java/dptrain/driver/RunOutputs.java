package dptrain.driver;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dptrain.replica.TrainingState;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.FilterOutputStream;
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
     * Fails before any work when the folder cannot be written, or already holds a finished model
     * and {@code overwrite} is false.
     */
    public void checkWritable(boolean overwrite) {
        if (!overwrite && files.exists(path(MODEL))) {
            throw new InputException("--output " + folder + " already holds a finished model (" + MODEL
                    + "); pass --overwrite to replace it, or choose another folder");
        }
        files.checkWritable(folder, "--output");
    }

    /** Saves the trained state, and the normalization fitted on the training data, as a DL4J model that {@code ModelSerializer.restoreMultiLayerNetwork} loads. */
    public void writeModel(TrainingConfig config, TrainingResult result) {
        MultiLayerNetwork net = new MultiLayerNetwork(config.spec().configuration());
        net.init();
        result.finalState().loadInto(net);
        files.write(path(MODEL), out -> {
            if (result.normalizer() == null) {
                ModelSerializer.writeModel(net, out, true);
            } else {
                writeModelWithNormalizer(net, (Normalizer<?>) result.normalizer().toDl4j(), out);
            }
        });
    }

    /**
     * The model zip plus DL4J's normalizer entry, which ModelSerializer.restoreNormalizerFromFile reads.
     * ModelSerializer's own stream variant fails here: its normalizer writer closes the zip stream
     * before the model writer closes it again ("stream is closed").
     */
    private static void writeModelWithNormalizer(MultiLayerNetwork net, Normalizer<?> normalizer, OutputStream out)
            throws IOException {
        ByteArrayOutputStream model = new ByteArrayOutputStream();
        ModelSerializer.writeModel(net, model, true);
        try (ZipInputStream entries = new ZipInputStream(new ByteArrayInputStream(model.toByteArray()));
                ZipOutputStream zip = new ZipOutputStream(out)) {
            for (ZipEntry entry = entries.getNextEntry(); entry != null; entry = entries.getNextEntry()) {
                zip.putNextEntry(new ZipEntry(entry.getName()));
                entries.transferTo(zip);
                zip.closeEntry();
            }
            zip.putNextEntry(new ZipEntry(ModelSerializer.NORMALIZER_BIN));
            NormalizerSerializer.getDefault().write(normalizer, new FilterOutputStream(zip) {
                @Override
                public void write(byte[] b, int off, int len) throws IOException {
                    zip.write(b, off, len);
                }

                @Override
                public void close() throws IOException {
                    flush();
                }
            });
            zip.closeEntry();
        }
    }

    public void writeHistory(TrainingResult result) {
        Map<String, Object> doc = new LinkedHashMap<>();
        Map<String, List<Object>> keras = new LinkedHashMap<>();
        for (String key : List.of("loss", "accuracy", "val_loss", "val_accuracy")) {
            keras.put(key, new ArrayList<>());
        }
        List<Map<String, Object>> epochs = new ArrayList<>();
        for (EpochRecord e : result.epochs()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("epoch", e.epoch());
            m.put("loss", finite(e.loss()));
            m.put("accuracy", finite(e.accuracy()));
            m.put("val_loss", finite(e.valLoss()));
            m.put("val_accuracy", finite(e.valAccuracy()));
            m.put("seconds", e.seconds());
            m.put("examples", e.examples());
            m.put("averaging_rounds", e.averagingRounds());
            m.put("steps_per_replica", e.stepsPerReplica());
            m.put("steps_total", e.stepsTotal());
            m.put("replica_compute_seconds", e.replicaComputeSeconds());
            epochs.add(m);
            keras.get("loss").add(finite(e.loss()));
            keras.get("accuracy").add(finite(e.accuracy()));
            keras.get("val_loss").add(finite(e.valLoss()));
            keras.get("val_accuracy").add(finite(e.valAccuracy()));
        }
        doc.put("epochs", epochs);
        doc.put("history", keras);
        doc.put("training_examples", result.trainingExamples());
        doc.put("validation_examples", result.validationExamples());
        doc.put("skipped_records", skipped(result.trainingData()));
        if (result.testData() != null) {
            doc.put("test_skipped_records", skipped(result.testData()));
        }
        if (result.test() != null) {
            doc.put("test_examples", result.test().examples());
            doc.put("test_loss", finite(result.test().meanLoss()));
            doc.put("test_accuracy", finite(result.test().accuracy()));
        }
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

    /** Bad records left out under --on-bad-record skip: the total, per file and per reason. */
    private static Map<String, Object> skipped(ValidationReport report) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("total", report.badRecords());
        m.put("by_file", report.countsByFile());
        m.put("by_reason", report.countsByReason());
        return m;
    }

    /** JSON has no NaN: a missing value is null. */
    private static Double finite(double value) {
        return Double.isFinite(value) ? value : null;
    }
}
