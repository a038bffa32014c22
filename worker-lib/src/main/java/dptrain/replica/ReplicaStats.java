package dptrain.replica;

import java.io.Serializable;

/**
 * What one replica (or, once merged, every replica) did in a round: examples seen, optimizer steps,
 * loss summed over examples, correct predictions, and compute seconds. Immutable; merging adds
 * counts and keeps the slowest replica's seconds, which bounds the round.
 */
public record ReplicaStats(long examples, long steps, long maxStepsPerReplica, double lossSum, long correct,
        double computeSeconds, double maxComputeSeconds) implements Serializable {

    public static final ReplicaStats NONE = new ReplicaStats(0, 0, 0, 0.0, 0, 0.0, 0.0);

    static ReplicaStats ofReplica(long examples, long steps, double lossSum, long correct, double seconds) {
        return new ReplicaStats(examples, steps, steps, lossSum, correct, seconds, seconds);
    }

    public ReplicaStats plus(ReplicaStats other) {
        return new ReplicaStats(examples + other.examples, steps + other.steps,
                Math.max(maxStepsPerReplica, other.maxStepsPerReplica), lossSum + other.lossSum,
                correct + other.correct, computeSeconds + other.computeSeconds,
                Math.max(maxComputeSeconds, other.maxComputeSeconds));
    }

    /** Mean loss per example, NaN when no example was seen. */
    public double meanLoss() {
        return examples == 0 ? Double.NaN : lossSum / examples;
    }

    /** Fraction of examples predicted correctly, NaN when no example was seen. */
    public double accuracy() {
        return examples == 0 ? Double.NaN : (double) correct / examples;
    }
}
