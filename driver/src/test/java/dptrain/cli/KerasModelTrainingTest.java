package dptrain.cli;

import static dptrain.cli.TrainCommandTest.dptrain;
import static dptrain.testing.KerasFiles.BOOK_TRAINING_CONFIG;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dptrain.cli.TrainCommandTest.Run;
import dptrain.spec.ModelFile;
import dptrain.testing.FashionMnist;
import dptrain.testing.KerasFiles;
import dptrain.testing.KerasFiles.Tensor;
import dptrain.testing.Tables;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

/** {@code dptrain train --model} with Keras model files, on Fashion-MNIST slices in local mode. */
class KerasModelTrainingTest {

    private static final int SLICE = 256;

    @TempDir
    static Path data;
    static Path trainImages;
    static Path smallImages;

    @TempDir
    Path out;

    @BeforeAll
    static void slices() throws IOException {
        trainImages = FashionMnist.writeSlice(data, "train", "train", 0, 2000);
        smallImages = FashionMnist.writeSlice(data, "train", "small", 2000, SLICE);
    }

    @Test
    void trainsTheBooksNetworkFromAKerasModelJson() throws IOException {
        Path json = data.resolve("book-keras.json");
        Files.writeString(json, KerasFiles.withTrainingConfig(KerasFiles.bookNetwork(512), BOOK_TRAINING_CONFIG));
        Run run = dptrain("train", "--model", json.toString(), "--train", trainImages.toString(), "--epochs", "2",
                "--batch-size", "64", "--workers", "2", "--master", "local[2]", "--validation-split", "0.2",
                "--output", out.toString(), "--conf", "spark.ui.enabled=false");
        assertEquals(ExitCodes.OK, run.code(), run.err());
        JsonNode history = new ObjectMapper().readTree(out.resolve("history.json").toFile());
        JsonNode last = history.get("epochs").get(1);
        assertTrue(last.get("val_accuracy").asDouble() > 0.6, "val_accuracy " + last.get("val_accuracy"));
        JsonNode provenance = new ObjectMapper().readTree(out.resolve("provenance.json").toFile());
        assertEquals("initializers", provenance.get("parameters").get("initial_weights").asText());
        assertTrue(provenance.toString().contains("\"format\":\"keras_model\""), provenance.toString());
    }

    /**
     * One worker, one minibatch holding the whole slice: the first epoch's loss is the loss of the parameters training
     * starts from (DL4J scores a minibatch before it updates), so it must equal the known weights' loss on that data.
     */
    @Test
    void trainingStartsFromTheWeightsOfAKerasHdf5File() throws IOException {
        Path h5 = data.resolve("known.h5");
        KerasFiles.writeHdf5(h5, KerasFiles.bookNetwork(32), BOOK_TRAINING_CONFIG, KerasFiles.knownWeights(32));
        ModelFile model = ModelFile.read(Files.readAllBytes(h5), h5.toString());
        MultiLayerNetwork known = new MultiLayerNetwork(model.spec().configuration());
        known.init();
        double freshLoss = known.score(slice(), false);
        model.initialWeights().applyTo(known);
        double knownLoss = known.score(slice(), false);
        assertTrue(Math.abs(knownLoss - freshLoss) > 0.1, "the known weights' loss " + knownLoss
                + " differs from a freshly initialized network's " + freshLoss);

        Run run = dptrain("train", "--model", h5.toString(), "--train", smallImages.toString(), "--epochs", "1",
                "--batch-size", String.valueOf(SLICE), "--workers", "1", "--master", "local[1]",
                "--output", out.toString(), "--conf", "spark.ui.enabled=false");
        assertEquals(ExitCodes.OK, run.code(), run.err());
        JsonNode epoch = new ObjectMapper().readTree(out.resolve("history.json").toFile()).get("epochs").get(0);
        assertEquals(1, epoch.get("steps_total").asInt());
        assertEquals(knownLoss, epoch.get("loss").asDouble(), 1e-5, "first-step loss equals the known weights' loss");
        JsonNode provenance = new ObjectMapper().readTree(out.resolve("provenance.json").toFile());
        assertEquals(h5.toString(), provenance.get("parameters").get("initial_weights").asText());
    }

    /** The slice as dptrain feeds it: pixels / 255, one-hot labels. */
    private static DataSet slice() throws IOException {
        byte[] images = Files.readAllBytes(smallImages);
        byte[] labels = Files.readAllBytes(data.resolve("small-labels-idx1-ubyte"));
        float[][] features = new float[SLICE][FashionMnist.PIXELS];
        float[][] targets = new float[SLICE][10];
        for (int i = 0; i < SLICE; i++) {
            for (int p = 0; p < FashionMnist.PIXELS; p++) {
                features[i][p] = (images[16 + i * FashionMnist.PIXELS + p] & 0xFF) / 255f;
            }
            targets[i][labels[8 + i]] = 1f;
        }
        INDArray x = Nd4j.create(features);
        INDArray y = Nd4j.create(targets);
        return new DataSet(x, y);
    }

