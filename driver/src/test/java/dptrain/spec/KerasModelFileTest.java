package dptrain.spec;

import static dptrain.testing.KerasFiles.BOOK_TRAINING_CONFIG;
import static dptrain.testing.KerasFiles.batchShape;
import static dptrain.testing.KerasFiles.dense;
import static dptrain.testing.KerasFiles.flatten;
import static dptrain.testing.KerasFiles.input;
import static dptrain.testing.KerasFiles.layer;
import static dptrain.testing.KerasFiles.sequential;
import static dptrain.testing.KerasFiles.withTrainingConfig;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dptrain.testing.KerasFiles;
import dptrain.testing.KerasFiles.DenseWeights;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.FeedForwardLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.learning.config.RmsProp;

/** Keras Sequential models (model JSON and .h5 with weights) read as dptrain specs through DL4J's Keras import. */
class KerasModelFileTest {

    private static final String BOOK_SPEC = "input_shape: [784]\nlayers:\n  - dense: {units: 512, activation: relu}\n"
            + "  - dense: {units: 10, activation: softmax}\noptimizer: {rmsprop: {learning_rate: 0.001}}\n"
            + "loss: categorical_crossentropy\nmetrics: [accuracy]\n";

    @TempDir
    Path dir;

    static ModelFile read(String text, String name) {
        return ModelFile.read(text.getBytes(StandardCharsets.UTF_8), name);
    }

    @Test
    void theBooksNetworkAsKerasJsonGivesTheConfigurationOfTheEquivalentSpec() throws IOException {
        ModelFile file = read(withTrainingConfig(KerasFiles.bookNetwork(512), BOOK_TRAINING_CONFIG), "book.json");
        assertNull(file.initialWeights(), "a model JSON has no weights");
        ModelSpec imported = file.spec();
        ModelSpec expected = ModelSpec.parse(BOOK_SPEC, "book.yaml");
        assertEquals(784, imported.inputSize(), "28x28 flattened");
        assertEquals(expected.outputSize(), imported.outputSize());
        assertEquals(expected.lossName(), imported.lossName());
        assertEquals(expected.targetEncoding(), imported.targetEncoding());
        assertEquals(expected.parameterCount(), imported.parameterCount());
        assertEquals(List.of("accuracy"), imported.metrics());
        assertLayersMatch(expected.configuration(), imported.configuration());
        assertEquals(new RmsProp(0.001, 0.9, 1e-7), ((BaseLayer) imported.configuration().getConf(0).getLayer())
                .getIUpdater());
        assertEquals("keras_model", imported.describe().get("format"));
        assertEquals(List.of(28, 28), imported.describe().get("input_shape"));
    }

    @Test
    void aFlatInputNeedsNoFlattenLayer() throws IOException {
        ObjectNode first = dense("dense", 512, "relu");
        ((ObjectNode) first.get("config")).set("batch_input_shape", new ObjectMapper().valueToTree(batchShape(784)));
        ObjectNode model = sequential(List.of(first, layer("Dropout", "dropout", Map.of("rate", 0.25)),
                dense("dense_1", 10, "softmax")));
        ModelSpec spec = read(withTrainingConfig(model, BOOK_TRAINING_CONFIG), "flat.json").spec();
        assertEquals(784, spec.inputSize());
        assertEquals(407050, spec.parameterCount());
        Layer dropout = spec.configuration().getConf(1).getLayer();
        assertEquals("DropoutLayer", dropout.getClass().getSimpleName());
    }

