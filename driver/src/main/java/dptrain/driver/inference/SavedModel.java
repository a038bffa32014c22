package dptrain.driver.inference;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dptrain.data.FeatureNormalizer;
import dptrain.driver.files.InputException;
import dptrain.driver.files.InputFiles;
import dptrain.inference.InferenceModel;
import dptrain.spec.ModelFile;
import dptrain.spec.ModelSpec;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import org.apache.hadoop.conf.Configuration;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;

/**
 * A model.zip as {@code dptrain train} writes it (DL4J's ModelSerializer zip), loaded and checked on
 * the driver: the network, what dptrain knows about it (input size, classes, loss), the normalizer
 * DL4J's normalizer slot holds, and the feature scaling recorded beside it. Every way a file can
 * fail to be such a model gets a message naming the file.
 *
 * @param uri          where the model was read from
 * @param spec         the network's configuration as dptrain describes it
 * @param network      the restored network (parameters only; no optimizer state)
 * @param normalizer   the fitted normalization, or null when the model was trained without one
 * @param featureScale the multiplier the training features were scaled with, or null when the
 *                     model does not record it (a model written by another tool)
 */
public record SavedModel(String uri, ModelSpec spec, MultiLayerNetwork network, FeatureNormalizer normalizer,
        Float featureScale) {
    /**
     * The model.zip entry recording the feature scaling the model was trained with, so evaluate and
     * predict apply it: {@code {"feature_scale": 0.003921569}} (the multiplier, 1/--scale).
     */
    public static final String PREPROCESSING_ENTRY = "dptrain-preprocessing.json";


    private static final String EXPECTED = "expected the model.zip that 'dptrain train' writes (a DL4J "
            + "ModelSerializer zip)";

    /**
     * Reads and checks the model {@code uri} names.
     *
     * @throws InputException naming the file: missing, a folder, not a zip, a zip that is not a DL4J
     *                        MultiLayerNetwork, or a normalizer dptrain cannot apply
     */
    public static SavedModel load(String uri, Configuration conf) {
        byte[] bytes;
        try (InputStream in = InputFiles.open(uri, conf)) {
            bytes = in.readAllBytes();
        } catch (IOException e) {
            throw new InputException(uri + ": cannot be read: " + e.getMessage(), e);
        }
        if (bytes.length < 4 || bytes[0] != 'P' || bytes[1] != 'K' || bytes[2] != 3 || bytes[3] != 4) {
            throw new InputException(uri + ": is not a zip archive; " + EXPECTED);
        }
        Map<String, byte[]> entries = smallEntries(uri, bytes);
        if (!entries.containsKey(ModelSerializer.CONFIGURATION_JSON) || !entries.containsKey(ModelSerializer.COEFFICIENTS_BIN)) {
            throw new InputException(uri + ": is a zip archive but not a DL4J model (it has no "
                    + ModelSerializer.CONFIGURATION_JSON + " and " + ModelSerializer.COEFFICIENTS_BIN + " entries); "
                    + EXPECTED);
        }
        String configuration = new String(entries.get(ModelSerializer.CONFIGURATION_JSON), StandardCharsets.UTF_8);
        if (configuration.contains("\"vertices\"")) {
            throw new InputException(uri + ": is a DL4J ComputationGraph; dptrain evaluates and predicts with "
                    + "MultiLayerNetwork models, as 'dptrain train' writes them");
        }
        ModelSpec spec = ModelFile.parseSpec(configuration, uri);
        MultiLayerNetwork network;
        try {
            network = ModelSerializer.restoreMultiLayerNetwork(new ByteArrayInputStream(bytes), false);
        } catch (IOException | RuntimeException e) {
            throw new InputException(uri + ": cannot be loaded as a DL4J model (" + e.getMessage() + "); " + EXPECTED,
                    e);
        }
        if (network.params().length() != spec.parameterCount()) {
            throw new InputException(uri + ": holds " + network.params().length() + " parameters but its configuration "
                    + "needs " + spec.parameterCount() + "; the file is damaged");
        }
        return new SavedModel(uri, spec, network, normalizer(uri, bytes, entries, spec), featureScale(uri, entries));
    }

    /** The parameters and configuration as they are broadcast to executors. */
    public InferenceModel inferenceModel() {
        return InferenceModel.of(network, spec);
    }

    /** Every entry except the (possibly large) parameters, by name. */
    private static Map<String, byte[]> smallEntries(String uri, byte[] bytes) {
        Map<String, byte[]> entries = new HashMap<>();
        try (ZipInputStream zip = new ZipInputStream(new ByteArrayInputStream(bytes))) {
            for (ZipEntry entry = zip.getNextEntry(); entry != null; entry = zip.getNextEntry()) {
                boolean large = entry.getName().equals(ModelSerializer.COEFFICIENTS_BIN)
                        || entry.getName().equals("updaterState.bin");
                entries.put(entry.getName(), large ? new byte[0] : zip.readAllBytes());
            }
        } catch (IOException e) {
            throw new InputException(uri + ": is a damaged zip archive (" + e.getMessage() + "); " + EXPECTED, e);
        }
        return entries;
    }

    private static FeatureNormalizer normalizer(String uri, byte[] bytes, Map<String, byte[]> entries, ModelSpec spec) {
        if (!entries.containsKey(ModelSerializer.NORMALIZER_BIN)) {
            return null;
        }
        FeatureNormalizer normalizer;
        try {
            normalizer = FeatureNormalizer.fromDl4j(
                    ModelSerializer.restoreNormalizerFromInputStream(new ByteArrayInputStream(bytes)));
        } catch (IOException | RuntimeException e) {
            throw new InputException(uri + ": its normalizer (" + ModelSerializer.NORMALIZER_BIN
                    + ") cannot be applied: " + e.getMessage(), e);
        }
        if (normalizer.featureCount() != spec.inputSize()) {
            throw new InputException(uri + ": its normalizer covers " + normalizer.featureCount()
                    + " features but the network takes " + spec.inputSize() + "; the file is damaged");
        }
        return normalizer;
    }

    private static Float featureScale(String uri, Map<String, byte[]> entries) {
        byte[] json = entries.get(PREPROCESSING_ENTRY);
        if (json == null) {
            return null;
        }
        try {
            JsonNode scale = new ObjectMapper().readTree(json).path("feature_scale");
            if (!scale.isNumber() || !(scale.floatValue() > 0) || !Float.isFinite(scale.floatValue())) {
                throw new InputException(uri + ": " + PREPROCESSING_ENTRY + " holds feature_scale "
                        + scale + "; expected a positive number");
            }
            return scale.floatValue();
        } catch (IOException e) {
            throw new InputException(uri + ": " + PREPROCESSING_ENTRY + " is not JSON: " + e.getMessage(), e);
        }
    }
}
