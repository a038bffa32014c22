package dptrain.spec;

import static dptrain.testing.KerasFiles.BOOK_TRAINING_CONFIG;
import static dptrain.testing.KerasFiles.batchNormalization;
import static dptrain.testing.KerasFiles.conv2d;
import static dptrain.testing.KerasFiles.dense;
import static dptrain.testing.KerasFiles.embedding;
import static dptrain.testing.KerasFiles.flatten;
import static dptrain.testing.KerasFiles.input;
import static dptrain.testing.KerasFiles.layer;
import static dptrain.testing.KerasFiles.pooling2d;
import static dptrain.testing.KerasFiles.recurrent;
import static dptrain.testing.KerasFiles.sequential;
import static dptrain.testing.KerasFiles.withTrainingConfig;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dptrain.testing.KerasFiles;
import dptrain.testing.KerasFiles.Tensor;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.recurrent.LastTimeStep;
import org.deeplearning4j.nn.modelimport.keras.KerasModelImport;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.RmsProp;

/**
 * Keras model files with convolutional and recurrent layers: what dptrain builds from them computes what DL4J's own
 * Keras import computes from the same file, while its configuration names only classes that executors (worker-lib,
 * without the Keras import) can load.
 */
class KerasConvAndRecurrentFileTest {

    @TempDir
    Path dir;

    /** Input (8, 8, 2) -> Conv2D 4 3x3 relu -> MaxPooling2D 2 -> BatchNormalization -> Flatten -> Dense 5 softmax. */
    static Path convnetFile(Path file, long seed) {
        Random random = new Random(seed);
        ObjectNode model = sequential(List.of(input("input_1", 8, 8, 2), conv2d("conv2d", 4, 3, "valid", "relu"),
                pooling2d("MaxPooling2D", "max_pooling2d", 2), batchNormalization("batch_normalization", 3),
                flatten("flatten"), dense("dense", 5, "softmax")));
        Map<String, Map<String, Tensor>> weights = new LinkedHashMap<>();
        weights.put("conv2d", weights(Tensor.random(random, 0.4, 3, 3, 2, 4), Tensor.random(random, 0.1, 4)));
        Map<String, Tensor> norm = new LinkedHashMap<>();
        norm.put("gamma", new Tensor(new float[] {1.2f, 0.8f, 1.0f, 1.5f}, 4));
        norm.put("beta", Tensor.random(random, 0.2, 4));
        norm.put("moving_mean", new Tensor(new float[] {0.3f, 0.1f, 0.5f, 0.2f}, 4));
        norm.put("moving_variance", new Tensor(new float[] {0.5f, 2.0f, 1.0f, 0.25f}, 4));
        weights.put("batch_normalization", norm);
        weights.put("dense", weights(Tensor.random(random, 0.4, 36, 5), Tensor.random(random, 0.1, 5)));
        KerasFiles.writeWeights(file, model, BOOK_TRAINING_CONFIG, weights);
        return file;
    }

    /** Input (6, 3) -> LSTM 5 (return_sequences) -> SimpleRNN 4 -> Dense 3 softmax. */
    static Path recurrentFile(Path file, long seed) {
        Random random = new Random(seed);
        ObjectNode model = sequential(List.of(input("input_1", 6, 3), recurrent("LSTM", "lstm", 5, true),
                recurrent("SimpleRNN", "simple_rnn", 4, false), dense("dense", 3, "softmax")));
        Map<String, Map<String, Tensor>> weights = new LinkedHashMap<>();
        weights.put("lstm", recurrentWeights(random, 3, 5, 4));
        weights.put("simple_rnn", recurrentWeights(random, 5, 4, 1));
        weights.put("dense", weights(Tensor.random(random, 0.5, 4, 3), Tensor.random(random, 0.1, 3)));
        KerasFiles.writeWeights(file, model, BOOK_TRAINING_CONFIG, weights);
        return file;
    }

    /** Token ids (7) -> Embedding 20x4 -> LSTM 5 -> Dense 2 softmax. */
    static Path embeddingFile(Path file, long seed, int vocabulary, int length) {
        Random random = new Random(seed);
        ObjectNode model = sequential(List.of(embedding("embedding", vocabulary, 4, length),
                recurrent("LSTM", "lstm", 5, false), dense("dense", 2, "softmax")));
        Map<String, Map<String, Tensor>> weights = new LinkedHashMap<>();
        weights.put("embedding", Map.of("embeddings", Tensor.random(random, 0.5, vocabulary, 4)));
        weights.put("lstm", recurrentWeights(random, 4, 5, 4));
        weights.put("dense", weights(Tensor.random(random, 0.5, 5, 2), Tensor.random(random, 0.1, 2)));
        KerasFiles.writeWeights(file, model, BOOK_TRAINING_CONFIG, weights);
        return file;
    }

    private static Map<String, Tensor> weights(Tensor kernel, Tensor bias) {
        Map<String, Tensor> layer = new LinkedHashMap<>();
        layer.put("kernel", kernel);
        layer.put("bias", bias);
        return layer;
    }

