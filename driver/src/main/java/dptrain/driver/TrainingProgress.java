package dptrain.driver;

/** Receives a training run's progress on the driver. Every method does nothing unless overridden. */
public interface TrainingProgress {

    /**
     * The data is ready and the first round is about to start.
     *
     * @param trainingExamples   examples each epoch trains on
     * @param validationExamples examples held out for validation
     * @param stepsPerEpoch      minibatches the busiest replica trains on per epoch
     * @param roundsPerEpoch     averaging rounds per epoch
     */
    default void started(long trainingExamples, long validationExamples, int stepsPerEpoch, int roundsPerEpoch) {
    }

    /** Reading the data named by {@code flag} left out bad records (only under --on-bad-record skip). */
    default void skipped(String flag, ValidationReport report) {
    }

    /** An epoch ended (after its validation). */
    default void epochEnded(EpochRecord record) {
    }
}
