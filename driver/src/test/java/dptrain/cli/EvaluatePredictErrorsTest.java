package dptrain.cli;

import static dptrain.cli.ErrorCases.bad;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dptrain.spec.ModelSpec;
import dptrain.testing.FashionMnist;
import dptrain.testing.Tables;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Bad model files, data that does not fit the model, and bad flags for {@code evaluate} and
 * {@code predict}: one sentence naming the input and what was expected, the right exit code, no
 * stack trace, and nothing written.
 */
class EvaluatePredictErrorsTest {
    @TempDir
    static Path dir;
    static String images;

    @BeforeAll
    static void files() throws IOException {
        images = FashionMnist.writeSlice(dir.resolve("idx"), "t10k", "test", 0, 100).toString();
        model("three-inputs.zip", "input_shape: [3]\nlayers:\n  - dense: {units: 4, activation: softmax}\n"
                + "loss: categorical_crossentropy\n");
        model("five-classes.zip", "input_shape: [784]\nlayers:\n  - dense: {units: 5, activation: softmax}\n"
                + "loss: categorical_crossentropy\n");
        model("ten-classes.zip", "input_shape: [784]\nlayers:\n  - dense: {units: 10, activation: softmax}\n"
                + "loss: categorical_crossentropy\n");
        model("one-unit.zip", "input_shape: [784]\nlayers:\n  - dense: {units: 1, activation: sigmoid}\n"
                + "loss: binary_crossentropy\n");
        Files.writeString(dir.resolve("text.zip"), "input_shape: [784]\n", StandardCharsets.UTF_8);
        Files.createDirectories(dir.resolve("folder.zip"));
        try (OutputStream file = Files.newOutputStream(dir.resolve("other.zip"));
                ZipOutputStream zip = new ZipOutputStream(file)) {
            zip.putNextEntry(new ZipEntry("notes.txt"));
            zip.write("not a model".getBytes(StandardCharsets.UTF_8));
            zip.closeEntry();
        }
        Files.writeString(dir.resolve("three.csv"), "1,0.5,0.25,0.125\n2,0.5,0.5,1\n", StandardCharsets.UTF_8);
        Files.writeString(dir.resolve("short-row.csv"), "1,0.5,0.25,0.125\n2,0.5\n", StandardCharsets.UTF_8);
        // Data without labels, given without --no-label.
        Files.writeString(dir.resolve("three-unlabeled.csv"), "0.5,0.25,0.125\n0.5,0.5,1\n", StandardCharsets.UTF_8);
        Files.writeString(dir.resolve("three-unlabeled.svm"), "1:0.5 2:0.25 3:0.125\n1:0.5 3:1\n",
                StandardCharsets.UTF_8);
        Path imagesOnly = dir.resolve("images-only/test-images-idx3-ubyte");
        Files.createDirectories(imagesOnly.getParent());
        Files.copy(Path.of(images), imagesOnly);
        Tables.writeParquet(dir.resolve("unlabeled.parquet"), new StructType().add("features",
                DataTypes.createArrayType(DataTypes.DoubleType)), List.of(RowFactory.create(List.of(0.5, 0.25, 0.125))));
    }

    private static void model(String name, String spec) throws IOException {
        MultiLayerNetwork net = new MultiLayerNetwork(ModelSpec.parse(spec, name).configuration());
        net.init();
        ModelSerializer.writeModel(net, dir.resolve(name).toFile(), false);
    }

    private static String p(String name) {
        return dir.resolve(name).toString();
    }