    /** Keras's recurrent weights: kernel (in, gates·units), recurrent_kernel (units, gates·units), bias. */
    private static Map<String, Tensor> recurrentWeights(Random random, int in, int units, int gates) {
        Map<String, Tensor> layer = new LinkedHashMap<>();
        layer.put("kernel", Tensor.random(random, 0.5, in, (long) gates * units));
        layer.put("recurrent_kernel", Tensor.random(random, 0.5, units, (long) gates * units));
        layer.put("bias", Tensor.random(random, 0.2, (long) gates * units));
        return layer;
    }

    /** dptrain's network from the file, with the file's weights, fed flat rows as dptrain feeds them. */
    private static MultiLayerNetwork dptrainNetwork(Path h5) throws IOException {
        ModelFile file = ModelFile.read(Files.readAllBytes(h5), h5.getFileName().toString());
        MultiLayerNetwork network = new MultiLayerNetwork(file.spec().configuration());
        network.init();
        file.initialWeights().applyTo(network);
        return network;
    }

    private static MultiLayerNetwork directImport(Path h5) throws Exception {
        return KerasModelImport.importKerasSequentialModelAndWeights(h5.toString(), false);
    }

    private static INDArray randomRows(long seed, int rows, int columns) {
        Random random = new Random(seed);
        float[][] values = new float[rows][columns];
        for (float[] row : values) {
            for (int c = 0; c < columns; c++) {
                row[c] = (float) random.nextGaussian();
            }
        }
        return Nd4j.create(values);
    }

    private static void assertSameOutputs(INDArray expected, INDArray actual) {
        assertEquals(List.of(expected.shape()[0], expected.shape()[1]), List.of(actual.shape()[0], actual.shape()[1]));
        double difference = expected.sub(actual).amaxNumber().doubleValue();
        assertTrue(difference <= 1e-5, "largest difference " + difference + "\nexpected " + expected
                + "\nactual " + actual);
    }

    /** Every class the configuration's JSON names, which executors must load to deserialize it. */
    private static List<String> classesNamed(MultiLayerConfiguration conf) throws IOException {
        List<String> classes = new ArrayList<>();
        collectClasses(new ObjectMapper().readTree(conf.toJson()), classes);
        return classes;
    }

    private static void collectClasses(JsonNode node, List<String> classes) {
        if (node.has("@class")) {
            classes.add(node.get("@class").asText());
        }
        node.forEach(child -> collectClasses(child, classes));
    }

    private static void assertExecutorsCanLoad(MultiLayerConfiguration conf) throws IOException {
        List<String> classes = classesNamed(conf);
        assertTrue(classes.contains(RowsAsKerasShapePreProcessor.class.getName()), classes.toString());
        for (String name : classes) {
            assertFalse(name.startsWith("org.deeplearning4j.nn.modelimport"), name + " is in the driver-only "
                    + "modelimport jar");
        }
    }

    @Test
    void aKerasConvnetFileComputesWhatDl4jsOwnImportComputesFromFlatRows() throws Exception {
        Path h5 = convnetFile(dir.resolve("convnet.h5"), 3);
        MultiLayerNetwork ours = dptrainNetwork(h5);
        MultiLayerNetwork direct = directImport(h5);
        INDArray rows = randomRows(11, 16, 8 * 8 * 2);
        // DL4J's import builds NHWC layers: its network takes the images as Keras does, (height, width, channels).
        assertSameOutputs(direct.output(rows.reshape('c', 16, 8, 8, 2)), ours.output(rows));
        assertEquals(direct.numParams(), ours.numParams());
        assertExecutorsCanLoad(ours.getLayerWiseConfigurations());
        assertInstanceOf(RowsAsKerasShapePreProcessor.class, ours.getLayerWiseConfigurations().getInputPreProcess(0));
    }

    @Test
    void aKerasConvnetFileWithSamePaddingAveragePoolingAndGlobalPoolingComputesWhatDl4jComputes() throws Exception {
        Random random = new Random(5);
        ObjectNode model = sequential(List.of(input("input_1", 6, 6, 3), conv2d("conv2d", 4, 3, "same", "tanh"),
                pooling2d("AveragePooling2D", "average_pooling2d", 2), conv2d("conv2d_1", 2, 2, "valid", "relu"),
                layer("GlobalAveragePooling2D", "global_average_pooling2d", Map.of("data_format", "channels_last")),
                dense("dense", 3, "softmax")));
        Map<String, Map<String, Tensor>> weights = new LinkedHashMap<>();
        weights.put("conv2d", weights(Tensor.random(random, 0.4, 3, 3, 3, 4), Tensor.random(random, 0.1, 4)));
        weights.put("conv2d_1", weights(Tensor.random(random, 0.4, 2, 2, 4, 2), Tensor.random(random, 0.1, 2)));
        weights.put("dense", weights(Tensor.random(random, 0.8, 2, 3), Tensor.random(random, 0.1, 3)));
        Path h5 = dir.resolve("pooling.h5");
        KerasFiles.writeWeights(h5, model, BOOK_TRAINING_CONFIG, weights);
        INDArray rows = randomRows(12, 10, 6 * 6 * 3);
        assertSameOutputs(directImport(h5).output(rows.reshape('c', 10, 6, 6, 3)), dptrainNetwork(h5).output(rows));
    }

