package dptrain.cli;

import dptrain.driver.DistributedTrainer;
import dptrain.driver.TrainingConfig;
import dptrain.driver.TrainingResult;
import dptrain.driver.input.ValidationReport;
import dptrain.driver.rounds.EpochRecord;
import dptrain.driver.rounds.RoundRecord;
import dptrain.replica.OptimizerStateScope;
import java.io.PrintWriter;
import java.util.Locale;

/**
 * Keras-style console output: a summary line, then one line per epoch (and per fold in cv). On a
 * terminal, a live bar also shows each epoch's progress (rounds done, examples/s, ETA, running
 * loss), redrawn in place with {@code \r} and cleared before the epoch's line, so the lines stay
 * the same whether or not a bar was drawn. Elsewhere (pipes, files, CI) only the lines appear.
 */
final class ConsoleProgress implements DistributedTrainer.FoldProgress {
    static final int BAR_WIDTH = 30;

    private final PrintWriter out;
    private final TrainingConfig config;
    private final boolean liveBar;
    private int roundsPerEpoch;
    private int firstEpoch = 1;
    private int barLength;
    // The current epoch's rounds so far.
    private int roundsDone;
    private long examples;
    private double seconds;
    private double lossSum;

    /** Draws the live bar only when the console is an interactive terminal and {@code out} writes to it. */
    ConsoleProgress(PrintWriter out, TrainingConfig config) {
        this(out, config, out == Dptrain.STDOUT && System.console() != null);
    }

    ConsoleProgress(PrintWriter out, TrainingConfig config, boolean liveBar) {
        this.out = out;
        this.config = config;
        this.liveBar = liveBar;
    }

    @Override
    public void skipped(String flag, ValidationReport report) {
        if (report.badRecords() > 0) {
            out.println(report.describeSkipped(flag));
            out.flush();
        }
    }

    @Override
    public void started(long trainingExamples, long validationExamples, int stepsPerEpoch, int roundsPerEpoch,
            int workerMinibatch) {
        out.printf(Locale.ROOT, "Train on %d examples%s; %d %s, %d steps per worker per epoch, %s%n",
                trainingExamples, validationExamples > 0 ? ", validate on " + validationExamples + " examples" : "",
                config.workers(), config.workers() == 1 ? "worker" : "workers", stepsPerEpoch,
                (roundsPerEpoch == 1 ? "averaging once per epoch"
                        : "averaging every " + config.minibatchesPerRound(stepsPerEpoch) + " steps (" + roundsPerEpoch
                                + " rounds per epoch)")
                        + (config.blockMomentum().enabled() ? String.format(Locale.ROOT, ", block momentum %.3g%s",
                                config.blockMomentum().momentum(), config.blockMomentum().nesterov() ? " (Nesterov)" : "")
                                : "")
                        + splitBatch(workerMinibatch)
                        + (config.deltaPrecision().rounds() ? "; parameter deltas in " + config.deltaPrecision()
                                + " with error feedback (--delta-precision)" : "")
                        + (config.optimizerState() == OptimizerStateScope.LOCAL ? "; each replica keeps its "
                                + "optimizer state between the epoch's exact rounds (--optimizer-state local)" : ""));
        out.flush();
        this.roundsPerEpoch = roundsPerEpoch;
        startEpoch(firstEpoch);
    }

    /** Says how the batch is split when each worker's minibatch is not the batch size (--batch-scope). */
    private String splitBatch(int perWorker) {
        return perWorker == config.batchSize() ? "" : String.format(Locale.ROOT,
                "; minibatches of %d per worker (--batch-size %d, --batch-scope %s)", perWorker, config.batchSize(),
                config.batchScope());
    }

    @Override
    public void roundTransport(String description) {
        clearBar();
        out.println("Rounds: " + description);
        out.flush();
    }

    @Override
    public void epochEnded(EpochRecord record) {
        clearBar();
        out.println(record.progressLine(config.epochs()));
        out.flush();
        if (record.epoch() < config.epochs()) {
            startEpoch(record.epoch() + 1);
        }
    }

    @Override
    public void resumed(String checkpoint, int epochsDone, int batchesDone, int stepsPerEpoch, int iteration) {
        clearBar();
        firstEpoch = epochsDone + 1;
        out.printf(Locale.ROOT, "Resuming from checkpoint: epoch %d of %d done, %d of %d minibatches into epoch %d, "
                + "step %d (%s)%n", epochsDone, config.epochs(), batchesDone, stepsPerEpoch, epochsDone + 1, iteration,
                checkpoint);
        out.flush();
    }

