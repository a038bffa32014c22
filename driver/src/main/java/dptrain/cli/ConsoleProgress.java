package dptrain.cli;

import dptrain.driver.DistributedTrainer;
import dptrain.driver.EpochRecord;
import dptrain.driver.TrainingConfig;
import dptrain.driver.TrainingResult;
import dptrain.driver.ValidationReport;
import java.io.PrintWriter;
import java.util.Locale;

/** Keras-style console output: a summary line, then one line per epoch (and per fold in cv). */
final class ConsoleProgress implements DistributedTrainer.FoldProgress {
    private final PrintWriter out;
    private final TrainingConfig config;

    ConsoleProgress(PrintWriter out, TrainingConfig config) {
        this.out = out;
        this.config = config;
    }

    @Override
    public void skipped(String flag, ValidationReport report) {
        if (report.badRecords() > 0) {
            out.println(report.describeSkipped(flag));
            out.flush();
        }
    }

    @Override
    public void started(long trainingExamples, long validationExamples, int stepsPerEpoch, int roundsPerEpoch) {
        out.printf(Locale.ROOT, "Train on %d examples%s; %d %s, %d steps per worker per epoch, %s%n",
                trainingExamples, validationExamples > 0 ? ", validate on " + validationExamples + " examples" : "",
                config.workers(), config.workers() == 1 ? "worker" : "workers", stepsPerEpoch,
                roundsPerEpoch == 1 ? "averaging once per epoch"
                        : "averaging every " + config.batchesPerRound(stepsPerEpoch) + " steps (" + roundsPerEpoch
                                + " rounds per epoch)");
        out.flush();
    }

    @Override
    public void epochEnded(EpochRecord record) {
        out.println(record.progressLine(config.epochs()));
        out.flush();
    }

    @Override
    public void resumed(String checkpoint, int epochsDone, int batchesDone, int stepsPerEpoch, int iteration) {
        out.printf(Locale.ROOT, "Resuming from checkpoint: epoch %d of %d done, %d of %d minibatches into epoch %d, "
                + "step %d (%s)%n", epochsDone, config.epochs(), batchesDone, stepsPerEpoch, epochsDone + 1, iteration,
                checkpoint);
        out.flush();
    }

    @Override
    public void checkpointRejected(String why) {
        out.println("Warning: " + why);
        out.flush();
    }

    @Override
    public void replicasRejected(int epoch, int round, java.util.List<String> reasons) {
        out.printf(Locale.ROOT, "Warning: epoch %d round %d: rejected %s (left out of the average): %s%n", epoch, round,
                reasons.size() == 1 ? "a replica" : reasons.size() + " replicas", String.join("; ", reasons));
        out.flush();
    }

    @Override
    public void earlyStopped(int epoch, int bestEpoch, double bestValLoss, boolean restoredBest) {
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
        EpochRecord last = result.epochs().get(result.epochs().size() - 1);
        out.printf(Locale.ROOT, "Fold %d/%d - val_loss: %.4f - val_accuracy: %.4f%n", fold, folds, last.valLoss(),
                last.valAccuracy());
        out.flush();
    }
}
