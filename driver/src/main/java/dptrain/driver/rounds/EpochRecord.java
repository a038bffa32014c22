package dptrain.driver.rounds;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * One epoch of the history, in Keras's terms plus what averaging did.
 *
 * @param epoch              1-based
 * @param loss               mean training loss over the epoch's minibatches (as Keras reports it)
 * @param metrics            the model's metrics over the epoch, measured during training, by Keras name in the
 *                           model's order: {@code accuracy}, or for regression {@code mae}, {@code mse}, {@code rmse}
 * @param valLoss            validation loss after the epoch, NaN without validation
 * @param valMetrics         the same metrics on the validation data after the epoch, empty without validation
 * @param seconds            wall time of the epoch, validation included
 * @param examples           training examples seen
 * @param averagingRounds    parameter averagings in the epoch
 * @param stepsPerReplica    optimizer steps the busiest replica took
 * @param stepsTotal         optimizer steps summed over replicas
 * @param replicaComputeSeconds sum over rounds of the slowest replica's compute time
 */
public record EpochRecord(int epoch, double loss, Map<String, Double> metrics, double valLoss,
        Map<String, Double> valMetrics, double seconds, long examples, int averagingRounds, long stepsPerReplica,
        long stepsTotal, double replicaComputeSeconds) {

    public EpochRecord {
        metrics = Collections.unmodifiableMap(new LinkedHashMap<>(metrics == null ? Map.of() : metrics));
        valMetrics = Collections.unmodifiableMap(new LinkedHashMap<>(valMetrics == null ? Map.of() : valMetrics));
    }

    /** The training metric {@code name}, NaN when the model does not report it. */
    public double metric(String name) {
        return metrics.getOrDefault(name, Double.NaN);
    }

    /** The validation metric {@code name}, NaN without validation or when the model does not report it. */
    public double valMetric(String name) {
        return valMetrics.getOrDefault(name, Double.NaN);
    }

    /** Training accuracy, NaN for a regression model. */
    public double accuracy() {
        return metric("accuracy");
    }

    /** Validation accuracy, NaN without validation or for a regression model. */
    public double valAccuracy() {
        return valMetric("accuracy");
    }

    /**
     * The Keras-style progress line, e.g. {@code Epoch 3/5 - 3.4s - loss: 0.3421 - accuracy: 0.8765}, or
     * {@code ... - loss: 28.1 - mae: 3.9} for regression.
     */
    public String progressLine(int epochs) {
        StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "Epoch %d/%d - %.1fs - loss: %.4f",
                epoch, epochs, seconds, loss));
        metrics.forEach((name, value) -> line.append(String.format(Locale.ROOT, " - %s: %.4f", name, value)));
        if (!Double.isNaN(valLoss)) {
            line.append(String.format(Locale.ROOT, " - val_loss: %.4f", valLoss));
            valMetrics.forEach((name, value) -> line.append(String.format(Locale.ROOT, " - val_%s: %.4f", name,
                    value)));
        }
        return line.toString();
    }
}
