package dptrain.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dptrain.testing.FashionMnist;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Bad specs, missing files, wrong formats and bad flags: each gives one sentence naming the input and
 * what was expected, a distinct non-zero exit code, and leaves the output folder untouched.
 */
class TrainCommandErrorsTest {
    @TempDir
    static Path dir;
    static Path images;

    @BeforeAll
    static void data() throws IOException {
        images = FashionMnist.writeSlice(dir.resolve("good"), "train", "train", 0, 200);
        write("bad-units.yaml", "input_shape: [784]\nlayers:\n  - dense: {units: -5, activation: relu}\n"
                + "  - dense: {units: 10, activation: softmax}\nloss: categorical_crossentropy\n");
        write("bad-activation.yaml", "input_shape: [784]\nlayers:\n  - dense: {units: 10, activation: sofmax}\n"
                + "loss: categorical_crossentropy\n");
        write("bad-key.yaml", "input_shape: [784]\nlayerz: []\n");
        write("not-yaml.yaml", "input_shape: [784\nlayers: {\n");
        write("small-input.yaml", "input_shape: [100]\nlayers:\n  - dense: {units: 10, activation: softmax}\n"
                + "loss: categorical_crossentropy\n");
        write("five-classes.yaml", "input_shape: [784]\nlayers:\n  - dense: {units: 5, activation: softmax}\n"
                + "loss: categorical_crossentropy\n");
        write("gzip-named-raw-images-idx3-ubyte", "this is not an IDX file at all");
        write("gzip-named-raw-labels-idx1-ubyte", "neither is this");
        write("bad.csv", "3,0.5,0.25\n4,0.5,abc\n");
        write("data.txt", "1,2,3\n");
    }

    private static void write(String name, String content) throws IOException {
        Files.writeString(dir.resolve(name), content, StandardCharsets.UTF_8);
    }

    static Stream<Arguments> badInputs() {
        String spec = TrainCommandTest.BOOK_SPEC;
        String good = dir.resolve("good/train-images-idx3-ubyte").toString();
        return Stream.of(
                Arguments.of("spec: negative units", ExitCodes.INPUT, List.of("--model", p("bad-units.yaml"), "--train", good),
                        List.of("bad-units.yaml", "units", "-5")),
                Arguments.of("spec: unknown activation", ExitCodes.INPUT,
                        List.of("--model", p("bad-activation.yaml"), "--train", good), List.of("activation", "sofmax")),
                Arguments.of("spec: unknown key", ExitCodes.INPUT, List.of("--model", p("bad-key.yaml"), "--train", good),
                        List.of("layerz")),
                Arguments.of("spec: malformed YAML", ExitCodes.INPUT, List.of("--model", p("not-yaml.yaml"), "--train", good),
                        List.of("not-yaml.yaml", "line")),
                Arguments.of("spec: missing file", ExitCodes.INPUT, List.of("--model", p("nope.yaml"), "--train", good),
                        List.of("nope.yaml", "no such file")),
                Arguments.of("data: missing training file", ExitCodes.INPUT,
                        List.of("--model", spec, "--train", p("missing-images-idx3-ubyte.gz")),
                        List.of("missing-images-idx3-ubyte.gz", "no such file")),
                Arguments.of("data: not an IDX file", ExitCodes.INPUT,
                        List.of("--model", spec, "--train", p("gzip-named-raw-images-idx3-ubyte")),
                        List.of("gzip-named-raw-images-idx3-ubyte", "not an IDX file")),
                Arguments.of("data: features do not match the model", ExitCodes.INPUT,
                        List.of("--model", p("small-input.yaml"), "--train", good),
                        List.of("train-images-idx3-ubyte", "record 1", "784 features", "expected 100")),
                Arguments.of("data: label outside the model's classes", ExitCodes.INPUT,
                        List.of("--model", p("five-classes.yaml"), "--train", good),
                        List.of("train-images-idx3-ubyte", "label", "[0, 5)")),
                Arguments.of("data: CSV value that is not a number", ExitCodes.INPUT,
                        List.of("--model", p("small-input.yaml"), "--train", p("bad.csv")),
                        List.of("bad.csv", "line 1", "expected 101")),
                Arguments.of("data: format not told by the name", ExitCodes.USAGE,
                        List.of("--model", spec, "--train", p("data.txt")), List.of("data.txt", "--format")),
                Arguments.of("flag: unknown format", ExitCodes.USAGE,
                        List.of("--model", spec, "--train", good, "--format", "parquett"), List.of("--format", "parquett")),
                Arguments.of("flag: epochs not a number", ExitCodes.USAGE,
                        List.of("--model", spec, "--train", good, "--epochs", "five"), List.of("--epochs", "five")),
                Arguments.of("flag: zero epochs", ExitCodes.USAGE,
                        List.of("--model", spec, "--train", good, "--epochs", "0"), List.of("--epochs", "0")),
                Arguments.of("flag: zero batch size", ExitCodes.USAGE,
                        List.of("--model", spec, "--train", good, "--batch-size", "0"), List.of("--batch-size", "0")),
                Arguments.of("flag: zero workers", ExitCodes.USAGE,
                        List.of("--model", spec, "--train", good, "--workers", "0"), List.of("--workers", "0")),
                Arguments.of("flag: averaging frequency zero", ExitCodes.USAGE,
                        List.of("--model", spec, "--train", good, "--averaging-frequency", "0"),
                        List.of("--averaging-frequency", "'0'", "epoch")),
                Arguments.of("flag: validation split of one", ExitCodes.USAGE,
                        List.of("--model", spec, "--train", good, "--validation-split", "1"),
                        List.of("--validation-split", "1.0", "[0, 1)")),
                Arguments.of("flag: more workers than examples", ExitCodes.INPUT,
                        List.of("--model", spec, "--train", good, "--workers", "300"),
                        List.of("--workers", "300", "200")),
                Arguments.of("flag: missing --train", ExitCodes.USAGE, List.of("--model", spec), List.of("--train")));
    }

    private static String p(String name) {
        return dir.resolve(name).toString();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badInputs")
    void failsWithAClearMessageAndLeavesTheOutputUntouched(String what, int exitCode, List<String> flags,
            List<String> mentions) throws IOException {
        Path out = dir.resolve("out-" + what.replaceAll("[^a-z]+", "-"));
        Files.createDirectories(out);
        Files.writeString(out.resolve("model.zip"), "a good model from an earlier run");

        List<String> args = new ArrayList<>(List.of("train", "--output", out.toString(), "--master", "local[2]",
                "--conf", "spark.ui.enabled=false"));
        args.addAll(flags);
        TrainCommandTest.Run run = TrainCommandTest.dptrain(args.toArray(String[]::new));

        assertEquals(exitCode, run.code(), what + ": " + run.err());
        for (String mention : mentions) {
            assertTrue(run.err().contains(mention), what + ": the message should mention '" + mention + "': " + run.err());
        }
        assertFalse(run.err().contains("\tat "), what + ": no stack trace without --verbose: " + run.err());
        assertFalse(run.err().contains("Exception"), what + ": no exception class names: " + run.err());
        assertEquals("a good model from an earlier run", Files.readString(out.resolve("model.zip")));
        try (Stream<Path> files = Files.list(out)) {
            assertEquals(1, files.count(), what + ": nothing else written");
        }
    }
}
