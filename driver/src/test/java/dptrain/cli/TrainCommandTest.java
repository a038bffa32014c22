package dptrain.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dptrain.testing.FashionMnist;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code dptrain train} end to end on a Fashion-MNIST slice in local mode. */
class TrainCommandTest {
    static final String BOOK_SPEC = "../src/examples/mnist-mlp.yaml";

    @TempDir
    static Path data;
    static Path trainImages;
    static Path testImages;

    @TempDir
    Path out;

    @BeforeAll
    static void slices() throws IOException {
        trainImages = FashionMnist.writeSlice(data, "train", "train", 0, 2000);
        testImages = FashionMnist.writeSlice(data, "t10k", "test", 0, 500);
    }

    /** The exit code, stdout and stderr of one run. */
    record Run(int code, String out, String err) {
    }

    static Run dptrain(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        List<String> all = new ArrayList<>(List.of(args));
        int code = Dptrain.run(new PrintWriter(out, true), new PrintWriter(err, true), all.toArray(String[]::new));
        return new Run(code, out.toString(), err.toString());
    }

    @Test
    void trainsWithValidationAndWritesModelHistoryAndProvenance() throws IOException {
        Run run = dptrain("train", "--model", BOOK_SPEC, "--train", trainImages.toString(), "--test", testImages.toString(),
                "--epochs", "2", "--batch-size", "128", "--workers", "2", "--master", "local[2]",
                "--validation-split", "0.2", "--output", out.toString(), "--conf", "spark.ui.enabled=false");
        assertEquals(ExitCodes.OK, run.code(), run.err());
        assertTrue(run.out().contains("Train on 1600 examples, validate on 400 examples; 2 workers"), run.out());
        assertTrue(run.out().contains("averaging once per epoch, block momentum 0.400 (Nesterov)"),
                "the default for 2 workers, every 16 minibatches: here the whole epoch of 13: " + run.out());
        assertTrue(run.out().matches("(?s).*Epoch 1/2 - [0-9.]+s - loss: [0-9.]+ - accuracy: [0-9.]+ - val_loss: [0-9.]+ "
                + "- val_accuracy: [0-9.]+\n.*Epoch 2/2 .*"), run.out());
        assertTrue(run.out().contains("Test - loss: "), run.out());

        JsonNode history = new ObjectMapper().readTree(out.resolve("history.json").toFile());
        assertEquals(2, history.get("epochs").size());
        assertEquals(1600, history.get("training_examples").asLong());
        assertEquals(400, history.get("validation_examples").asLong());
        JsonNode epoch = history.get("epochs").get(1);
        assertEquals(1600, epoch.get("examples").asLong());
        assertEquals(13, epoch.get("steps_per_replica").asLong(),
                "800 examples per worker in batches of 64: the global 128 split in two");
        assertEquals(26, epoch.get("steps_total").asLong());
        assertEquals(1, epoch.get("averaging_rounds").asInt());
        assertTrue(epoch.get("val_accuracy").asDouble() > 0.5, "val_accuracy " + epoch.get("val_accuracy"));
        assertEquals(2, history.get("history").get("loss").size());
        assertEquals(500, history.get("test_examples").asLong());
        assertConfusionMatrixCountsTheTestSet(history, 10);

        JsonNode provenance = new ObjectMapper().readTree(out.resolve("provenance.json").toFile());
        assertEquals("local[2]", provenance.get("master").asText());
        assertEquals(128, provenance.get("parameters").get("batch_size").asInt());
        assertEquals("global", provenance.get("parameters").get("batch_scope").asText());
        assertNotNull(provenance.get("spark_version").asText());
        assertTrue(provenance.get("parameters").get("train").get("uri").asText().endsWith("train-images-idx3-ubyte"));

        MultiLayerNetwork model = ModelSerializer.restoreMultiLayerNetwork(out.resolve("model.zip").toFile(), true);
        assertEquals(784 * 512 + 512 + 512 * 10 + 10, model.numParams());
        assertTrue(model.getUpdater().getStateViewArray().sumNumber().doubleValue() > 0, "RMSprop state saved");
        try (var files = Files.list(out)) {
            assertEquals(List.of("checkpoints", "history.json", "history.png", "model.zip", "provenance.json",
                    "report.html"),
                    files.map(p -> p.getFileName().toString()).sorted().toList(), "no temporary or checksum files left");
        }
    }