    static Stream<Arguments> badInputs() {
        int input = ExitCodes.INPUT;
        int usage = ExitCodes.USAGE;
        List<Arguments> cases = new ArrayList<>();
        for (String command : List.of("evaluate", "predict")) {
            cases.addAll(List.of(
                    bad(command + ": missing model file", input, List.of(command, "--model", p("nope.zip"), "--data", images),
                            "nope.zip", "no such file"),
                    bad(command + ": model is a folder", input, List.of(command, "--model", p("folder.zip"), "--data", images),
                            "folder.zip", "is a folder"),
                    bad(command + ": model is not a zip", input, List.of(command, "--model", p("text.zip"), "--data", images),
                            "text.zip", "not a zip archive", "model.zip"),
                    bad(command + ": zip that is not a DL4J model", input,
                            List.of(command, "--model", p("other.zip"), "--data", images),
                            "other.zip", "not a DL4J model", "configuration.json"),
                    bad(command + ": model input size does not match the data", input,
                            List.of(command, "--model", p("three-inputs.zip"), "--data", images),
                            "test-images-idx3-ubyte", "28×28 = 784 features", "three-inputs.zip takes 3 inputs"),
                    bad(command + ": model input size does not match CSV data", input,
                            List.of(command, "--model", p("ten-classes.zip"), "--data", p("three.csv")),
                            "three.csv has 3 features per row", "ten-classes.zip takes 784 inputs"),
                    bad(command + ": zero batch size", usage,
                            List.of(command, "--model", p("ten-classes.zip"), "--data", images, "--batch-size", "0"),
                            "--batch-size", "0"),
                    bad(command + ": missing --data", usage, List.of(command, "--model", p("ten-classes.zip")), "--data"),
                    bad(command + ": CSV without a label column, without --no-label", input,
                            List.of(command, "--model", p("three-inputs.zip"), "--data", p("three-unlabeled.csv")),
                            "three-unlabeled.csv has 2 features per row", "three-inputs.zip takes 3 inputs",
                            "if the rows have no label column, predict them with --no-label"),
                    bad(command + ": LibSVM without labels, without --no-label", input,
                            List.of(command, "--model", p("three-inputs.zip"), "--data", p("three-unlabeled.svm")),
                            "three-unlabeled.svm line 1, column 1", "'1:0.5' is a feature, not a label", "--no-label"),
                    bad(command + ": IDX images without a labels file, without --no-label", input,
                            List.of(command, "--model", p("ten-classes.zip"), "--data", p("images-only")),
                            "test-labels-idx1-ubyte is missing", "predict takes --no-label"),
                    bad(command + ": Parquet without a label column, without --no-label", input,
                            List.of(command, "--model", p("three-inputs.zip"), "--data", p("unlabeled.parquet")),
                            "has no column 'label'; its columns are features",
                            "(set --label-col; for a table without labels, predict takes --no-label)")));
        }
        cases.addAll(List.of(
                bad("evaluate: labels outside the model's classes", input,
                        List.of("evaluate", "--model", p("five-classes.zip"), "--data", images),
                        "test-images-idx3-ubyte", "label", "[0, 5)", "bad records by reason"),
                bad("evaluate: top-k of zero", usage,
                        List.of("evaluate", "--model", p("ten-classes.zip"), "--data", images, "--top-k", "0"), "--top-k", "0"),
                bad("evaluate: top-k beyond the classes", usage,
                        List.of("evaluate", "--model", p("ten-classes.zip"), "--data", images, "--top-k", "11"),
                        "--top-k", "11", "10 classes"),
                bad("evaluate: one row shorter than the model's input", input,
                        List.of("evaluate", "--model", p("three-inputs.zip"), "--data", p("short-row.csv")),
                        "short-row.csv line 2", "2 columns", "4"),
                bad("evaluate: top-k for a single output unit", usage,
                        List.of("evaluate", "--model", p("one-unit.zip"), "--data", images, "--top-k", "2"),
                        "--top-k", "2", "1 output unit", "at most 1"),
                bad("evaluate: --no-label", usage,
                        List.of("evaluate", "--model", p("ten-classes.zip"), "--data", images, "--no-label"),
                        "--no-label: 'dptrain evaluate' needs labelled data", "only 'dptrain predict'"),
                bad("predict: --no-label for a CSV with a label column", input,
                        List.of("predict", "--model", p("three-inputs.zip"), "--data", p("three.csv"), "--no-label"),
                        "three.csv has 4 features per row (line 1 has 4 values and, with --no-label, no label)",
                        "three-inputs.zip takes 3 inputs"),
                bad("predict: --no-label with --label-column", usage,
                        List.of("predict", "--model", p("three-inputs.zip"), "--data", p("three-unlabeled.csv"),
                                "--no-label", "--label-column", "0"),
                        "--no-label and --label-column contradict each other", "pass one of them"),
                bad("predict: --no-label with --label-col", usage,
                        List.of("predict", "--model", p("three-inputs.zip"), "--data", p("unlabeled.parquet"),
                                "--no-label", "--label-col", "class"),
                        "--no-label and --label-col contradict each other"),
                bad("predict: unknown output format", usage,
                        List.of("predict", "--model", p("ten-classes.zip"), "--data", images, "--output-format", "json"),
                        "--output-format", "json"),
                bad("predict: key column of CSV input", input,
                        List.of("predict", "--model", p("three-inputs.zip"), "--data", p("three.csv"), "--id-col", "key"),
                        "--id-col", "Parquet")));
        return cases.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badInputs")
    void failsWithAClearMessageAndWritesNothing(String what, int exitCode, List<String> command, List<String> mentions)
            throws IOException {
        Path out = dir.resolve("out-" + what.replaceAll("[^a-z]+", "-"));
        List<String> args = new ArrayList<>(command);
        args.addAll(List.of("--master", "local[2]", "--conf", "spark.ui.enabled=false", "--output", out.toString()));
        TrainCommandTest.Run run = TrainCommandTest.dptrain(args.toArray(String[]::new));
        ErrorCases.assertClearError(what, exitCode, mentions, run);
        if (Files.exists(out)) {
            try (Stream<Path> files = Files.list(out)) {
                assertEquals(List.of(), files.toList(), what + ": nothing written");
            }
        }
        assertFalse(Files.exists(dir.resolve("evaluation.json")), what + ": no evaluation beside the models");
    }

    @Test
    void predictDoesNotCheckLabelsItDoesNotUse() {
        Path out = dir.resolve("five-class-predictions");
        TrainCommandTest.Run run = TrainCommandTest.dptrain("predict", "--model", p("five-classes.zip"), "--data", images,
                "--output", out.toString(), "--output-format", "csv", "--master", "local[2]", "--conf",
                "spark.ui.enabled=false");
        assertEquals(ExitCodes.OK, run.code(), "labels up to 9 against 5 classes: " + run.err());
        assertTrue(run.out().contains("Wrote predictions for 100 rows"), run.out());
    }

    @Test
    void predictIgnoresALabelBeyondTheClassesEvenInABatchsLastRow() throws IOException {
        // Labels 9 and 7 against 4 classes, each the last row of its batch: predict must not encode them.
        Files.writeString(dir.resolve("big-labels.csv"), "9,0.5,0.25,0.125\n7,0.5,0.5,1\n", StandardCharsets.UTF_8);
        Path out = dir.resolve("big-label-predictions");
        TrainCommandTest.Run run = TrainCommandTest.dptrain("predict", "--model", p("three-inputs.zip"), "--data",
                p("big-labels.csv"), "--batch-size", "1", "--output", out.toString(), "--output-format", "csv",
                "--master", "local[2]", "--conf", "spark.ui.enabled=false");
        assertEquals(ExitCodes.OK, run.code(), "labels 9 and 7 against 4 classes: " + run.err());
        assertTrue(run.out().contains("Wrote predictions for 2 rows"), run.out());
    }
}
