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