    /** A small convnet in Keras's layout: Conv2D 8 3x3 relu, MaxPooling2D 2, Flatten, Dense 10 softmax. */
    @Test
    void aKerasConvnetHdf5FileTrainsOnTwoWorkersFromIdxImages() throws IOException {
        Random random = new Random(3);
        Map<String, Map<String, Tensor>> weights = new LinkedHashMap<>();
        weights.put("conv2d", layerWeights(Tensor.random(random, 0.2, 3, 3, 1, 8), new Tensor(new float[8], 8)));
        weights.put("dense", layerWeights(Tensor.random(random, 0.03, 13 * 13 * 8, 10), new Tensor(new float[10], 10)));
        Path h5 = data.resolve("convnet.h5");
        KerasFiles.writeWeights(h5, KerasFiles.sequential(List.of(KerasFiles.input("input_1", 28, 28, 1),
                KerasFiles.conv2d("conv2d", 8, 3, "valid", "relu"), KerasFiles.pooling2d("MaxPooling2D",
                        "max_pooling2d", 2), KerasFiles.flatten("flatten"), KerasFiles.dense("dense", 10, "softmax"))),
                BOOK_TRAINING_CONFIG, weights);
        Run run = dptrain("train", "--model", h5.toString(), "--train", trainImages.toString(), "--epochs", "2",
                "--batch-size", "64", "--workers", "2", "--master", "local[2]", "--validation-split", "0.2",
                "--output", out.toString(), "--conf", "spark.ui.enabled=false");
        assertEquals(ExitCodes.OK, run.code(), run.err());
        JsonNode last = new ObjectMapper().readTree(out.resolve("history.json").toFile()).get("epochs").get(1);
        // 10 classes: chance is 0.1.
        assertTrue(last.get("val_accuracy").asDouble() > 0.6, "val_accuracy " + last.get("val_accuracy"));
        JsonNode provenance = new ObjectMapper().readTree(out.resolve("provenance.json").toFile());
        assertEquals(h5.toString(), provenance.get("parameters").get("initial_weights").asText());
        assertEquals("dl4j", provenance.at("/model/engine_used").asText(), provenance.toString());
    }

    /** Embedding 10x8, LSTM 16, Dense 2 softmax, as src/examples/marker-lstm.yaml, but from a Keras file. */
    @Test
    void aKerasEmbeddingAndLstmHdf5FileLearnsTheMarkerRuleOnTwoWorkersFromParquet() throws IOException {
        Random random = new Random(4);
        Map<String, Map<String, Tensor>> weights = new LinkedHashMap<>();
        weights.put("embedding", Map.of("embeddings", Tensor.random(random, 0.05, 10, 8)));
        Map<String, Tensor> lstm = new LinkedHashMap<>();
        lstm.put("kernel", Tensor.random(random, 0.2, 8, 64));
        lstm.put("recurrent_kernel", Tensor.random(random, 0.2, 16, 64));
        lstm.put("bias", new Tensor(new float[64], 64));
        weights.put("lstm", lstm);
        weights.put("dense", layerWeights(Tensor.random(random, 0.3, 16, 2), new Tensor(new float[2], 2)));
        Path h5 = data.resolve("marker-lstm.h5");
        KerasFiles.writeWeights(h5, KerasFiles.sequential(List.of(KerasFiles.embedding("embedding", 10, 8, 12),
                KerasFiles.recurrent("LSTM", "lstm", 16, false), KerasFiles.dense("dense", 2, "softmax"))),
                BOOK_TRAINING_CONFIG.replace("\"learning_rate\": 0.001", "\"learning_rate\": 0.01"), weights);
        StructType schema = new StructType().add("features", DataTypes.createArrayType(DataTypes.DoubleType))
                .add("label", DataTypes.IntegerType);
        Path train = out.resolve("train.parquet");
        Path test = out.resolve("test.parquet");
        Tables.writeParquet(train, schema, SequenceTrainingTest.markerSequences(2000, 1));
        Tables.writeParquet(test, schema, SequenceTrainingTest.markerSequences(500, 2));
        Path output = out.resolve("run");
        Run run = dptrain("train", "--model", h5.toString(), "--train", train.toString(), "--test", test.toString(),
                "--epochs", "4", "--batch-size", "32", "--workers", "2", "--master", "local[2]",
                "--output", output.toString(), "--conf", "spark.ui.enabled=false");
        assertEquals(ExitCodes.OK, run.code(), run.err());
        double accuracy = new ObjectMapper().readTree(output.resolve("history.json").toFile()).get("test_accuracy")
                .asDouble();
        assertTrue(accuracy > 0.8, "test accuracy " + accuracy + " (chance: 0.5)\n" + run.out());
    }

    private static Map<String, Tensor> layerWeights(Tensor kernel, Tensor bias) {
        Map<String, Tensor> layer = new LinkedHashMap<>();
        layer.put("kernel", kernel);
        layer.put("bias", bias);
        return layer;
    }

    @Test
    void unsupportedKerasModelsAreInputErrorsNamingTheLayer() throws IOException {
        Path gru = data.resolve("gru.json");
        Files.writeString(gru, KerasFiles.withTrainingConfig(KerasFiles.sequential(List.of(
                KerasFiles.input("input", 12, 4), KerasFiles.recurrent("GRU", "gru", 8, false),
                KerasFiles.dense("dense", 10, "softmax"))), BOOK_TRAINING_CONFIG));
        Run run = dptrain("train", "--model", gru.toString(), "--train", smallImages.toString(),
                "--output", out.toString());
        assertEquals(ExitCodes.INPUT, run.code(), run.err());
        assertTrue(run.err().startsWith("dptrain: error: " + gru + ": config.layers[1]: layer 1 \"gru\" (GRU) "
                + "is not supported"), run.err());
        assertFalse(run.err().contains("\tat "), "no stack trace without --verbose");

        Path corrupt = data.resolve("corrupt.h5");
        Files.write(corrupt, new byte[] {(byte) 0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n', 0, 0, 0, 0});
        run = dptrain("train", "--model", corrupt.toString(), "--train", smallImages.toString(),
                "--output", out.toString());
        assertEquals(ExitCodes.INPUT, run.code(), run.err());
        assertTrue(run.err().startsWith("dptrain: error: " + corrupt + ": the HDF5 library cannot open this file"),
                run.err());
    }
}
