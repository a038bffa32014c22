package dptrain.driver.metrics;

import dptrain.driver.DistributedTrainer;
import dptrain.driver.TrainingProgress;
import dptrain.driver.TrainingResult;
import dptrain.driver.input.ValidationReport;
import dptrain.driver.rounds.EpochRecord;
import dptrain.driver.rounds.RoundRecord;
import dptrain.driver.rounds.RoundTraffic;
import java.util.List;

/**
 * Records the run's progress in its {@link TrainingMetrics}, then hands every call on to the
 * run's own listener, so that the metrics are current when that listener hears of a round.
 */
final class RecordingProgress implements DistributedTrainer.FoldProgress {
    private final TrainingMetrics metrics;
    private final TrainingProgress next;
    private boolean trafficCounted;

    RecordingProgress(TrainingMetrics metrics, TrainingProgress next) {
        this.metrics = metrics;
        this.next = next;
    }

    @Override
    public void started(long trainingExamples, long validationExamples, int stepsPerEpoch, int roundsPerEpoch,
            int workerMinibatch) {
        next.started(trainingExamples, validationExamples, stepsPerEpoch, roundsPerEpoch, workerMinibatch);
    }

    @Override
    public void roundTransport(String description) {
        next.roundTransport(description);
    }

    @Override
    public void cacheRespread(int epoch, String notice) {
        next.cacheRespread(epoch, notice);
    }

    @Override
    public void roundTransportChanged(int epoch, String description) {
        next.roundTransportChanged(epoch, description);
    }

    @Override
    public void skipped(String flag, ValidationReport report) {
        next.skipped(flag, report);
    }

    @Override
    public void roundTraffic(int epoch, int round, RoundTraffic traffic) {
        trafficCounted = true;
        metrics.roundTraffic(traffic);
        next.roundTraffic(epoch, round, traffic);
    }

    @Override
    public void roundEnded(RoundRecord record) {
        if (!trafficCounted) {
            // The transport did not count this round's bytes (e.g. a job per round after an executor loss).
            metrics.roundTraffic(null);
        }
        trafficCounted = false;
        metrics.roundEnded(record);
        next.roundEnded(record);
    }

    @Override
    public void replicasRejected(int epoch, int round, List<String> reasons) {
        metrics.replicasRejected(reasons.size());
        next.replicasRejected(epoch, round, reasons);
    }

    @Override
    public void epochEnded(EpochRecord record) {
        metrics.epochEnded();
        next.epochEnded(record);
    }

    @Override
    public void resumed(String checkpoint, int epochsDone, int batchesDone, int stepsPerEpoch, int iteration) {
        next.resumed(checkpoint, epochsDone, batchesDone, stepsPerEpoch, iteration);
    }

    @Override
    public void outputLockTakenOver(String notice) {
        next.outputLockTakenOver(notice);
    }

    @Override
    public void checkpointRejected(String why) {
        next.checkpointRejected(why);
    }

    @Override
    public void checkpointWritten(String manifest, int epochsDone, int batchesDone) {
        metrics.checkpointWritten();
        next.checkpointWritten(manifest, epochsDone, batchesDone);
    }

    @Override
    public void earlyStopped(int epoch, int bestEpoch, double bestValLoss, boolean restoredBest) {
        next.earlyStopped(epoch, bestEpoch, bestValLoss, restoredBest);
    }

    @Override
    public void foldStarted(int fold, int folds) {
        if (next instanceof DistributedTrainer.FoldProgress f) {
            f.foldStarted(fold, folds);
        }
    }

    @Override
    public void foldEnded(int fold, int folds, TrainingResult result) {
        if (next instanceof DistributedTrainer.FoldProgress f) {
            f.foldEnded(fold, folds, result);
        }
    }
}
