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
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** --early-stopping-patience and --restore-best, as Keras's EarlyStopping(monitor="val_loss") does them. */
class EarlyStoppingTest {
    @TempDir
    static Path data;

    static String[] args(Path spec, Path images, Path out, String epochs, String... more) {
        List<String> all = new java.util.ArrayList<>(List.of("train", "--model", spec.toString(), "--train",
                images.toString(), "--epochs", epochs, "--batch-size", "32", "--workers", "2", "--master", "local[2]",
                "--validation-split", "0.5", "--output", out.toString(), "--conf", "spark.ui.enabled=false"));
        all.addAll(List.of(more));
        return all.toArray(String[]::new);
    }

    @Test
    void stopsWhenValLossStopsFallingAndRestoresTheBestEpoch(@TempDir Path stopped, @TempDir Path upToBest)
            throws IOException {
        // 300 images, half held out, and a fast optimizer: the network overfits within a few epochs.
        Path images = FashionMnist.writeSlice(data, "train", "train", 0, 300);
        Path spec = data.resolve("overfit.yaml");
        Files.writeString(spec, "input_shape: [784]\nlayers:\n  - dense: {units: 256, activation: relu}\n"
                + "  - dense: {units: 10, activation: softmax}\noptimizer: {rmsprop: {learning_rate: 0.005}}\n"
                + "loss: categorical_crossentropy\nseed: 7\n");
        TrainCommandTest.Run run = dptrain(args(spec, images, stopped, "30", "--early-stopping-patience", "2",
                "--restore-best"));
        assertEquals(ExitCodes.OK, run.code(), run.err());
        Matcher m = Pattern.compile("Early stopping after epoch (\\d+): val_loss has not improved since epoch (\\d+) "
                + "\\(([0-9.]+)\\); restored epoch \\d+'s weights").matcher(run.out());
        assertTrue(m.find(), run.out());
        int last = Integer.parseInt(m.group(1));
        int best = Integer.parseInt(m.group(2));
        assertEquals(best + 2, last, "patience 2: two epochs without improvement");
        assertTrue(last < 30, "it stopped early");

        JsonNode valLoss = new ObjectMapper().readTree(stopped.resolve("history.json").toFile()).get("history")
                .get("val_loss");
        assertEquals(last, valLoss.size());
        for (int e = 0; e < last; e++) {
            if (e != best - 1) {
                assertTrue(valLoss.get(e).asDouble() >= valLoss.get(best - 1).asDouble(), "epoch " + (best) + " is best");
            }
        }
        // The restored weights are the best epoch's: the same bits as a run that stops there.
        TrainCommandTest.Run shorter = dptrain(args(spec, images, upToBest, String.valueOf(best)));
        assertEquals(ExitCodes.OK, shorter.code(), shorter.err());
        assertArrayEquals(ResumeTest.parameters(upToBest), ResumeTest.parameters(stopped));
    }

    @Test
    void earlyStoppingNeedsValidationData(@TempDir Path out) throws IOException {
        Path images = FashionMnist.writeSlice(data, "train", "small", 0, 100);
        TrainCommandTest.Run run = dptrain("train", "--model", TrainCommandTest.BOOK_SPEC, "--train", images.toString(),
                "--early-stopping-patience", "2", "--output", out.toString());
        assertEquals(ExitCodes.USAGE, run.code(), run.err());
        assertTrue(run.err().contains("--early-stopping-patience needs --validation-split"), run.err());
    }
}