    static void assertLayersMatch(MultiLayerConfiguration expected, MultiLayerConfiguration actual) {
        assertEquals(expected.getConfs().size(), actual.getConfs().size(), "number of layers");
        for (int i = 0; i < expected.getConfs().size(); i++) {
            Layer e = expected.getConf(i).getLayer();
            Layer a = actual.getConf(i).getLayer();
            assertEquals(e.getClass(), a.getClass(), "layer " + i);
            assertEquals(((FeedForwardLayer) e).getNIn(), ((FeedForwardLayer) a).getNIn(), "nIn of layer " + i);
            assertEquals(((FeedForwardLayer) e).getNOut(), ((FeedForwardLayer) a).getNOut(), "nOut of layer " + i);
            assertEquals(((BaseLayer) e).getActivationFn().getClass(), ((BaseLayer) a).getActivationFn().getClass(),
                    "activation of layer " + i);
            assertEquals(((BaseLayer) e).getIUpdater(), ((BaseLayer) a).getIUpdater(), "updater of layer " + i);
            assertEquals(((BaseLayer) e).getWeightInitFn().getClass(), ((BaseLayer) a).getWeightInitFn().getClass(),
                    "weight init of layer " + i);
            assertEquals(((BaseLayer) e).getBiasInit(), ((BaseLayer) a).getBiasInit(), "bias init of layer " + i);
            if (e instanceof OutputLayer eo) {
                assertEquals(eo.getLossFn().getClass(), ((OutputLayer) a).getLossFn().getClass(), "loss");
            }
        }
    }

    @Test
    void theWeightsOfAnHdf5FileBecomeTheNetworksInitialParameters() throws IOException {
        Map<String, DenseWeights> weights = KerasFiles.knownWeights(32);
        Path h5 = dir.resolve("model.h5");
        KerasFiles.writeHdf5(h5, KerasFiles.bookNetwork(32), BOOK_TRAINING_CONFIG, weights);

        ModelFile file = ModelFile.read(Files.readAllBytes(h5), "model.h5");
        assertEquals(784 * 32 + 32 + 32 * 10 + 10, file.initialWeights().count());
        MultiLayerNetwork network = new MultiLayerNetwork(file.spec().configuration());
        network.init();
        float[] fresh = network.params().toFloatVector();
        file.initialWeights().applyTo(network);
        assertFalse(Arrays.equals(fresh, network.params().toFloatVector()), "the weights replace the initializers'");
        for (int layer = 0; layer < 2; layer++) {
            DenseWeights expected = weights.get(layer == 0 ? "dense" : "dense_1");
            float[][] kernel = network.getLayer(layer).getParam("W").toFloatMatrix();
            for (int r = 0; r < kernel.length; r++) {
                assertArrayEquals(expected.kernel()[r], kernel[r], "layer " + layer + " kernel row " + r);
            }
            assertArrayEquals(expected.bias(), network.getLayer(layer).getParam("b").toFloatVector(), "layer " + layer
                    + " bias");
        }
        assertEquals("categorical_crossentropy", file.spec().lossName());
        assertEquals(OutputLayer.class, file.spec().configuration().getConf(1).getLayer().getClass());
    }

    // ------------------------------------------------------------------------------------------- refusals

    static String refusal(String text, String name) {
        return assertThrows(SpecException.class, () -> read(text, name)).getMessage();
    }

    @Test
    void aFunctionalModelWithABranchIsRefusedNamingTheLayerThatJoinsTheBranches() throws IOException {
        String functional = "{\"class_name\": \"Functional\", \"config\": {\"name\": \"model\", \"layers\": ["
                + "{\"class_name\": \"InputLayer\", \"name\": \"input_1\", \"config\": {\"batch_input_shape\": [null, 784], \"name\": \"input_1\"}, \"inbound_nodes\": []},"
                + "{\"class_name\": \"Dense\", \"name\": \"left\", \"config\": {\"name\": \"left\", \"units\": 32, \"activation\": \"relu\"}, \"inbound_nodes\": [[[\"input_1\", 0, 0, {}]]]},"
                + "{\"class_name\": \"Dense\", \"name\": \"right\", \"config\": {\"name\": \"right\", \"units\": 32, \"activation\": \"relu\"}, \"inbound_nodes\": [[[\"input_1\", 0, 0, {}]]]},"
                + "{\"class_name\": \"Add\", \"name\": \"add\", \"config\": {\"name\": \"add\"}, \"inbound_nodes\": [[[\"left\", 0, 0, {}], [\"right\", 0, 0, {}]]]},"
                + "{\"class_name\": \"Dense\", \"name\": \"out\", \"config\": {\"name\": \"out\", \"units\": 10, \"activation\": \"softmax\"}, \"inbound_nodes\": [[[\"add\", 0, 0, {}]]]}],"
                + "\"input_layers\": [[\"input_1\", 0, 0]], \"output_layers\": [[\"out\", 0, 0]]},"
                + "\"keras_version\": \"2.4.0\", \"backend\": \"tensorflow\"}";
        String message = refusal(functional, "branch.json");
        assertTrue(message.startsWith("branch.json: class_name: \"Functional\" is a functional Keras model that "
                + "dptrain cannot train: layer 0 \"input_1\" (InputLayer) feeds 2 layers (left, right), a branch; expected class_name "
                + "\"Sequential\""), message);
    }