    /**
     * The test confusion matrix counts every test example once, and its diagonal gives exactly the
     * test accuracy the evaluation measured: both count with the same prediction rule.
     */
    static void assertConfusionMatrixCountsTheTestSet(JsonNode history, int classes) {
        JsonNode matrix = history.get("test_confusion_matrix");
        assertNotNull(matrix, "test_confusion_matrix missing");
        assertEquals(classes, matrix.size());
        assertEquals(classes, history.get("test_confusion_labels").size());
        long total = 0;
        long correct = 0;
        for (int t = 0; t < classes; t++) {
            assertEquals(classes, matrix.get(t).size());
            for (int p = 0; p < classes; p++) {
                total += matrix.get(t).get(p).asLong();
            }
            correct += matrix.get(t).get(t).asLong();
        }
        assertEquals(history.get("test_examples").asLong(), total);
        assertEquals(history.get("test_accuracy").asDouble(), (double) correct / total, 1e-9);
    }

    @Test
    void averagingEveryFewStepsRunsSeveralRoundsPerEpoch() throws IOException {
        Run run = dptrain("train", "--model", BOOK_SPEC, "--train", trainImages.toString(), "--epochs", "1",
                "--batch-size", "200", "--workers", "2", "--master", "local[2]", "--averaging-frequency", "4",
                "--output", out.toString(), "--conf", "spark.ui.enabled=false");
        assertEquals(ExitCodes.OK, run.code(), run.err());
        assertTrue(run.out().contains("averaging every 4 steps (3 rounds per epoch)"), run.out());
        JsonNode epoch = new ObjectMapper().readTree(out.resolve("history.json").toFile()).get("epochs").get(0);
        assertEquals(3, epoch.get("averaging_rounds").asInt());
        assertEquals(10, epoch.get("steps_per_replica").asInt());
    }

    @Test
    void skipsBadRecordsWhenAskedAndCountsThemPerFileAndReason() throws IOException {
        Path folder = data.resolve("mixed");
        Files.createDirectories(folder);
        StringBuilder a = new StringBuilder();
        StringBuilder b = new StringBuilder();
        for (int r = 0; r < 150; r++) {
            a.append(r % 4).append(",0.5,0.25,").append(r % 7).append('\n');
            b.append(r % 4).append(",0.1,").append(r % 5).append(",0.3\n");
        }
        a.append("1,0.5,abc,0.1\n9,0.1,0.2,0.3\n");
        b.append("2,0.5,xyz,0.1\n");
        Files.writeString(folder.resolve("a.csv"), a);
        Files.writeString(folder.resolve("b.csv"), b);
        Files.writeString(data.resolve("four.yaml"), "input_shape: [3]\nlayers:\n  - dense: {units: 4, activation: softmax}\n"
                + "loss: categorical_crossentropy\n");
        Run run = dptrain("train", "--model", data.resolve("four.yaml").toString(), "--train", folder.toString(),
                "--format", "csv", "--on-bad-record", "skip", "--epochs", "1", "--batch-size", "16", "--workers", "2",
                "--master", "local[2]", "--output", out.toString(), "--conf", "spark.ui.enabled=false");
        assertEquals(ExitCodes.OK, run.code(), run.err());
        assertTrue(run.out().contains("Skipped 3 bad records of --train:"), run.out());
        assertTrue(run.out().contains("a.csv line 151, column 3: 'abc'"), run.out());
        assertTrue(run.out().contains("Train on 300 examples"), run.out());
        JsonNode skipped = new ObjectMapper().readTree(out.resolve("history.json").toFile()).get("skipped_records");
        assertEquals(3, skipped.get("total").asInt());
        assertEquals(2, skipped.get("by_file").get(folder.resolve("a.csv").toUri().toString().replace("file:///", "file:/"))
                .asInt(), skipped.toString());
        assertEquals(2, skipped.get("by_reason").get("'…' is not a number; expected a numeric feature value").asInt(),
                skipped.toString());
    }

    @Test
    void csvDataTrainsTheSameNetwork() throws IOException {
        Path csv = data.resolve("tiny.csv");
        StringBuilder text = new StringBuilder("label");
        for (int i = 0; i < 784; i++) {
            text.append(",p").append(i);
        }
        text.append('\n');
        for (int r = 0; r < 300; r++) {
            text.append(r % 10);
            for (int i = 0; i < 784; i++) {
                text.append(',').append((r * 31 + i * 7) % 256);
            }
            text.append('\n');
        }
        Files.writeString(csv, text);
        Run run = dptrain("train", "--model", BOOK_SPEC, "--train", csv.toString(), "--header", "--scale", "255",
                "--epochs", "1", "--workers", "2", "--master", "local[2]", "--output", out.toString(),
                "--conf", "spark.ui.enabled=false");
        assertEquals(ExitCodes.OK, run.code(), run.err());
        assertTrue(run.out().contains("Train on 300 examples"), run.out());
    }
}