    @Override
    public void outputLockTakenOver(String notice) {
        clearBar();
        out.println("Note: " + notice);
        out.flush();
    }

    @Override
    public void roundTransportChanged(int epoch, String description) {
        clearBar();
        out.printf(Locale.ROOT, "Rounds from epoch %d: %s%n", epoch, description);
        out.flush();
    }

    @Override
    public void cacheRespread(int epoch, String notice) {
        clearBar();
        out.printf(Locale.ROOT, "Note: epoch %d: %s%n", epoch, notice);
        out.flush();
    }

    @Override
    public void checkpointRejected(String why) {
        clearBar();
        out.println("Warning: " + why);
        out.flush();
    }

    @Override
    public void replicasRejected(int epoch, int round, java.util.List<String> reasons) {
        clearBar();
        out.printf(Locale.ROOT, "Warning: epoch %d round %d: rejected %s (left out of the average): %s%n", epoch, round,
                reasons.size() == 1 ? "a replica" : reasons.size() + " replicas", String.join("; ", reasons));
        out.flush();
    }

    @Override
    public void earlyStopped(int epoch, int bestEpoch, double bestValLoss, boolean restoredBest) {
        clearBar();
        out.printf(Locale.ROOT, "Early stopping after epoch %d: val_loss has not improved since epoch %d (%.4f)%s%n",
                epoch, bestEpoch, bestValLoss, restoredBest ? "; restored epoch " + bestEpoch + "'s weights" : "");
        out.flush();
    }

    @Override
    public void foldStarted(int fold, int folds) {
        out.printf("Fold %d/%d%n", fold, folds);
        out.flush();
    }

    @Override
    public void foldEnded(int fold, int folds, TrainingResult result) {
        clearBar();
        EpochRecord last = result.epochs().get(result.epochs().size() - 1);
        StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "Fold %d/%d - val_loss: %.4f", fold, folds,
                last.valLoss()));
        last.valMetrics().forEach((name, value) -> line.append(String.format(Locale.ROOT, " - val_%s: %.4f", name,
                value)));
        out.println(line);
        out.flush();
    }

    @Override
    public void roundEnded(RoundRecord record) {
        if (!liveBar) {
            return;
        }
        roundsDone = record.round();
        examples += record.examples();
        seconds += record.seconds();
        if (Double.isFinite(record.loss())) {
            lossSum += record.loss() * record.examples();
        }
        draw(bar(record.epoch(), record.epochs(), roundsDone, record.rounds(), examples, seconds,
                examples > 0 ? lossSum / examples : Double.NaN));
    }

    private void startEpoch(int epoch) {
        roundsDone = 0;
        examples = 0;
        seconds = 0;
        lossSum = 0;
        if (liveBar) {
            draw(bar(epoch, config.epochs(), 0, roundsPerEpoch, 0, 0, Double.NaN));
        }
    }

    /**
     * One bar line, e.g. {@code Epoch 2/5 [=========>          ] 3/10 rounds - 14532 examples/s -
     * ETA 4.2s - loss: 0.4512}: the ETA assumes the epoch's remaining rounds take as long as its
     * rounds so far.
     */
    static String bar(int epoch, int epochs, int done, int rounds, long examples, double seconds, double loss) {
        int filled = rounds > 0 ? (int) ((long) BAR_WIDTH * done / rounds) : 0;
        StringBuilder bar = new StringBuilder(BAR_WIDTH);
        for (int i = 0; i < BAR_WIDTH; i++) {
            bar.append(i < filled ? '=' : i == filled && done < rounds ? '>' : ' ');
        }
        StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "Epoch %d/%d [%s] %d/%d rounds", epoch,
                epochs, bar, done, rounds));
        if (done > 0 && seconds > 0) {
            line.append(String.format(Locale.ROOT, " - %.0f examples/s", examples / seconds));
            if (done < rounds) {
                line.append(String.format(Locale.ROOT, " - ETA %.1fs", seconds / done * (rounds - done)));
            }
        }
        if (Double.isFinite(loss)) {
            line.append(String.format(Locale.ROOT, " - loss: %.4f", loss));
        }
        return line.toString();
    }

    /** Redraws the bar in place: back to the line's start, the new text, blanks over any longer old text. */
    private void draw(String bar) {
        out.print('\r');
        out.print(bar);
        for (int i = bar.length(); i < barLength; i++) {
            out.print(' ');
        }
        barLength = bar.length();
        out.flush();
    }

    private void clearBar() {
        if (liveBar && barLength > 0) {
            out.print('\r');
            out.print(" ".repeat(barLength));
            out.print('\r');
            barLength = 0;
        }
    }
}
