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
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
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

    @Test
    void unsupportedKerasModelsAreInputErrorsNamingTheLayer() throws IOException {
        Path conv = data.resolve("conv.json");
        Files.writeString(conv, KerasFiles.withTrainingConfig(KerasFiles.sequential(List.of(
                KerasFiles.input("input", 28, 28, 1),
                KerasFiles.layer("Conv2D", "conv2d", Map.of("filters", 8, "kernel_size", List.of(3, 3))),
                KerasFiles.flatten("flatten"), KerasFiles.dense("dense", 10, "softmax"))), BOOK_TRAINING_CONFIG));
        Run run = dptrain("train", "--model", conv.toString(), "--train", smallImages.toString(),
                "--output", out.toString());
        assertEquals(ExitCodes.INPUT, run.code(), run.err());
        assertTrue(run.err().startsWith("dptrain: error: " + conv + ": config.layers[1]: layer 1 \"conv2d\" (Conv2D) "
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
