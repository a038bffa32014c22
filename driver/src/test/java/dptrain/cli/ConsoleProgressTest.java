package dptrain.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dptrain.driver.TrainingConfig;
import dptrain.driver.input.DataInput;
import dptrain.driver.rounds.AveragingSchedule;
import dptrain.driver.rounds.BlockMomentum;
import dptrain.driver.rounds.EpochRecord;
import dptrain.driver.rounds.RoundRecord;
import dptrain.spec.ModelSpec;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The console's epoch lines, and the live bar drawn only on a terminal. */
class ConsoleProgressTest {

    private static TrainingConfig config(int epochs) throws IOException {
        ModelSpec spec = ModelSpec.parse(Files.readString(Path.of(TrainCommandTest.BOOK_SPEC)), "mnist-mlp.yaml");
        return TrainingConfig.builder(spec, DataInput.idx("train-images-idx3-ubyte")).epochs(epochs).workers(2)
                .averaging(AveragingSchedule.everyMinibatches(2)).blockMomentum(BlockMomentum.NONE).seed(1L).output("out")
                .build();
    }

    /** Two epochs of three rounds: 1000 examples in 0.5 s per round, loss falling. */
    private static String run(boolean terminal) throws IOException {
        StringWriter text = new StringWriter();
        ConsoleProgress progress = new ConsoleProgress(new PrintWriter(text), config(2), terminal);
        progress.started(6000, 0, 6, 3, 64);
        for (int epoch = 1; epoch <= 2; epoch++) {
            for (int round = 1; round <= 3; round++) {
                progress.roundEnded(new RoundRecord(epoch, 2, round, 3, 1000, 1.0 / (epoch * round), 0.01, 0.4, 0.01,
                        0.45, 0.04, 0.5, 0));
            }
            progress.epochEnded(new EpochRecord(epoch, 0.5 / epoch, Map.of("accuracy", 0.8), Double.NaN, Map.of(), 1.5, 3000, 3, 6, 12,
                    1.2));
        }
        return text.toString();
    }

    @Test
    void printsOnlyTheEpochLinesWhenNotOnATerminal() throws IOException {
        String out = run(false);
        assertFalse(out.contains("\r"), out);
        assertEquals("""
                Train on 6000 examples; 2 workers, 6 steps per worker per epoch, averaging every 2 steps (3 rounds per epoch); \
                minibatches of 64 per worker (--batch-size 128, --batch-scope global)
                Epoch 1/2 - 1.5s - loss: 0.5000 - accuracy: 0.8000
                Epoch 2/2 - 1.5s - loss: 0.2500 - accuracy: 0.8000
                """, out);
    }

    @Test
    void drawsALiveBarOnATerminalAndClearsItBeforeEachEpochLine() throws IOException {
        String out = run(true);
        assertTrue(out.contains("\rEpoch 1/2 [>                             ] 0/3 rounds"), out);
        assertTrue(out.contains("\rEpoch 1/2 [==========>                   ] 1/3 rounds - 2000 examples/s - ETA 1.0s"
                + " - loss: 1.0000"), out);
        // Rounds 1 and 2 of epoch 2: losses 0.5 and 0.25 over 1000 examples each.
        assertTrue(out.contains("\rEpoch 2/2 [====================>         ] 2/3 rounds - 2000 examples/s - ETA 0.5s"
                + " - loss: 0.3750"), out);
        assertTrue(out.contains("\rEpoch 2/2 [==============================] 3/3 rounds - 2000 examples/s - loss:"), out);
        // What remains once the terminal has applied the carriage returns: the same lines as without a terminal.
        assertEquals(run(false), asTerminalShowsIt(out));
    }

    @Test
    void barShowsNoRateOrEtaBeforeTheFirstRound() {
        assertEquals("Epoch 3/5 [>                             ] 0/4 rounds",
                ConsoleProgress.bar(3, 5, 0, 4, 0, 0, Double.NaN));
    }

    /** Text as a terminal displays it: a carriage return moves back to the line's start, overwriting. */
    private static String asTerminalShowsIt(String raw) {
        StringBuilder screen = new StringBuilder();
        StringBuilder line = new StringBuilder();
        int column = 0;
        for (char c : raw.toCharArray()) {
            if (c == '\r') {
                column = 0;
            } else if (c == '\n') {
                screen.append(line.toString().stripTrailing()).append('\n');
                line.setLength(0);
                column = 0;
            } else {
                if (column < line.length()) {
                    line.setCharAt(column, c);
                } else {
                    line.append(c);
                }
                column++;
            }
        }
        return screen.append(line.toString().stripTrailing()).toString();
    }
}
