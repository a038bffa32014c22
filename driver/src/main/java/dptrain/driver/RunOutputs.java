package dptrain.driver;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dptrain.replica.TrainingState;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;

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

    /** Saves {@code state} as a DL4J model that {@code ModelSerializer.restoreMultiLayerNetwork} loads. */
    public void writeModel(TrainingConfig config, TrainingState state) {
        MultiLayerNetwork net = new MultiLayerNetwork(config.spec().configuration());
        net.init();
        state.loadInto(net);
        files.write(path(MODEL), out -> ModelSerializer.writeModel(net, out, true));
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
        files.write(path(name), out -> JSON.writeValue(new NonClosingStream(out), doc));
    }

    /** JSON has no NaN: a missing value is null. */
    private static Double finite(double value) {
        return Double.isFinite(value) ? value : null;
    }

    /** Jackson closes the stream it writes to; the atomic writer closes it itself. */
    private static final class NonClosingStream extends java.io.FilterOutputStream {
        NonClosingStream(java.io.OutputStream out) {
            super(out);
        }

        @Override
        public void write(byte[] b, int off, int len) throws java.io.IOException {
            out.write(b, off, len);
        }

        @Override
        public void close() throws java.io.IOException {
            flush();
        }
    }
}