    @Test
    void denseOnImagesWithoutFlattenIsRefused() throws IOException {
        ObjectNode model = sequential(List.of(input("input", 28, 28), dense("dense", 10, "softmax")));
        String message = refusal(withTrainingConfig(model, BOOK_TRAINING_CONFIG), "noflat.json");
        assertTrue(message.contains("config.layers[1]: layer 1 \"dense\" (Dense) gets inputs of shape [28, 28]"),
                message);
    }

    @Test
    void aModelWithoutTrainingConfigIsRefusedSayingWhatToAdd() {
        String message = refusal(KerasFiles.bookNetwork(16).toString(), "untrained.json");
        assertTrue(message.startsWith("untrained.json: training_config: is missing: the model has no optimizer and "
                + "loss"), message);
    }

    @Test
    void classicalMomentumIsRefusedAsInDptrainSpecs() throws IOException {
        String sgd = "{\"loss\": \"categorical_crossentropy\", \"optimizer_config\": {\"class_name\": \"SGD\", "
                + "\"config\": {\"learning_rate\": 0.01, \"momentum\": 0.9, \"nesterov\": false, \"decay\": 0.0}}}";
        String message = refusal(withTrainingConfig(KerasFiles.bookNetwork(16), sgd), "sgd.json");
        assertTrue(message.startsWith("sgd.json: training_config.optimizer_config.config.momentum: 0.9 with nesterov: "
                + "false (classical momentum) is not available"), message);
    }

    @Test
    void aCorruptHdf5FileIsRefusedNamingTheFile() throws IOException {
        Path h5 = dir.resolve("model.h5");
        KerasFiles.writeHdf5(h5, KerasFiles.bookNetwork(8), BOOK_TRAINING_CONFIG, KerasFiles.knownWeights(8));
        byte[] whole = Files.readAllBytes(h5);
        byte[] truncated = Arrays.copyOf(whole, 2048);
        SpecException e = assertThrows(SpecException.class, () -> ModelFile.read(truncated, "cut.h5"));
        assertTrue(e.getMessage().startsWith("cut.h5: the HDF5 library cannot open this file (H5Fopen failed): it is "
                + "truncated or corrupt"), e.getMessage());

        byte[] garbage = Arrays.copyOf(whole, whole.length);
        for (int i = 8; i < garbage.length; i++) {
            garbage[i] = (byte) (i * 31);
        }
        e = assertThrows(SpecException.class, () -> ModelFile.read(garbage, "garbage.h5"));
        assertTrue(e.getMessage().startsWith("garbage.h5: the HDF5 library cannot open this file"), e.getMessage());
    }

    @Test
    void anHdf5FileSavedWithoutCompileIsRefusedSayingWhatIsMissing() throws IOException {
        Path h5 = dir.resolve("weights-only.h5");
        KerasFiles.writeHdf5(h5, KerasFiles.bookNetwork(8), null, KerasFiles.knownWeights(8));
        // A file saved without compile() has no training_config; the message says what is missing.
        SpecException e = assertThrows(SpecException.class, () -> ModelFile.read(Files.readAllBytes(h5), "x.h5"));
        assertTrue(e.getMessage().startsWith("x.h5: training_config: is missing"), e.getMessage());
    }
}
