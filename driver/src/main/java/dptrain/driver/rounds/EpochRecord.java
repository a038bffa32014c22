package dptrain.driver.rounds;

/**
 * One epoch of the history, in Keras's terms plus what averaging did.
 *
 * @param epoch              1-based
 * @param loss               mean training loss over the epoch's minibatches (as Keras reports it)
 * @param accuracy           training accuracy over the epoch, measured during training
 * @param valLoss            validation loss after the epoch, NaN without validation
 * @param valAccuracy        validation accuracy after the epoch, NaN without validation
 * @param seconds            wall time of the epoch, validation included
 * @param examples           training examples seen
 * @param averagingRounds    parameter averagings in the epoch
 * @param stepsPerReplica    optimizer steps the busiest replica took
 * @param stepsTotal         optimizer steps summed over replicas
 * @param replicaComputeSeconds sum over rounds of the slowest replica's compute time
 */
public record EpochRecord(int epoch, double loss, double accuracy, double valLoss, double valAccuracy,
        double seconds, long examples, int averagingRounds, long stepsPerReplica, long stepsTotal,
        double replicaComputeSeconds) {

    /** The Keras-style progress line, e.g. {@code Epoch 3/5 - 3.4s - loss: 0.3421 - accuracy: 0.8765}. */
    public String progressLine(int epochs) {
        StringBuilder line = new StringBuilder(String.format(java.util.Locale.ROOT,
                "Epoch %d/%d - %.1fs - loss: %.4f - accuracy: %.4f", epoch, epochs, seconds, loss, accuracy));
        if (!Double.isNaN(valLoss)) {
            line.append(String.format(java.util.Locale.ROOT, " - val_loss: %.4f - val_accuracy: %.4f", valLoss, valAccuracy));
        }
        return line.toString();
    }
}
