package dptrain.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dptrain.testing.FashionMnist;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.evaluation.classification.Evaluation;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The book's network on the full Fashion-MNIST, two workers, five epochs, the default averaging
 * (every 16 minibatches with block momentum, an epoch's rounds in one Spark job).
 */
class BookNetworkOnFashionMnistIT {

    @TempDir
    Path out;

    @Test
    void reachesTheBooksAccuracyAndSavesAModelThatDl4jReloads() throws IOException {
        int code = Dptrain.run("train", "--model", "../src/examples/mnist-mlp.yaml",
                "--train", FashionMnist.trainImages().toString(), "--test", FashionMnist.testImages().toString(),
                "--workers", "2", "--master", "local[2]", "--epochs", "5", "--output", out.toString(),
                "--conf", "spark.ui.enabled=false");
        assertEquals(ExitCodes.OK, code);

        JsonNode history = new ObjectMapper().readTree(out.resolve("history.json").toFile());
        assertEquals(5, history.get("epochs").size());
        JsonNode first = history.get("epochs").get(0);
        assertEquals(60000, first.get("examples").asLong());
        assertEquals(469, first.get("steps_per_replica").asLong(),
                "30,000 examples per worker in minibatches of 64: the default global batch of 128 split in two");
        assertEquals(938, first.get("steps_total").asLong());
        assertEquals(30, first.get("averaging_rounds").asInt(), "469 minibatches per replica, averaged every 16");
        double testAccuracy = history.get("test_accuracy").asDouble();
        assertTrue(testAccuracy >= 0.85, "test accuracy " + testAccuracy);

        MultiLayerNetwork model = ModelSerializer.restoreMultiLayerNetwork(out.resolve("model.zip").toFile(), true);
        Evaluation evaluation = new Evaluation(10);
        INDArray[] test = readTestSet();
        evaluation.eval(test[1], model.output(test[0], false));
        // Batched (128) and whole-set GEMMs may differ in the last bits: allow one flipped prediction.
        assertEquals(testAccuracy, evaluation.accuracy(), 1e-4);
        // The test confusion matrix agrees with DL4J's own evaluation: each flipped prediction moves one count.
        JsonNode matrix = history.get("test_confusion_matrix");
        long moved = 0;
        for (int actual = 0; actual < 10; actual++) {
            for (int predicted = 0; predicted < 10; predicted++) {
                moved += Math.abs(matrix.get(actual).get(predicted).asLong()
                        - evaluation.getConfusionMatrix().getCount(actual, predicted));
            }
        }
        assertTrue(moved <= 2, "confusion matrices differ by " + moved + " counts: " + matrix);
        assertTrue(Files.size(out.resolve("report.html")) > 0 && Files.size(out.resolve("history.png")) > 0);
        assertTrue(Files.size(out.resolve("provenance.json")) > 0);
    }

    /** Features scaled to [0, 1] and one-hot labels of the 10,000 test images. */
    private static INDArray[] readTestSet() throws IOException {
        int n = 10000;
        float[] pixels = new float[n * FashionMnist.PIXELS];
        float[] labels = new float[n * 10];
        Path dir = FashionMnist.folder();
        try (InputStream i = new GZIPInputStream(Files.newInputStream(dir.resolve("t10k-images-idx3-ubyte.gz")), 1 << 16);
                InputStream l = new GZIPInputStream(Files.newInputStream(dir.resolve("t10k-labels-idx1-ubyte.gz")));
                DataInputStream images = new DataInputStream(i); DataInputStream classes = new DataInputStream(l)) {
            images.skipNBytes(16);
            classes.skipNBytes(8);
            byte[] raw = images.readNBytes(pixels.length);
            for (int p = 0; p < pixels.length; p++) {
                pixels[p] = (raw[p] & 0xff) / 255f;
            }
            for (int r = 0; r < n; r++) {
                labels[r * 10 + classes.readUnsignedByte()] = 1f;
            }
        }
        return new INDArray[] {Nd4j.create(pixels, new long[] {n, FashionMnist.PIXELS}, 'c'),
            Nd4j.create(labels, new long[] {n, 10}, 'c')};
    }
}
