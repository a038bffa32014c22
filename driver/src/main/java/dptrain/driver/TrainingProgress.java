package dptrain.driver;

import dptrain.driver.input.ValidationReport;
import dptrain.driver.rounds.EpochRecord;
import dptrain.driver.rounds.RoundRecord;
import dptrain.driver.rounds.RoundTraffic;

/** Receives a training run's progress on the driver. Every method does nothing unless overridden. */
public interface TrainingProgress {

    /**
     * The data is ready and the first round is about to start.
     *
     * @param trainingExamples   examples each epoch trains on
     * @param validationExamples examples held out for validation
     * @param stepsPerEpoch      minibatches the busiest replica trains on per epoch
     * @param roundsPerEpoch     averaging rounds per epoch
     * @param workerMinibatch    examples per minibatch per replica (the batch size, split as --batch-scope says)
     */
    default void started(long trainingExamples, long validationExamples, int stepsPerEpoch, int roundsPerEpoch,
            int workerMinibatch) {
    }

    /**
     * How the averaging rounds travel, e.g. "one Spark job per round" (see
     * {@code spark.dptrain.roundExchange} in DEPLOY.md); said once, before the first round.
     */
    default void roundTransport(String description) {
    }

    /**
     * At the start of {@code epoch} (or of its validation), cached minibatches crowded onto one
     * executor after an executor loss were dropped, to be rebuilt where their tasks run (see
     * {@code CachePlacement}); {@code notice} says which and why.
     */
    default void cacheRespread(int epoch, String notice) {
    }

    /**
     * From {@code epoch} on, rounds travel differently from the epoch before, e.g. a job per round
     * while an executor lost since has no replacement, and back; {@code description} says how and why.
     */
    default void roundTransportChanged(int epoch, String description) {
    }

    /** Reading the data named by {@code flag} left out bad records (only under --on-bad-record skip). */
    default void skipped(String flag, ValidationReport report) {
    }

    /** An averaging round ended; its state is the run's current state. */
    default void roundEnded(RoundRecord record) {
    }

    /**
     * Bytes a round moved over the network, where the transport counts them (the replicas averaging
     * among themselves): the driver's and one replica's (partition 0's). Called before
     * {@link #roundEnded} of the same round; never called when the transport does not count them.
     */
    default void roundTraffic(int epoch, int round, RoundTraffic traffic) {
    }

    /**
     * Replicas were rejected in a round for a non-finite loss or parameters; the round averaged the
     * others. Each reason names the partition and the step, e.g. {@code "partition 1: the loss is NaN
     * at step 3 of the round"}.
     */
    default void replicasRejected(int epoch, int round, java.util.List<String> reasons) {
    }

    /** An epoch ended (after its validation). */
    default void epochEnded(EpochRecord record) {
    }

    /**
     * The run continues from a checkpoint rather than from the spec's initialization.
     *
     * @param checkpoint   the checkpoint's manifest
     * @param epochsDone   epochs it had completed
     * @param batchesDone  minibatches per replica it had trained of the next epoch
     * @param stepsPerEpoch minibatches per replica per epoch
     * @param iteration    optimizer steps taken so far
     */
    default void resumed(String checkpoint, int epochsDone, int batchesDone, int stepsPerEpoch, int iteration) {
    }

    /** The run took over its output folder's lock from a run that is gone (see {@code OutputLock}). */
    default void outputLockTakenOver(String notice) {
    }

    /** A checkpoint (or a leftover of an interrupted write) was not used; {@code why} names the file. */
    default void checkpointRejected(String why) {
    }

    /** A checkpoint was written and is complete. */
    default void checkpointWritten(String manifest, int epochsDone, int batchesDone) {
    }

    /** Early stopping ended the run after {@code epoch}; {@code bestEpoch} had the lowest val_loss. */
    default void earlyStopped(int epoch, int bestEpoch, double bestValLoss, boolean restoredBest) {
    }
}
