package dptrain.cli;

import static dptrain.cli.TrainCommandTest.dptrain;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dptrain.testing.FashionMnist;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Convolutional networks through {@code dptrain train}, {@code evaluate} and {@code --resume}, in local mode. */
class ConvnetTrainingTest {
    static final String CONVNET_SPEC = "../src/examples/mnist-convnet.yaml";

    /** A small convnet with batch normalization, whose running statistics are parameters that travel and average. */
    static final String SMALL_CONVNET = String.join("\n",
            "input_shape: [28, 28, 1]",
            "layers:",
            "  - conv2d: {filters: 8, kernel_size: 3, activation: relu}",
            "  - max_pooling2d: {pool_size: 2}",
            "  - batch_normalization:",
            "  - flatten:",
            "  - dense: {units: 10, activation: softmax}",
            "loss: categorical_crossentropy",
            "metrics: [accuracy]",
            "seed: 5",
            "");

    @TempDir
    static Path data;
    static Path trainImages;
    static Path testImages;
    static Path smallConvnet;

    @TempDir
    Path out;

    @BeforeAll
    static void slices() throws IOException {
        trainImages = FashionMnist.writeSlice(data, "train", "train", 0, 2000);
        testImages = FashionMnist.writeSlice(data, "t10k", "test", 0, 500);
        smallConvnet = data.resolve("small-convnet.yaml");
        Files.writeString(smallConvnet, SMALL_CONVNET);
    }

    @Test
    void theBookConvnetTrainsOnTwoWorkersFromIdxImagesAndItsSavedModelEvaluatesTheSame() throws IOException {
        TrainCommandTest.Run run = dptrain("train", "--model", CONVNET_SPEC, "--train", trainImages.toString(),
                "--test", testImages.toString(), "--epochs", "2", "--batch-size", "64", "--workers", "2",
                "--master", "local[2]", "--output", out.toString(), "--conf", "spark.ui.enabled=false");
        assertEquals(ExitCodes.OK, run.code(), run.err());
        assertTrue(run.out().contains("Train on 2000 examples"), run.out());
        JsonNode history = new ObjectMapper().readTree(out.resolve("history.json").toFile());
        double testAccuracy = history.get("test_accuracy").asDouble();
        // 10 classes: chance is 0.1. The book convnet reaches about 0.7 after 2 epochs of this 2000-image slice.
        assertTrue(testAccuracy > 0.5, "test accuracy " + testAccuracy);
        JsonNode provenance = new ObjectMapper().readTree(out.resolve("provenance.json").toFile());
        assertEquals("dl4j", provenance.at("/model/engine_used").asText(), provenance.toString());

        Path evaluation = out.resolve("evaluation");
        TrainCommandTest.Run evaluate = dptrain("evaluate", "--model", out.resolve("model.zip").toString(), "--data",
                testImages.toString(), "--master", "local[2]", "--output", evaluation.toString(), "--conf",
                "spark.ui.enabled=false");
        assertEquals(ExitCodes.OK, evaluate.code(), evaluate.err());
        JsonNode evaluated = new ObjectMapper().readTree(evaluation.resolve("evaluation.json").toFile());
        assertEquals(testAccuracy, evaluated.get("accuracy").asDouble(), 1e-9);
    }

    @Test
    void aConvnetRunStoppedAfterAnEpochAndResumedEndsWithTheSameBits(@TempDir Path whole) throws IOException {
        String[] common = {"train", "--model", smallConvnet.toString(), "--train", trainImages.toString(),
            "--batch-size", "64", "--workers", "2", "--master", "local[2]", "--averaging-frequency", "8",
            "--checkpoint-every", "1", "--conf", "spark.ui.enabled=false"};
        TrainCommandTest.Run uninterrupted = dptrain(concat(common, "--epochs", "2", "--output", whole.toString()));
        assertEquals(ExitCodes.OK, uninterrupted.code(), uninterrupted.err());
        TrainCommandTest.Run first = dptrain(concat(common, "--epochs", "1", "--output", out.toString()));
        assertEquals(ExitCodes.OK, first.code(), first.err());
        TrainCommandTest.Run resumed = dptrain(concat(common, "--epochs", "2", "--output", out.toString(), "--resume"));
        assertEquals(ExitCodes.OK, resumed.code(), resumed.err());
        assertTrue(resumed.out().contains("Resuming from checkpoint: epoch 1 of 2 done"), resumed.out());
        assertArrayEquals(parameters(whole), parameters(out),
                "weights and batch normalization's running statistics after resuming");
    }

    @Test
    void csvRowsAreReshapedToTheConvnetsInputShape() throws IOException {
        Path csv = data.resolve("images.csv");
        StringBuilder text = new StringBuilder();
        for (int r = 0; r < 200; r++) {
            text.append(r % 10);
            for (int i = 0; i < 784; i++) {
                text.append(',').append((r * 31 + i * 7) % 256);
            }
            text.append('\n');
        }
        Files.writeString(csv, text);
        TrainCommandTest.Run run = dptrain("train", "--model", smallConvnet.toString(), "--train", csv.toString(),
                "--scale", "255", "--epochs", "1", "--workers", "2", "--master", "local[2]", "--output",
                out.toString(), "--conf", "spark.ui.enabled=false");
        assertEquals(ExitCodes.OK, run.code(), run.err());
        assertTrue(run.out().contains("Train on 200 examples"), run.out());
    }

    private static String[] concat(String[] first, String... more) {
        String[] all = java.util.Arrays.copyOf(first, first.length + more.length);
        System.arraycopy(more, 0, all, first.length, more.length);
        return all;
    }

    private static float[] parameters(Path output) throws IOException {
        return ModelSerializer.restoreMultiLayerNetwork(output.resolve("model.zip").toFile(), false).params()
                .data().asFloat();
    }
}