    @Test
    void aKerasLstmFileComputesWhatDl4jsOwnImportComputesFromFlatRows() throws Exception {
        Path h5 = recurrentFile(dir.resolve("lstm.h5"), 4);
        MultiLayerNetwork ours = dptrainNetwork(h5);
        INDArray rows = randomRows(13, 16, 6 * 3);
        // DL4J's import builds NWC recurrent layers: its network takes (timesteps, features) as Keras does.
        assertSameOutputs(directImport(h5).output(rows.reshape('c', 16, 6, 3)), ours.output(rows));
        assertExecutorsCanLoad(ours.getLayerWiseConfigurations());
    }

    @Test
    void aKerasEmbeddingAndLstmFileComputesWhatDl4jsOwnImportComputesFromTokenIds() throws Exception {
        Path h5 = embeddingFile(dir.resolve("embedding.h5"), 6, 20, 7);
        Random random = new Random(14);
        float[][] ids = new float[16][7];
        for (float[] row : ids) {
            for (int t = 0; t < 7; t++) {
                row[t] = random.nextInt(20);
            }
        }
        INDArray rows = Nd4j.create(ids);
        MultiLayerNetwork ours = dptrainNetwork(h5);
        assertSameOutputs(directImport(h5).output(rows), ours.output(rows));
        assertEquals(null, ours.getLayerWiseConfigurations().getInputPreProcess(0), "token ids go in as they are");
        Layer lstm = ((LastTimeStep) ours.getLayerWiseConfigurations().getConf(1).getLayer()).getUnderlying();
        assertEquals(new RmsProp(0.001, 0.9, 1e-7), ((BaseLayer) lstm).getIUpdater(),
                "the file's optimizer, also inside LastTimeStep");
        assertEquals(7, ModelFile.read(Files.readAllBytes(h5), "embedding.h5").spec().inputSize());
    }

    // ------------------------------------------------------------------------------------------- refusals

    private String refusal(ObjectNode model, String name) throws IOException {
        byte[] text = withTrainingConfig(model, BOOK_TRAINING_CONFIG).getBytes(StandardCharsets.UTF_8);
        return assertThrows(SpecException.class, () -> ModelFile.read(text, name)).getMessage();
    }

    @Test
    void aGruIsRefusedWithItsIndexNameAndClass() throws IOException {
        String message = refusal(sequential(List.of(input("input_1", 6, 3), recurrent("GRU", "gru", 4, false),
                dense("dense", 2, "softmax"))), "gru.json");
        assertTrue(message.startsWith("gru.json: config.layers[1]: layer 1 \"gru\" (GRU) is not supported; expected "
                + "a Sequential stack of Dense, Dropout, Activation, Flatten, Conv2D"), message);
    }

    @Test
    void channelsFirstConvolutionsAreRefusedNamingTheLayer() throws IOException {
        ObjectNode conv = conv2d("conv2d", 4, 3, "valid", "relu");
        ((ObjectNode) conv.get("config")).put("data_format", "channels_first");
        String message = refusal(sequential(List.of(input("input_1", 2, 8, 8), conv, flatten("flatten"),
                dense("dense", 2, "softmax"))), "cf.json");
        assertEquals("cf.json: config.layers[1].config.data_format: \"channels_first\" is not supported for layer 1 "
                + "\"conv2d\" (Conv2D); expected \"channels_last\", the order in which dptrain feeds image rows",
                message);
    }

    @Test
    void aDenseLayerOnASequenceIsRefusedSayingWhatToChange() throws IOException {
        String message = refusal(sequential(List.of(input("input_1", 6, 3), recurrent("LSTM", "lstm", 4, true),
                dense("dense", 2, "softmax"))), "seq.json");
        assertEquals("seq.json: config.layers[2]: layer 2 \"dense\" (Dense) gets a sequence (timesteps, features), "
                + "and Keras applies Dense to their last axis only; expected a Flatten layer before it, because dptrain "
                + "feeds flat feature vectors (or return_sequences: false on the recurrent layer before it)", message);
    }

    @Test
    void aConvolutionOnAVectorIsRefusedNamingWhatItGets() throws IOException {
        String message = refusal(sequential(List.of(input("input_1", 64), conv2d("conv2d", 4, 3, "valid", "relu"),
                flatten("flatten"), dense("dense", 2, "softmax"))), "flat.json");
        assertEquals("flat.json: config.layers[1]: layer 1 \"conv2d\" (Conv2D) gets inputs of shape [64]; expected an "
                + "image (height, width, channels)", message);
    }
}
