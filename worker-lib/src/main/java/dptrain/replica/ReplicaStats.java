package dptrain.replica;

import java.io.Serializable;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What one replica (or, once merged, every replica) did in a round: examples seen, optimizer steps, loss summed
 * over examples, what the outputs scored against the targets (correct predictions, or regression errors; see
 * {@link OutputTally}), and compute seconds. Immutable; merging adds counts and keeps the slowest replica's
 * seconds, which bounds the round.
 */
public record ReplicaStats(long examples, long steps, long maxStepsPerReplica, double lossSum, long correct,
        double absoluteErrors, double squaredErrors, double computeSeconds, double maxComputeSeconds)
        implements Serializable {

    public static final ReplicaStats NONE = new ReplicaStats(0, 0, 0, 0.0, 0, 0.0, 0.0, 0.0, 0.0);

    static ReplicaStats ofReplica(long examples, long steps, double lossSum, OutputTally tally, double seconds) {
        return new ReplicaStats(examples, steps, steps, lossSum, tally.correct(), tally.absoluteErrors(),
                tally.squaredErrors(), seconds, seconds);
    }

    public ReplicaStats plus(ReplicaStats other) {
        return new ReplicaStats(examples + other.examples, steps + other.steps,
                Math.max(maxStepsPerReplica, other.maxStepsPerReplica), lossSum + other.lossSum,
                correct + other.correct, absoluteErrors + other.absoluteErrors, squaredErrors + other.squaredErrors,
                computeSeconds + other.computeSeconds, Math.max(maxComputeSeconds, other.maxComputeSeconds));
    }

    /** Mean loss per example, NaN when no example was seen. */
    public double meanLoss() {
        return examples == 0 ? Double.NaN : lossSum / examples;
    }

    /** Fraction of examples predicted correctly, NaN when no example was seen. */
    public double accuracy() {
        return examples == 0 ? Double.NaN : (double) correct / examples;
    }

    /**
     * The metric Keras calls {@code name}: {@code accuracy}, or for regression {@code mae}, {@code mse} or
     * {@code rmse} (the root of the mean squared error over all examples, as Keras's RootMeanSquaredError
     * accumulates it); NaN when no example was seen.
     *
     * @throws IllegalArgumentException for any other name
     */
    public double metric(String name) {
        if (examples == 0) {
            return Double.NaN;
        }
        return switch (name) {
            case "accuracy" -> accuracy();
            case "mae" -> absoluteErrors / examples;
            case "mse" -> squaredErrors / examples;
            case "rmse" -> Math.sqrt(squaredErrors / examples);
            default -> throw new IllegalArgumentException("unknown metric " + name
                    + "; expected accuracy, mae, mse or rmse");
        };
    }

    /** The metrics {@code names}, in that order, by name (see {@link #metric}). */
    public Map<String, Double> metrics(List<String> names) {
        Map<String, Double> values = new LinkedHashMap<>();
        names.forEach(name -> values.put(name, metric(name)));
        return values;
    }
}
